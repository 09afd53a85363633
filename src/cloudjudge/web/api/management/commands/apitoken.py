"""``cloudjudge manage apitoken NAME [--name LABEL]``: issue an API token.

The token is printed once, alone on the last line (``… | tail -n 1`` for a
script), after a Japanese notice for the person at the console; only its
SHA-256 is stored. ``--list`` shows a user's tokens (prefix, label, dates),
``--revoke PREFIX`` revokes one. Issuing and revoking are recorded in the
audit trail (never the token). Errors in Japanese, exit status 1.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from cloudjudge.web.accounts.models import User
from cloudjudge.web.api.models import ApiToken
from cloudjudge.web.audit import trail
from cloudjudge.web.audit.models import Action

AUDITED = ("user", "name", "prefix", "created_at", "revoked", "revoked_at")


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"


class Command(BaseCommand):
    help = (
        "ユーザーの API トークンを発行し、最後の行に一度だけ表示する"
        "（Authorization: Bearer <トークン> で送る）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("username", metavar="NAME", help="ユーザー名")
        parser.add_argument(
            "--name", metavar="LABEL", default="", help="トークンの用途（一覧で区別するため）"
        )
        parser.add_argument("--list", action="store_true", help="発行済みのトークンを一覧する")
        parser.add_argument(
            "--revoke", metavar="PREFIX", help="この接頭辞（cj_…）のトークンを失効させる"
        )

    def handle(self, *args, **options):
        username = options["username"].strip()
        user = User.objects.filter(username=username).select_related("department").first()
        if user is None:
            raise CommandError(f"ユーザー「{username}」はいません。")
        if options["list"]:
            return self.list(user)
        if options["revoke"]:
            return self.revoke(user, options["revoke"].strip())
        if not user.is_active:
            raise CommandError(
                f"ユーザー「{username}」は無効になっています。トークンは発行しません。"
            )
        label = options["name"].strip()
        if len(label) > ApiToken._meta.get_field("name").max_length:
            raise CommandError("--name は 100 文字以内にしてください。")
        with transaction.atomic():
            row, token = ApiToken.issue(user, label)
            trail.record(
                Action.CREATE,
                obj=row,
                after=trail.snapshot(row, AUDITED),
                extra={"via": "manage apitoken"},
            )
        what = f"「{label}」" if label else ""
        self.stdout.write(
            f"ユーザー「{user.username}」（{user.get_role_display()}）の API トークン{what}を"
            f"発行しました（接頭辞 {row.prefix}）。"
            "この一度だけ表示します。Authorization: Bearer <トークン> で送ってください:"
        )
        self.stdout.write(token)

    def list(self, user: User) -> None:
        rows = list(user.api_tokens.all())
        if not rows:
            self.stdout.write(f"ユーザー「{user.username}」の API トークンはありません。")
            return
        self.stdout.write("接頭辞       状態    発行日時          最終使用          用途")
        for row in rows:
            state = "失効" if row.revoked else "有効"
            self.stdout.write(
                f"{row.prefix:<12} {state:<4}  {_when(row.created_at)}  "
                f"{_when(row.last_used_at):<16}  {row.name}"
            )

    def revoke(self, user: User, prefix: str) -> None:
        rows = list(user.api_tokens.filter(prefix=prefix, revoked=False))
        if not rows:
            raise CommandError(
                f"ユーザー「{user.username}」に、接頭辞 {prefix} の有効なトークンはありません。"
            )
        with transaction.atomic():
            for row in rows:
                row.revoke()
                trail.record(
                    Action.UPDATE,
                    obj=row,
                    before={"revoked": False},
                    after={"revoked": True},
                    extra={"via": "manage apitoken --revoke"},
                )
        self.stdout.write(f"{len(rows)} 件のトークン（{prefix}）を失効させました。")
