"""``cloudjudge manage directory_sync``: ask the LDAP directory about every
open LDAP account and bring it up to date (run it daily, beside the reminders).

Role and department are refreshed as at a sign-in; an account deleted from
the directory or taken out of every mapped group is closed, so its open work
shows on the dashboard as unowned the same day, not only when its owner next
tries to sign in. Every change is in the audit trail. If the directory cannot
be asked (unreachable, TLS or the service account refused) the command stops
there with exit status 1, leaving that account and the rest as they were: an
outage never closes anyone's account.

OpenID Connect has no such query: an account the provider no longer signs in
keeps its role here until an administrator closes it (docs/deploy.md).
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cloudjudge.web.accounts import directory, ldap_signin
from cloudjudge.web.accounts.models import Source

OUTCOMES = {
    "ok": "確認済み",
    "no_mapped_group": "対象グループに所属していないため無効化",
    "not_in_directory": "ディレクトリに存在しないため無効化",
}


class Command(BaseCommand):
    help = (
        "LDAP ディレクトリのアカウントを確認し、役割・所属を更新する。ディレクトリから削除された"
        "アカウント、対象グループから外れたアカウントは無効化する。"
    )

    def handle(self, *args, **options):
        if not settings.CLOUDJUDGE_LDAP_ENABLED:
            raise CommandError("LDAP ディレクトリが設定されていません（CLOUDJUDGE_LDAP_URL）。")
        counts = dict.fromkeys(OUTCOMES, 0)
        for user in directory.directory_users(Source.LDAP):
            try:
                outcome = ldap_signin.check(user)
            except ldap_signin.DirectoryUnavailable as exc:
                raise CommandError(
                    f"ディレクトリに問い合わせできませんでした（{exc}）。"
                    f"「{user.get_username()}」以降のアカウントは変更していません。"
                ) from None
            counts[outcome] += 1
            if outcome != "ok":
                self.stdout.write(f"{user.get_username()}: {OUTCOMES[outcome]}")
        summary = "、".join(f"{OUTCOMES[k]} {n} 件" for k, n in counts.items())
        self.stdout.write(f"LDAP アカウント {sum(counts.values())} 件: {summary}")
