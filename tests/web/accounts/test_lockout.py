"""Login throttling with django-axes: after five failures in a row the user
name is locked out from that address for thirty minutes, with a Japanese page;
the administrator can lift it with ``manage axes_reset_username``."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from cloudjudge.web.audit.models import Action, AuditEntry

from .helpers import PASSWORD, log_in, path_of

pytestmark = pytest.mark.django_db

ADDRESS = "198.51.100.7"


@pytest.fixture
def hanako(applicant):
    applicant.set_password(PASSWORD)
    applicant.save()
    return applicant


def test_the_lockout_settings():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 30 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AUTHENTICATION_BACKENDS[0].endswith("LockoutBackend")


def test_five_failures_lock_the_account_from_that_address(hanako):
    client = Client(REMOTE_ADDR=ADDRESS)
    for attempt in range(1, 5):
        response = log_in(client, hanako.username, f"wrong-password-{attempt}")
        assert response.status_code == 200, attempt
        assert "ユーザー名またはパスワードが正しくありません。" in response.content.decode()

    response = log_in(client, hanako.username, "wrong-password-5")
    assert response.status_code == 429
    page = response.content.decode()
    assert "ログインがロックされています" in page
    assert "ログインに 5 回続けて失敗したため" in page
    assert "30 分後にもう一度お試しください。" in page
    assert "システム管理者に連絡してください" in page
    assert response.headers["Content-Security-Policy"]

    # Now even the right password is refused from there ...
    response = log_in(client, hanako.username, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # ... every attempt is in the audit trail ...
    assert AuditEntry.objects.filter(action=Action.LOGIN_FAILED).count() == 6
    assert not AuditEntry.objects.filter(action=Action.LOGIN).exists()

    # ... but not from another address, and other users are not affected.
    other = Client(REMOTE_ADDR="203.0.113.9")
    assert path_of(log_in(other, hanako.username, PASSWORD)) == "/"


def test_a_success_before_the_limit_starts_counting_again(hanako):
    client = Client(REMOTE_ADDR=ADDRESS)
    for _ in range(4):
        log_in(client, hanako.username, "wrong-password")
    assert path_of(log_in(client, hanako.username, PASSWORD)) == "/"
    client.post("/accounts/logout/")
    for _ in range(4):
        assert log_in(client, hanako.username, "wrong-password").status_code == 200
    assert path_of(log_in(client, hanako.username, PASSWORD)) == "/"


def test_the_administrator_unlocks_with_axes_reset_username(hanako):
    client = Client(REMOTE_ADDR=ADDRESS)
    for _ in range(5):
        log_in(client, hanako.username, "wrong-password")
    assert log_in(client, hanako.username, PASSWORD).status_code == 429

    out = io.StringIO()
    call_command("axes_reset_username", hanako.username, stdout=out)
    assert path_of(log_in(client, hanako.username, PASSWORD)) == "/"


def test_authenticate_without_a_request_still_checks_the_password(hanako):
    """Operator code on the server (shell, commands) has no address to lock."""
    from django.contrib.auth import authenticate

    assert authenticate(username=hanako.username, password=PASSWORD) == hanako
    assert authenticate(username=hanako.username, password="wrong") is None
