"""Sign-in with LDAP / Active Directory against a real OpenLDAP server
(``slapd`` on loopback, TLS on: the database refuses anything without it):
the login form, wrong passwords and the lockout, groups to roles, the
department attribute, someone taken out of every group or deleted from the
directory, and the TLS settings."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from cloudjudge.web.accounts import directory_settings
from cloudjudge.web.accounts.models import Department, Role, Source, User
from cloudjudge.web.audit.models import Action, AuditEntry
from support.ldap_server import PASSWORD, group_dn
from support.servers import make_ca

from .helpers import log_in, path_of

pytestmark = pytest.mark.django_db

BAD_LOGIN = "ユーザー名またはパスワードが正しくありません。"
NOT_IN_GROUP = "cloudjudge を利用できるグループに所属していません"


@pytest.fixture
def departments(department):
    return {"shimin": department} | {
        code: Department.objects.create(code=code, name=name)
        for code, name in [
            ("security", "情報セキュリティ課"),
            ("kansa", "監査委員事務局"),
            ("ict", "情報システム課"),
        ]
    }


@pytest.fixture
def ldap(directory, ldap_server, departments):
    directory(ldap=ldap_server)
    return ldap_server


@pytest.fixture
def fresh_ldap(directory, fresh_ldap_server, departments):
    directory(ldap=fresh_ldap_server)
    return fresh_ldap_server


def sign_in(client: Client, username: str, password: str = PASSWORD):
    return log_in(client, username, password)


def entries(user, action=Action.UPDATE):
    return list(
        AuditEntry.objects.filter(
            action=action, object_type="accounts.user", object_id=str(user.pk)
        ).order_by("sequence")
    )


# --------------------------------------------------------------------------- sign-in


def test_a_directory_user_signs_in_with_the_login_form(client, ldap, departments):
    page = client.get(reverse("login")).content.decode()
    assert "ディレクトリのアカウント" in page  # the hint under the form

    response = sign_in(client, "hanako")
    assert path_of(response) == "/"
    user = User.objects.get(username="hanako")
    assert user.source == Source.LDAP
    assert (user.role, user.department, user.last_name, user.first_name) == (
        Role.APPLICANT,
        departments["shimin"],
        "市民",
        "花子",
    )
    assert user.email == "hanako@city.example.jp"
    assert not user.has_usable_password()
    assert not user.is_staff
    assert user.directory_checked_at is not None
    dashboard = client.get("/").content.decode()
    assert "市民 花子</a>（申請者・市民課）" in dashboard

    # The account was made by the directory, and that is in the audit trail.
    (created,) = entries(user, Action.CREATE)
    assert created.actor is None
    assert created.after["role"] == "applicant"
    assert created.after["department"] == departments["shimin"].pk
    assert created.after["source"] == "ldap"
    assert created.extra == {"source": "ldap", "groups": [group_dn("cloudjudge-applicants")]}
    assert AuditEntry.objects.filter(action=Action.LOGIN, actor=user).count() == 1


def test_a_wrong_password_is_refused(client, ldap):
    response = sign_in(client, "hanako", "not-the-password")
    assert response.status_code == 200
    assert BAD_LOGIN in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(username="hanako").exists()
    failed = AuditEntry.objects.get(action=Action.LOGIN_FAILED)
    assert failed.extra["username"] == "hanako"


def test_five_wrong_passwords_lock_a_directory_user_out(ldap):
    client = Client(REMOTE_ADDR="198.51.100.20")
    for attempt in range(4):
        assert sign_in(client, "hanako", f"wrong-{attempt}").status_code == 200
    response = sign_in(client, "hanako", "wrong-5")
    assert response.status_code == 429
    assert "ログインがロックされています" in response.content.decode()
    # The right password does not help while the lockout lasts ...
    assert sign_in(client, "hanako").status_code == 429
    assert "_auth_user_id" not in client.session
    # ... from that address.
    assert path_of(sign_in(Client(REMOTE_ADDR="203.0.113.30"), "hanako")) == "/"


@pytest.mark.parametrize(
    ("username", "role", "dept"),
    [
        ("mamoru", Role.SECURITY, "security"),
        ("sekinin", Role.CISO, None),
        ("kansa", Role.AUDITOR, "kansa"),
        ("kanri", Role.ADMIN, "ict"),
        # In the applicants' and the security office's groups: the security office.
        ("kenmu", Role.SECURITY, "security"),
        # Through shimin-staff, a group inside the applicants' group; the
        # department attribute holds the department's name, not its code.
        ("jiro", Role.APPLICANT, "shimin"),
    ],
)
def test_groups_give_the_role_and_the_attribute_the_department(
    client, ldap, departments, username, role, dept
):
    response = sign_in(client, username)
    assert response.status_code == 302
    user = User.objects.get(username=username)
    assert user.role == role
    assert user.department == (departments[dept] if dept else None)
    assert user.is_staff == (role == Role.ADMIN)
    if role == Role.ADMIN:
        assert user.has_perm("accounts.change_user")
        assert not user.is_superuser
    if role != Role.APPLICANT:
        # Privileged roles still set up cloudjudge's TOTP: LDAP has no second factor.
        assert path_of(client.get("/")) == reverse("otp_setup")


def test_someone_in_no_mapped_group_cannot_sign_in(client, ldap):
    response = sign_in(client, "ronin")
    assert response.status_code == 200
    assert NOT_IN_GROUP in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(username="ronin").exists()


def test_a_department_cloudjudge_does_not_know_is_said_at_sign_in(client, ldap):
    response = sign_in(client, "shinki")
    page = client.get(response.url).content.decode()
    assert "所属課「kikaku」" in page or "kikaku" in page
    assert "cloudjudge に登録されていません" in page
    user = User.objects.get(username="shinki")
    assert user.department is None
    (created,) = entries(user, Action.CREATE)
    assert created.extra["department_not_found"] == "kikaku"


def test_a_local_account_of_the_same_name_is_not_taken_over(client, ldap):
    """The break-glass administrator keeps their local password, whatever the directory holds."""
    local = User.objects.create_user("hanako", password="Local-Password-2026!", role=Role.ADMIN)
    response = sign_in(client, "hanako")  # the directory's password
    assert response.status_code == 200
    assert path_of(sign_in(client, "hanako", "Local-Password-2026!")) == "/"
    local.refresh_from_db()
    assert (local.source, local.role) == (Source.LOCAL, Role.ADMIN)


def test_a_directory_account_never_signs_in_with_a_local_password(client, ldap):
    sign_in(client, "hanako")
    user = User.objects.get(username="hanako")
    user.set_password("Some-Local-Password-1!")  # e.g. set by mistake
    user.save()
    client.logout()
    assert sign_in(client, "hanako", "Some-Local-Password-1!").status_code == 200
    assert client.get(reverse("password_change")).status_code == 302


# ---------------------------------------------------------------- changes in the directory


def test_a_role_change_in_the_directory_is_applied_and_audited(client, fresh_ldap):
    sign_in(client, "hanako")
    user = User.objects.get(username="hanako")
    client.logout()
    fresh_ldap.add_to_group("hanako", "cloudjudge-security")
    fresh_ldap.set_department("hanako", "security")

    sign_in(client, "hanako")
    user.refresh_from_db()
    assert user.role == Role.SECURITY
    assert user.department.code == "security"
    (update,) = entries(user)
    assert update.before == {
        "role": "applicant",
        "department": Department.objects.get(code="shimin").pk,
    }
    assert update.after == {"role": "security", "department": user.department.pk}
    assert update.extra["source"] == "ldap"
    assert update.extra["groups"] == [group_dn("cloudjudge-security")]
    assert update.actor is None


def test_taken_out_of_every_group_they_cannot_sign_in_and_their_work_is_unowned(
    client, fresh_ldap, make_application, login, security
):
    sign_in(client, "hanako")
    hanako = User.objects.get(username="hanako")
    app = make_application(user=hanako)
    row = app.checklist_items.first()
    row.owner = hanako
    row.save()
    client.logout()

    fresh_ldap.remove_from_group("hanako", "cloudjudge-applicants")
    response = sign_in(client, "hanako")
    assert response.status_code == 200
    assert NOT_IN_GROUP in response.content.decode()
    hanako.refresh_from_db()
    assert not hanako.is_active
    (closed,) = entries(hanako)
    assert closed.before == {"is_active": True} and closed.after == {"is_active": False}
    assert closed.extra == {"source": "ldap", "reason": "no_mapped_group"}

    dashboard = login(security).get("/").content.decode()
    assert "担当者のいない作業" in dashboard
    assert app.number in dashboard
    assert row.title in dashboard
    assert "アカウント無効" in dashboard


def test_a_closed_account_stays_closed_until_an_administrator_reopens_it(client, fresh_ldap):
    sign_in(client, "hanako")
    fresh_ldap.remove_from_group("hanako", "cloudjudge-applicants")
    sign_in(Client(), "hanako")
    fresh_ldap.add_to_group("hanako", "cloudjudge-applicants")  # back in the group

    response = sign_in(Client(), "hanako")
    assert "cloudjudge のアカウントは無効になっています" in response.content.decode()
    hanako = User.objects.get(username="hanako")
    assert not hanako.is_active
    hanako.is_active = True  # the administrator, in the admin site
    hanako.save()
    assert path_of(sign_in(Client(), "hanako")) == "/"


def test_deleted_from_the_directory_the_daily_sync_closes_the_account(
    client, fresh_ldap, make_application, login, security
):
    sign_in(client, "hanako")
    sign_in(Client(), "jiro")
    hanako = User.objects.get(username="hanako")
    app = make_application(user=hanako)
    open_session = Client()
    sign_in(open_session, "hanako")

    fresh_ldap.delete_person("hanako")
    assert sign_in(Client(), "hanako").status_code == 200  # refused

    out = io.StringIO()
    call_command("directory_sync", stdout=out)
    assert "hanako: ディレクトリに存在しないため無効化" in out.getvalue()
    assert "確認済み 1 件" in out.getvalue()  # jiro
    hanako.refresh_from_db()
    assert not hanako.is_active
    assert entries(hanako)[-1].extra == {"source": "ldap", "reason": "not_in_directory"}
    # A session still open ends at its next request.
    assert path_of(open_session.get("/")) == reverse("login")
    assert app.number in login(security).get("/").content.decode()


def test_the_sync_refreshes_roles_and_closes_those_out_of_every_group(client, fresh_ldap):
    for name in ("hanako", "kenmu"):
        sign_in(Client(), name)
    fresh_ldap.remove_from_group("kenmu", "cloudjudge-security")  # applicant now
    fresh_ldap.remove_from_group("hanako", "cloudjudge-applicants")
    out = io.StringIO()
    call_command("directory_sync", stdout=out)
    assert "hanako: 対象グループに所属していないため無効化" in out.getvalue()
    assert User.objects.get(username="kenmu").role == Role.APPLICANT
    assert not User.objects.get(username="hanako").is_active


# --------------------------------------------------------------------------- TLS


def test_starttls_works_too(client, directory, ldap_server, departments):
    directory(ldap=ldap_server, CLOUDJUDGE_LDAP_START_TLS="1", CLOUDJUDGE_LDAP_URL=ldap_server.url)
    assert path_of(sign_in(client, "hanako")) == "/"


def test_a_server_certificate_from_another_ca_is_refused(
    client, directory, ldap_server, departments, tmp_path
):
    other_ca, _cert, _key = make_ca(tmp_path / "other", name="someone else's CA")
    directory(ldap=ldap_server, CLOUDJUDGE_LDAP_CA_FILE=str(other_ca))
    assert sign_in(client, "hanako").status_code == 200
    assert not User.objects.filter(username="hanako").exists()


def test_the_sync_changes_nobody_when_the_directory_cannot_be_reached(
    client, directory, ldap_server, departments, tmp_path
):
    directory(ldap=ldap_server)
    sign_in(client, "hanako")
    other_ca, _cert, _key = make_ca(tmp_path / "other", name="someone else's CA")
    directory(ldap=ldap_server, CLOUDJUDGE_LDAP_CA_FILE=str(other_ca))
    with pytest.raises(CommandError, match="ディレクトリに問い合わせできませんでした"):
        call_command("directory_sync", stdout=io.StringIO())
    assert User.objects.get(username="hanako").is_active


def test_ldap_without_tls_is_refused_at_start_up(ldap_server):
    env = ldap_server.environ(CLOUDJUDGE_LDAP_URL=ldap_server.url)  # no StartTLS
    with pytest.raises(ImproperlyConfigured, match="CLOUDJUDGE_LDAP_START_TLS"):
        directory_settings.from_environ(env, debug=True)


def test_half_made_ldap_settings_are_refused_naming_the_variable(ldap_server):
    env = ldap_server.environ(CLOUDJUDGE_LDAP_USER_BASE="")
    with pytest.raises(ImproperlyConfigured, match="CLOUDJUDGE_LDAP_USER_BASE"):
        directory_settings.from_environ(env, debug=True)
    env = {k: v for k, v in ldap_server.environ().items() if "_GROUPS_" not in k}
    with pytest.raises(ImproperlyConfigured, match="CLOUDJUDGE_LDAP_GROUPS_ADMIN"):
        directory_settings.from_environ(env, debug=True)
    env = ldap_server.environ(CLOUDJUDGE_LDAP_USER_FILTER="(uid=hanako)")
    with pytest.raises(ImproperlyConfigured, match="%\\(user\\)s"):
        directory_settings.from_environ(env, debug=True)


def test_directory_sign_in_is_off_unless_configured():
    settings = directory_settings.from_environ({}, debug=False)
    assert settings["AUTHENTICATION_BACKENDS"] == [
        "cloudjudge.web.accounts.backends.LockoutBackend",
        "cloudjudge.web.accounts.backends.LocalBackend",
    ]
    assert not settings["CLOUDJUDGE_LDAP_ENABLED"]
    assert not settings["CLOUDJUDGE_OIDC_ENABLED"]


def test_what_the_directory_does_to_accounts_reconciles_with_the_audit_log(client, fresh_ldap):
    """Accounts the directory creates, changes and closes are recorded so that
    ``audit verify`` finds the users table as the log says (no false alarm)."""
    from cloudjudge.web.audit import reconcile

    sign_in(client, "hanako")
    client.logout()
    fresh_ldap.add_to_group("hanako", "cloudjudge-security")
    fresh_ldap.set_department("hanako", "security")
    sign_in(client, "hanako")
    client.logout()
    fresh_ldap.remove_from_group("hanako", "cloudjudge-applicants")
    fresh_ldap.remove_from_group("hanako", "cloudjudge-security")
    sign_in(Client(), "hanako")
    assert not User.objects.get(username="hanako").is_active

    found = reconcile.reconcile()
    users = [f for f in found.findings if f.kind == "accounts.user"]
    assert users == [], [found.describe(f) for f in users]
