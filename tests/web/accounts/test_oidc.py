"""Sign-in with OpenID Connect against a real provider (django-oauth-toolkit in
its own process on loopback, ``tests/oidc_provider``): the authorization code
flow with PKCE, claims to role and department, the provider's second factor,
the provider's logout, and ID tokens that are expired or altered."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse

from cloudjudge.web.accounts import directory_settings
from cloudjudge.web.accounts.models import Department, Role, Source, User
from cloudjudge.web.audit.models import Action, AuditEntry
from support.oidc_provider import PASSWORD

from .helpers import oidc_sign_in, path_of

pytestmark = pytest.mark.django_db

UNTRUSTED = "ディレクトリからの応答を信頼できないため"


@pytest.fixture
def departments(department):
    return {
        "shimin": department,
        "security": Department.objects.create(code="security", name="情報セキュリティ課"),
    }


@pytest.fixture
def oidc(directory, provider, departments):
    directory(oidc=provider)
    return provider


def sign_in(client, username, **kwargs):
    return oidc_sign_in(client, username, PASSWORD, **kwargs)


def test_the_login_page_offers_the_provider_and_the_flow_uses_pkce(client, oidc):
    page = client.get(reverse("login")).content.decode()
    assert "Example City ID でログイン" in page
    start = client.get(reverse("oidc_login"))
    query = parse_qs(urlsplit(start.url).query)
    assert start.url.startswith(oidc.issuer + "/authorize/")
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["nonce"] and query["state"]
    assert query["scope"] == ["openid profile email"]


def test_a_provider_user_signs_in_with_role_and_department_from_the_claims(
    client, oidc, departments
):
    response = sign_in(client, "sakura")
    assert response.redirect_chain[-1][0] == "/"
    page = response.content.decode()
    assert "桜井 さくら</a>（申請者・市民課）" in page
    user = User.objects.get(username="sakura@city.example.jp")
    assert user.source == Source.OIDC
    assert (user.role, user.department) == (Role.APPLICANT, departments["shimin"])
    assert user.email == "sakura@city.example.jp"
    assert not user.has_usable_password()
    (created,) = AuditEntry.objects.filter(action=Action.CREATE, object_id=str(user.pk))
    assert created.after["role"] == "applicant"
    assert created.extra == {"source": "oidc", "groups": ["cloudjudge-applicants"]}


def test_a_claim_change_at_the_provider_changes_the_role_and_is_audited(client, oidc):
    sign_in(client, "sakura")
    client.post(reverse("logout"))
    oidc.set_person("sakura", groups=["cloudjudge-auditors"], department="", email="")
    sign_in(Client(), "sakura")
    user = User.objects.get(username="sakura@city.example.jp")
    assert (user.role, user.department, user.email) == (Role.AUDITOR, None, "")
    update = AuditEntry.objects.get(action=Action.UPDATE, object_id=str(user.pk))
    assert update.before["role"] == "applicant" and update.after["role"] == "auditor"
    assert update.after["department"] is None


def test_someone_in_no_mapped_group_is_refused(client, oidc):
    response = sign_in(client, "nobody")
    assert response.redirect_chain[-1][0] == reverse("login")
    assert "cloudjudge を利用できるグループに所属していません" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(username="nobody@city.example.jp").exists()


def test_taken_out_of_every_group_the_account_is_closed(
    client, oidc, make_application, login, security
):
    sign_in(client, "sakura")
    user = User.objects.get(username="sakura@city.example.jp")
    app = make_application(user=user)
    oidc.set_person("sakura", groups=["all-staff"])
    response = sign_in(Client(), "sakura")
    assert "グループに所属していません" in response.content.decode()
    user.refresh_from_db()
    assert not user.is_active
    # Their session elsewhere ends, and their work is unowned.
    assert path_of(client.get("/")) == reverse("login")
    assert app.number in login(security).get("/").content.decode()


def test_the_providers_second_factor_is_trusted_when_amr_says_so(client, oidc):
    response = sign_in(client, "tsuyoshi")  # security office, amr: pwd mfa
    assert response.redirect_chain[-1][0] == "/"
    assert "ダッシュボード" in response.content.decode()


def test_without_a_trusted_amr_a_privileged_role_sets_up_cloudjudges_totp(client, oidc):
    response = sign_in(client, "yowai")  # security office, amr: pwd
    assert response.redirect_chain[-1][0].startswith(reverse("otp_setup"))


def test_when_the_settings_trust_no_amr_the_totp_is_asked_of_everyone(
    client, directory, provider, departments
):
    directory(oidc=provider, CLOUDJUDGE_OIDC_TRUSTED_AMR="")
    response = sign_in(client, "tsuyoshi")
    assert response.redirect_chain[-1][0].startswith(reverse("otp_setup"))


def test_logging_out_ends_the_providers_session_too(client, oidc):
    browser = requests.Session()
    sign_in(client, "sakura", browser=browser)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url.startswith(oidc.issuer + "/logout/?")
    query = parse_qs(urlsplit(response.url).query)
    assert query["post_logout_redirect_uri"] == ["http://testserver/accounts/login/"]
    assert query["id_token_hint"]
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action=Action.LOGOUT).count() == 1

    back = browser.get(response.url, allow_redirects=False, timeout=10)
    assert back.status_code == 302
    assert back.headers["Location"] == "http://testserver/accounts/login/"
    # Signed out at the provider: the next sign-in asks for the password again.
    start = Client().get(reverse("oidc_login"))
    again = browser.get(start.url, allow_redirects=False, timeout=10)
    assert "/accounts/login/" in again.headers["Location"]


def test_an_expired_id_token_is_refused(client, oidc):
    response = sign_in(client, "expired")
    assert response.redirect_chain[-1][0] == reverse("login")
    assert UNTRUSTED in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(username="expired@city.example.jp").exists()


def test_an_altered_id_token_is_refused(client, oidc):
    """The provider's signature no longer matches the claims (groups → admins)."""
    response = sign_in(client, "tamper")
    assert UNTRUSTED in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(role=Role.ADMIN).exists()


def test_an_id_token_for_another_client_or_issuer_is_refused(
    client, directory, provider, departments
):
    directory(oidc=provider, CLOUDJUDGE_OIDC_ISSUER="http://127.0.0.1:1/o")
    response = sign_in(client, "sakura")
    assert UNTRUSTED in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_callback_this_browser_did_not_ask_for_is_refused_with_a_message(client, oidc):
    response = client.get(reverse("oidc_callback"), {"code": "x", "state": "y"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("login")
    assert "ディレクトリでのサインインに失敗しました。" in response.content.decode()
    client.get(reverse("oidc_login"))  # a state in the session, but another one
    response = client.get(reverse("oidc_callback"), {"code": "x", "state": "y"}, follow=True)
    assert "ディレクトリでのサインインに失敗しました。" in response.content.decode()


def test_a_local_account_of_the_same_name_is_not_taken_over(client, oidc):
    User.objects.create_user("sakura@city.example.jp", password="Local-Password-2026!")
    response = sign_in(client, "sakura")
    assert "ローカルアカウントで使われています" in response.content.decode()
    assert User.objects.get(username="sakura@city.example.jp").source == Source.LOCAL


def test_without_configuration_there_is_no_oidc_sign_in(client, db):
    assert "でログイン</a>" not in client.get(reverse("login")).content.decode()
    assert client.get(reverse("oidc_login")).status_code == 404
    assert client.get(reverse("oidc_callback"), {"code": "x", "state": "y"}).status_code == 404


def test_production_wants_https_and_every_endpoint(provider):
    with pytest.raises(ImproperlyConfigured, match="https://"):
        directory_settings.from_environ(provider.environ(), debug=False)
    env = provider.environ(CLOUDJUDGE_OIDC_TOKEN_ENDPOINT="")
    with pytest.raises(ImproperlyConfigured, match="CLOUDJUDGE_OIDC_TOKEN_ENDPOINT"):
        directory_settings.from_environ(env, debug=True)
    env = provider.environ(CLOUDJUDGE_OIDC_SIGN_ALGO="HS256")
    with pytest.raises(ImproperlyConfigured, match="public-key"):
        directory_settings.from_environ(env, debug=True)


def test_the_logout_form_may_go_on_to_the_provider(client, oidc):
    """Browsers apply form-action to the redirect after the logout form."""
    csp = client.get(reverse("login")).headers["Content-Security-Policy"]
    assert f"form-action 'self' {oidc.url}" in csp
