"""The admin site says where each user's role comes from and does not let a
directory account's role, department or names be edited locally."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cloudjudge.web.accounts.directory_settings import LDAP_BACKEND
from cloudjudge.web.accounts.models import Role, Source, User
from cloudjudge.web.audit.models import Action, AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator(db):
    return User.objects.create_superuser("root", password="x" * 16, role=Role.ADMIN)


@pytest.fixture
def from_ldap(make_user):
    user = make_user(Role.APPLICANT, source=Source.LDAP, last_name="市民", first_name="花子")
    user.set_unusable_password()
    user.save()
    return user


def change_url(user):
    return reverse("admin:accounts_user_change", args=[user.pk])


def test_the_user_list_shows_and_filters_the_source(login, administrator, from_ldap, applicant):
    client = login(administrator)
    page = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "アカウントの管理元" in page
    assert "ディレクトリ（LDAP / Active Directory）" in page
    filtered = client.get(reverse("admin:accounts_user_changelist"), {"source__exact": "ldap"})
    assert from_ldap.username in filtered.content.decode()
    assert applicant.username not in filtered.content.decode()


def test_a_directory_accounts_role_and_department_are_read_only(
    login, administrator, from_ldap, other_department
):
    client = login(administrator)
    page = client.get(change_url(from_ldap)).content.decode()
    assert "サインインのたびにディレクトリ" in page
    assert 'name="role"' not in page
    assert 'name="department"' not in page
    assert 'name="last_name"' not in page

    # A crafted POST changes none of them.
    data = {
        "username": from_ldap.username,
        "role": Role.ADMIN,
        "department": other_department.pk,
        "last_name": "偽名",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    client.post(change_url(from_ldap), data)
    from_ldap.refresh_from_db()
    assert from_ldap.role == Role.APPLICANT
    assert from_ldap.department != other_department
    assert from_ldap.last_name == "市民"


def test_a_local_accounts_role_stays_editable(login, administrator, applicant):
    page = login(administrator).get(change_url(applicant)).content.decode()
    assert 'name="role"' in page
    assert 'name="source"' in page  # an administrator may hand it to the directory


def test_a_directory_accounts_password_cannot_be_set_here(login, administrator, from_ldap):
    client = login(administrator)
    url = reverse("admin:auth_user_password_change", args=[from_ldap.pk])
    response = client.get(url, follow=True)
    assert response.redirect_chain[-1][0] == change_url(from_ldap)
    assert "パスワードはディレクトリで管理されています" in response.content.decode()
    from_ldap.refresh_from_db()
    assert not from_ldap.has_usable_password()


def test_a_directory_account_changes_its_password_in_the_directory(client, settings, from_ldap):
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, LDAP_BACKEND]
    client.force_login(from_ldap, backend=LDAP_BACKEND)
    settings_page = client.get(reverse("account_settings")).content.decode()
    assert "パスワードはディレクトリ側で変更してください" in settings_page
    assert reverse("password_change") not in settings_page
    response = client.get(reverse("password_change"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("account_settings")


def test_an_administrator_can_close_a_directory_account(login, administrator, from_ldap):
    client = login(administrator)
    page = client.get(change_url(from_ldap)).content.decode()
    assert 'name="is_active"' in page
    data = {
        "username": from_ldap.username,
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }  # "is_active" unticked
    assert client.post(change_url(from_ldap), data).status_code == 302
    from_ldap.refresh_from_db()
    assert not from_ldap.is_active
    update = AuditEntry.objects.get(action=Action.UPDATE, object_id=str(from_ldap.pk))
    assert update.before["is_active"] is True and update.after["is_active"] is False
