"""``cloudjudge manage reset_mfa NAME``: remove a user's authenticator app and
recovery codes (e.g. a lost phone). Their next login asks them to enrol again
if their role requires two-factor authentication. Errors in Japanese, exit 1."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cloudjudge.web.accounts import mfa
from cloudjudge.web.accounts.models import User
from cloudjudge.web.audit import trail
from cloudjudge.web.audit.models import Action


class Command(BaseCommand):
    help = "ユーザーの二要素認証（認証アプリと回復コード）を解除する（スマートフォン紛失時など）。"

    def add_arguments(self, parser):
        parser.add_argument("username", metavar="NAME", help="ユーザー名")

    def handle(self, *args, username, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"ユーザー「{username}」は存在しません。")
        removed = mfa.remove_devices(user)
        if not removed:
            self.stdout.write(f"ユーザー「{username}」には二要素認証の設定がありません。")
            return
        trail.record(
            Action.UPDATE,
            obj=user,
            before={"two_factor": "authenticator"},
            after={"two_factor": "none"},
            extra={"via": "manage reset_mfa"},
        )
        self.stdout.write(f"ユーザー「{username}」の二要素認証を解除しました。")
        if mfa.is_mandatory(user):
            self.stdout.write("次回のログイン時に認証アプリの設定をやり直す必要があります。")
