"""Two-factor authentication through the real pages: enrolment at the first
login of a role that requires it, the token at later logins, recovery codes
(one use each), optional enrolment for applicants."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cloudjudge.web.accounts import mfa
from cloudjudge.web.accounts.models import Role
from cloudjudge.web.audit.models import Action, AuditEntry

from .helpers import PASSWORD, log_in, path_of, recovery_codes, token, unthrottle, wrong

pytestmark = pytest.mark.django_db

DASHBOARD = "/"


@pytest.fixture
def person(make_user):
    def make(role=Role.SECURITY, **fields):
        user = make_user(role, **fields)
        user.set_password(PASSWORD)
        user.save()
        return user

    return make


def enrol(client: Client, user) -> tuple[TOTPDevice, list[str]]:
    """Log in and go through the enrolment pages; the device and the codes shown."""
    log_in(client, user.username)
    client.get(reverse("otp_setup"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("otp_setup"), {"otp_token": token(device)})
    assert path_of(response) == reverse("otp_recovery_codes")
    page = client.get(response.url).content.decode()
    device.refresh_from_db()
    return device, recovery_codes(page)


@pytest.mark.parametrize("role", [Role.SECURITY, Role.CISO, Role.AUDITOR, Role.ADMIN])
def test_a_mandatory_role_must_enrol_before_reaching_anything(client, person, role):
    user = person(role)
    response = log_in(client, user.username)
    assert response.status_code == 302

    # The dashboard (and every other page) sends them to the enrolment page.
    for url in (DASHBOARD, reverse("register:list"), reverse("account_settings")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert path_of(response) == reverse("otp_setup"), url
    # The token page is not for them yet: they have nothing to give a token from.
    assert path_of(client.get(reverse("otp_verify"))) == reverse("otp_setup")

    page = client.get(reverse("otp_setup"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "二要素認証の設定" in html and "必須" in html
    assert re.search(r'<svg [^>]*class="qr"', html), "the QR code is inline SVG"
    assert "<path" in html and "style=" not in html.split('class="qr"', 1)[1].split("</svg>")[0]
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = mfa.secret_base32(device)
    assert secret in html and len(secret.replace(" ", "")) == 32
    assert "otpauth://" not in html  # the QR code holds it; the page shows the key
    assert page.headers["Cache-Control"].startswith("max-age=0")

    # The same secret until it is confirmed (reloading does not change it).
    client.get(reverse("otp_setup"))
    assert TOTPDevice.objects.filter(user=user).count() == 1

    # A wrong token is refused; nothing is confirmed.
    response = client.post(reverse("otp_setup"), {"otp_token": wrong(token(device))})
    assert response.status_code == 200
    assert "コードが正しくありません" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert path_of(client.get(DASHBOARD)) == reverse("otp_setup")

    # The right token confirms the device and verifies the session.
    unthrottle(device)
    response = client.post(reverse("otp_setup"), {"otp_token": token(device)})
    assert path_of(response) == reverse("otp_recovery_codes")
    device.refresh_from_db()
    assert device.confirmed
    codes = recovery_codes(client.get(response.url).content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get(DASHBOARD).status_code == 200

    # The codes were shown once: the page now sends to the settings.
    assert path_of(client.get(reverse("otp_recovery_codes"))) == reverse("account_settings")
    assert AuditEntry.objects.filter(
        action=Action.UPDATE, object_id=str(user.pk), after={"two_factor": "authenticator"}
    ).exists()


def test_later_logins_ask_for_the_token(person):
    user = person(Role.CISO)
    device, _ = enrol(Client(), user)

    client = Client()
    response = log_in(client, user.username)
    assert response.status_code == 302
    response = client.get(DASHBOARD)
    assert path_of(response) == reverse("otp_verify")
    # With a device, the enrolment page is closed until the token is given:
    # a stolen password must not be enough to replace the authenticator.
    assert path_of(client.get(reverse("otp_setup"))) == reverse("otp_verify")

    page = client.get(response.url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'autocomplete="one-time-code"' in html and 'name="otp_token"' in html

    response = client.post(
        reverse("otp_verify") + "?next=/applications/", {"otp_token": wrong(token(device, 1))}
    )
    assert response.status_code == 200
    assert "コードが正しくないか、既に使われたコードです。" in response.content.decode()
    assert path_of(client.get(DASHBOARD)) == reverse("otp_verify")
    failed = AuditEntry.objects.filter(action=Action.LOGIN_FAILED).last()
    assert failed.actor == user and failed.extra["second_factor"] is True

    unthrottle(device)
    response = client.post(
        reverse("otp_verify"), {"otp_token": token(device, 1), "next": "/applications/"}
    )
    assert response.status_code == 302 and response.url == "/applications/"
    assert client.get(DASHBOARD).status_code == 200


def test_a_token_is_not_accepted_twice(person):
    user = person(Role.AUDITOR)
    device, _ = enrol(Client(), user)
    first = Client()
    log_in(first, user.username)
    code = token(device, 1)
    assert first.post(reverse("otp_verify"), {"otp_token": code}).status_code == 302

    second = Client()
    log_in(second, user.username)
    response = second.post(reverse("otp_verify"), {"otp_token": code})
    assert response.status_code == 200
    assert path_of(second.get(DASHBOARD)) == reverse("otp_verify")


def test_wrong_tokens_are_throttled(person):
    user = person(Role.SECURITY)
    device, _ = enrol(Client(), user)
    client = Client()
    log_in(client, user.username)
    client.post(reverse("otp_verify"), {"otp_token": wrong(token(device, 1))})
    # Straight after a failure even the right code must wait.
    response = client.post(reverse("otp_verify"), {"otp_token": token(device, 1)})
    assert response.status_code == 200
    assert "数秒待って" in response.content.decode()


def test_each_recovery_code_works_once(person):
    user = person(Role.SECURITY)
    _, codes = enrol(Client(), user)
    assert StaticToken.objects.filter(device__user=user).count() == 10

    client = Client()
    log_in(client, user.username)
    response = client.post(reverse("otp_verify"), {"otp_token": codes[0].upper()})
    assert path_of(response) == DASHBOARD
    page = client.get(DASHBOARD).content.decode()
    assert "回復コードでログインしました。残りの回復コードは 9 個です。" in page
    assert StaticToken.objects.filter(device__user=user).count() == 9

    again = Client()
    log_in(again, user.username)
    response = again.post(reverse("otp_verify"), {"otp_token": codes[0]})
    assert response.status_code == 200
    assert "既に使われたコード" in response.content.decode()
    assert path_of(again.get(DASHBOARD)) == reverse("otp_verify")

    unthrottle(user.staticdevice_set.get())
    response = again.post(reverse("otp_verify"), {"otp_token": codes[1]})
    assert path_of(response) == DASHBOARD
    assert again.get(DASHBOARD).status_code == 200
    assert StaticToken.objects.filter(device__user=user).count() == 8


def test_new_recovery_codes_replace_the_old_ones(person):
    user = person(Role.ADMIN)
    client = Client()
    _, old = enrol(client, user)
    response = client.post(reverse("otp_recovery_regenerate"))
    assert path_of(response) == reverse("otp_recovery_codes")
    new = recovery_codes(client.get(response.url).content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert set(
        StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    ) == set(new)


def test_an_applicant_works_without_a_second_factor(person):
    applicant = person(Role.APPLICANT)
    client = Client()
    response = log_in(client, applicant.username)
    assert path_of(response) == DASHBOARD
    assert client.get(DASHBOARD).status_code == 200
    assert client.get(reverse("register:list")).status_code == 200
    page = client.get(reverse("account_settings")).content.decode()
    assert "二要素認証" in page and "無効" in page


def test_an_applicant_may_enrol_and_is_then_asked_at_login(person):
    applicant = person(Role.APPLICANT)
    device, codes = enrol(Client(), applicant)
    assert device.confirmed and len(codes) == 10

    client = Client()
    log_in(client, applicant.username)
    assert path_of(client.get(DASHBOARD)) == reverse("otp_verify")
    client.post(reverse("otp_verify"), {"otp_token": token(device, 1)})
    assert client.get(DASHBOARD).status_code == 200

    # ... and may turn it off again (a verified session only).
    response = client.post(reverse("otp_disable"))
    assert path_of(response) == reverse("account_settings")
    assert not mfa.has_device(applicant)
    fresh = Client()
    log_in(fresh, applicant.username)
    assert fresh.get(DASHBOARD).status_code == 200


def test_a_mandatory_role_cannot_turn_it_off(person):
    user = person(Role.CISO)
    client = Client()
    enrol(client, user)
    response = client.post(reverse("otp_disable"), follow=True)
    assert "あなたの役割では二要素認証が必須です。" in response.content.decode()
    assert mfa.has_device(user)


def test_logout_is_always_open(person):
    user = person(Role.SECURITY)
    client = Client()
    log_in(client, user.username)
    response = client.post(reverse("logout"))
    assert path_of(response) == reverse("login")
    assert path_of(client.get(DASHBOARD)) == reverse("login")


def test_an_htmx_request_is_redirected_as_a_whole_page(person):
    user = person(Role.SECURITY)
    client = Client()
    log_in(client, user.username)
    response = client.get(reverse("register:list"), headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("otp_setup")


def test_reset_mfa_command_lets_the_user_enrol_again(person):
    user = person(Role.CISO)
    enrol(Client(), user)
    out = io.StringIO()
    call_command("reset_mfa", user.username, stdout=out)
    assert "二要素認証を解除しました" in out.getvalue()
    assert not mfa.has_device(user)
    client = Client()
    log_in(client, user.username)
    assert path_of(client.get(DASHBOARD)) == reverse("otp_setup")


def test_login_helper_of_the_other_tests_marks_a_real_device(login, security, applicant):
    """``tests/web/conftest.py``'s ``login`` passes the second factor the way
    django-otp does, with a real confirmed device; applicants get none."""
    assert login(security).get(DASHBOARD).status_code == 200
    assert TOTPDevice.objects.filter(user=security, confirmed=True).exists()
    assert login(applicant).get(DASHBOARD).status_code == 200
    assert not mfa.has_device(applicant)
