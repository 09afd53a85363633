"""Signing in through the city's directory in a real browser: once with the
login form against the OpenLDAP server, once through the OpenID Connect
provider's own login page and back, and out again at the provider.

Screenshots: ``var/screenshots/NN-directory-*.png``."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from cloudjudge.web.accounts.models import Department, Source, User
from support import ldap_server as ldap_seed
from support import oidc_provider as oidc_seed

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def city(transactional_db, directory, ldap_server, provider, live_server):
    Department.objects.create(code="shimin", name="市民課")
    directory(ldap=ldap_server, oidc=provider)
    provider.register_site(live_server.url)
    return provider


def test_sign_in_through_ldap_and_through_openid_connect(page: Page, city, shot, log_out):
    # ------------------------------------------------------------ LDAP: the login form
    page.goto("/accounts/login/")
    expect(
        page.get_by_text("ディレクトリのアカウント（パソコンへのサインインに使うもの）")
    ).to_be_visible()
    page.get_by_label("ユーザー名").fill("hanako")
    page.get_by_label("パスワード").fill(ldap_seed.PASSWORD)
    shot(page, "directory-ldap-login")
    page.get_by_role("button", name="ログイン", exact=True).click()
    expect(page.get_by_role("heading", name="ダッシュボード")).to_be_visible()
    expect(page.locator("header")).to_contain_text("市民 花子（申請者・市民課）")
    shot(page, "directory-ldap-dashboard")
    assert User.objects.get(username="hanako").source == Source.LDAP
    log_out(page)

    # ------------------------------------------------------------ OpenID Connect: there and back
    page.get_by_role("link", name="Example City ID でログイン").click()
    expect(page.get_by_role("heading", name="Example City ID サインイン")).to_be_visible()
    assert page.url.startswith(city.url)
    page.get_by_label("ID").fill("sakura")
    page.get_by_label("パスワード").fill(oidc_seed.PASSWORD)
    shot(page, "directory-oidc-provider-login")
    page.get_by_role("button", name="サインイン").click()
    expect(page.get_by_role("heading", name="ダッシュボード")).to_be_visible()
    expect(page.locator("header")).to_contain_text("桜井 さくら（申請者・市民課）")
    shot(page, "directory-oidc-dashboard")
    assert User.objects.get(username="sakura@city.example.jp").source == Source.OIDC

    # Logging out goes through the provider's logout and back to the login page ...
    page.get_by_role("button", name="ログアウト").click()
    expect(page.get_by_role("heading", name="ログイン")).to_be_visible()
    assert page.url.startswith(f"{page.url.split('/accounts/')[0]}/accounts/login/")
    assert not page.url.startswith(city.url)
    # ... and the provider asks for the password again.
    page.get_by_role("link", name="Example City ID でログイン").click()
    expect(page.get_by_role("heading", name="Example City ID サインイン")).to_be_visible()
    shot(page, "directory-oidc-logged-out-at-provider")
