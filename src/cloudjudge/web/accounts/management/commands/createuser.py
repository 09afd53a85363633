"""``cloudjudge manage createuser NAME --role ROLE --department DEPT``.

Creates a user with a generated initial password that satisfies the password
policy, prints it once (alone on the last line) and sets
``must_change_password``: the user chooses their own at the first login.
Roles that require two-factor authentication enrol their authenticator app
at the first login too. The department is looked up by code and created if
new (named ``--department-name``, else the code). Errors in Japanese, exit
status 1.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email, validate_slug
from django.db import transaction

from cloudjudge.web.accounts import mfa, roles
from cloudjudge.web.accounts.models import Department, Role, User
from cloudjudge.web.accounts.passwords import generate_password
from cloudjudge.web.audit import trail
from cloudjudge.web.audit.models import Action

ROLE_LABELS = {
    Role.APPLICANT: "申請者",
    Role.SECURITY: "セキュリティ担当",
    Role.CISO: "統括情報セキュリティ責任者",
    Role.AUDITOR: "監査者",
    Role.ADMIN: "システム管理者",
}


class Command(BaseCommand):
    help = (
        "ユーザーを作成し、初期パスワードを一度だけ表示する（初回ログイン時に変更が必要）。"
        "ROLE は applicant, security, ciso, auditor, admin のいずれか。"
    )

    def add_arguments(self, parser):
        parser.add_argument("username", metavar="NAME", help="ユーザー名（ログイン名）")
        parser.add_argument("--role", required=True, help="役割: " + ", ".join(Role.values))
        parser.add_argument(
            "--department",
            metavar="DEPT",
            help="所属の課のコード（なければ作成する）。申請者には必須",
        )
        parser.add_argument(
            "--department-name", metavar="NAME", help="課を新しく作るときの名称（既定: コード）"
        )
        parser.add_argument("--email", metavar="E", default="", help="メールアドレス")
        parser.add_argument("--last-name", default="", help="姓")
        parser.add_argument("--first-name", default="", help="名")

    def handle(self, *args, **options):
        username = options["username"].strip()
        role = options["role"].strip()
        email = options["email"].strip()
        code = (options["department"] or "").strip()

        if role not in Role.values:
            raise CommandError(
                f"役割「{role}」は使えません。次のいずれかを指定してください: "
                + ", ".join(Role.values)
            )
        try:
            User.username_validator(username)
        except ValidationError:
            raise CommandError(
                f"ユーザー名「{username}」は使えません。"
                "英数字と @ . + - _ で 150 文字以内にしてください。"
            ) from None
        if User.objects.filter(username=username).exists():
            raise CommandError(f"ユーザー「{username}」は既に存在します。")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise CommandError(f"メールアドレス「{email}」の形式が正しくありません。") from None
        if role == Role.APPLICANT and not code:
            raise CommandError("申請者には所属の課（--department）が必要です。")
        if code:
            try:
                validate_slug(code)
            except ValidationError:
                raise CommandError(
                    f"課のコード「{code}」は使えません。英数字・ハイフン・下線で指定してください。"
                ) from None

        with transaction.atomic():
            department, created = self.department(code, options["department_name"])
            user = User(
                username=username,
                email=email,
                role=role,
                department=department,
                last_name=options["last_name"],
                first_name=options["first_name"],
                must_change_password=True,
            )
            roles.set_role(user, role)
            password = generate_password(user)
            user.set_password(password)
            user.save()
            roles.grant_permissions(user)
            trail.record(
                Action.CREATE,
                obj=user,
                after=trail.snapshot(user),
                extra={"via": "manage createuser"},
            )

        if created:
            self.stdout.write(f"課「{department.name}」（{department.code}）を作成しました。")
        where = f"・{department.name}" if department else ""
        self.stdout.write(f"ユーザー「{username}」（{ROLE_LABELS[role]}{where}）を作成しました。")
        notes = "初回ログイン時にパスワードの変更が必要です。"
        if mfa.is_mandatory(user):
            notes += "この役割では、初回ログイン時に二要素認証（認証アプリ）の設定も必要です。"
        self.stdout.write(notes)
        self.stdout.write(
            "初期パスワード（この一度だけ表示します。本人に安全な方法で伝えてください）:"
        )
        self.stdout.write(password)

    def department(self, code: str, name: str | None) -> tuple[Department | None, bool]:
        if not code:
            return None, False
        department = Department.objects.filter(code=code).first()
        if department is not None:
            return department, False
        name = (name or "").strip() or code
        if Department.objects.filter(name=name).exists():
            raise CommandError(f"課の名称「{name}」は別のコードで既に使われています。")
        return Department.objects.create(code=code, name=name), True
