"""``cloudjudge manage createuser``: a generated initial password printed once,
the department made if new, the password change forced at the first login,
errors in Japanese with a non-zero exit status."""

from __future__ import annotations

import io

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.test import Client

from cloudjudge.web.accounts import mfa
from cloudjudge.web.accounts.models import Department, Role, User
from cloudjudge.web.accounts.passwords import character_classes
from cloudjudge.web.audit.models import Action, AuditEntry

from .helpers import log_in, path_of

pytestmark = pytest.mark.django_db


def create(*args: str) -> str:
    out = io.StringIO()
    call_command("createuser", *args, stdout=out)
    return out.getvalue()


def test_createuser_prints_the_password_once_and_forces_a_change(argon2_hashing):
    output = create("tanaka", "--role", "applicant", "--department", "kikaku", "--email", "t@x.jp")
    lines = output.strip().splitlines()
    password = lines[-1]
    assert output.count(password) == 1
    assert len(password) == 16 and len(character_classes(password)) == 4
    assert "課「kikaku」（kikaku）を作成しました。" in output
    assert "ユーザー「tanaka」（申請者・kikaku）を作成しました。" in output
    assert "初回ログイン時にパスワードの変更が必要です。" in output

    user = User.objects.get(username="tanaka")
    assert user.role == Role.APPLICANT and user.department.code == "kikaku"
    assert user.email == "t@x.jp" and user.must_change_password and not user.is_staff
    assert user.password.startswith("argon2$") and password not in user.password
    entry = AuditEntry.objects.get(action=Action.CREATE, object_type="accounts.user")
    assert entry.object_id == str(user.pk) and password not in str(entry.after)

    # The printed password logs in, and the first page is the password change.
    client = Client()
    assert log_in(client, "tanaka", password).status_code == 302
    assert path_of(client.get("/")) == "/accounts/password/"
    new = "Tanaka-no-Pass-2026"
    response = client.post(
        "/accounts/password/",
        {"old_password": password, "new_password1": new, "new_password2": new},
    )
    assert path_of(response) == "/"
    assert client.get("/").status_code == 200


def test_an_existing_department_is_used_and_a_new_one_can_be_named(department):
    create("suzuki", "--role", "applicant", "--department", department.code)
    assert User.objects.get(username="suzuki").department == department
    output = create(
        "sato", "--role", "security", "--department", "joho", "--department-name", "情報政策課"
    )
    assert Department.objects.get(code="joho").name == "情報政策課"
    assert "二要素認証" in output  # the security office enrols at the first login


def test_a_mandatory_role_changes_the_password_then_enrols():
    password = create("ciso1", "--role", "ciso").strip().splitlines()[-1]
    user = User.objects.get(username="ciso1")
    assert user.department is None and mfa.is_mandatory(user)
    client = Client()
    log_in(client, "ciso1", password)
    assert path_of(client.get("/")) == "/accounts/password/"
    new = "Toukatsu-Sekinin-2026"
    client.post(
        "/accounts/password/",
        {"old_password": password, "new_password1": new, "new_password2": new},
    )
    assert path_of(client.get("/")) == "/accounts/mfa/setup/"


def test_an_administrator_gets_the_admin_site_for_users_only():
    create("kanri", "--role", "admin", "--department", "ict")
    user = User.objects.get(username="kanri")
    assert user.is_staff and not user.is_superuser
    assert user.has_perm("accounts.change_user") and user.has_perm("accounts.add_department")
    assert user.has_perm("axes.delete_accessattempt")
    assert not user.has_perm("register.change_service")
    assert not user.has_perm("register.change_application")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x", "--role", "mayor"], "役割「mayor」は使えません。次のいずれかを指定してください: "),
        (["x", "--role", "applicant"], "申請者には所属の課（--department）が必要です。"),
        (["x y", "--role", "auditor"], "ユーザー名「x y」は使えません。"),
        (["x", "--role", "auditor", "--email", "nope"], "メールアドレス「nope」の形式"),
        (["x", "--role", "auditor", "--department", "総務"], "課のコード「総務」は使えません。"),
    ],
)
def test_errors_are_in_japanese(args, message):
    with pytest.raises(CommandError, match=message):
        create(*args)
    assert not User.objects.filter(username__in=["x", "x y"]).exists()


def test_an_existing_user_is_refused(applicant):
    with pytest.raises(CommandError, match=f"ユーザー「{applicant.username}」は既に存在します。"):
        create(applicant.username, "--role", "auditor")


def test_errors_exit_non_zero_through_the_command_line(applicant, capsys):
    utility = ManagementUtility(["cloudjudge manage", "createuser", "y", "--role", "king"])
    with pytest.raises(SystemExit) as exit_info:
        utility.execute()
    assert exit_info.value.code == 1
    assert "役割「king」は使えません。" in capsys.readouterr().err
