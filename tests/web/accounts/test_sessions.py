"""Idle timeout (30 minutes by default) and absolute lifetime (8 hours from the
login, not extended by activity), with a notice on the login page."""

from __future__ import annotations

import datetime
import time

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client

from cloudjudge.web.accounts import sessions
from cloudjudge.web.accounts.models import Role

from .helpers import PASSWORD, log_in, path_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_in(applicant):
    applicant.set_password(PASSWORD)
    applicant.save()
    client = Client()
    assert path_of(log_in(client, applicant.username)) == "/"
    return client


def shift(client: Client, key: str, seconds_ago: float) -> None:
    session = client.session
    session[key] = time.time() - seconds_ago
    session.save()


def test_the_defaults():
    assert settings.CLOUDJUDGE_SESSION_IDLE_MINUTES == 30
    assert settings.SESSION_COOKIE_AGE == 8 * 3600


def test_a_session_idle_too_long_is_logged_out_with_a_notice(client_in):
    shift(client_in, sessions.LAST_SEEN, 29 * 60)
    assert client_in.get("/").status_code == 200  # 29 minutes: still in, and counted anew

    shift(client_in, sessions.LAST_SEEN, 31 * 60)
    response = client_in.get("/applications/?q=x")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=%2Fapplications%2F%3Fq%3Dx"
    page = client_in.get(response.url).content.decode()
    assert "30 分間操作がなかったため、ログアウトしました。" in page
    assert "_auth_user_id" not in client_in.session
    assert path_of(client_in.get("/")) == "/accounts/login/"


def test_activity_keeps_a_session_alive(client_in):
    shift(client_in, sessions.LAST_SEEN, 20 * 60)
    client_in.get("/")
    seen = client_in.session[sessions.LAST_SEEN]
    assert time.time() - seen < 5


def test_the_idle_timeout_is_configurable(client_in, settings):
    settings.CLOUDJUDGE_SESSION_IDLE_MINUTES = 5
    shift(client_in, sessions.LAST_SEEN, 6 * 60)
    response = client_in.get("/", follow=True)
    assert "5 分間操作がなかったため" in response.content.decode()


def test_the_absolute_lifetime_ends_even_an_active_session(client_in):
    shift(client_in, sessions.LOGIN_AT, 8 * 3600 - 60)
    assert client_in.get("/").status_code == 200
    shift(client_in, sessions.LOGIN_AT, 8 * 3600 + 1)
    shift(client_in, sessions.LAST_SEEN, 1)  # active a second ago
    response = client_in.get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert "ログインから 8 時間が経過したため、ログアウトしました。" in response.content.decode()


def test_the_expiry_is_fixed_at_login_and_not_extended(client_in):
    key = client_in.session.session_key
    expires = Session.objects.get(session_key=key).expire_date
    expected = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=8)
    assert abs((expires - expected).total_seconds()) < 60
    cookie = client_in.cookies[settings.SESSION_COOKIE_NAME]
    assert 8 * 3600 - 60 < int(cookie["max-age"]) <= 8 * 3600

    time.sleep(1.1)
    for _ in range(3):
        assert client_in.get("/").status_code == 200
    key = client_in.session.session_key
    assert Session.objects.get(session_key=key).expire_date == expires
    assert int(client_in.cookies[settings.SESSION_COOKIE_NAME]["max-age"]) < 8 * 3600


def test_a_mandatory_role_session_expires_too(login, make_user):
    client = login(make_user(Role.SECURITY))
    assert client.get("/").status_code == 200
    shift(client, sessions.LAST_SEEN, 31 * 60)
    assert path_of(client.get("/")) == "/accounts/login/"
