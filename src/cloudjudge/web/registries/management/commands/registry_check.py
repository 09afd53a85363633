"""``registry_check [--days N]``: re-check every service in use; exit 1 when any
listing expired, expires within N days, was withdrawn, left the list, is
unknown or cannot be checked (cron-able)."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from cloudjudge import registries as core
from cloudjudge.web.registries import reporting
from cloudjudge.web.registries.checking import check_in_use
from cloudjudge.web.registries.management.commands._common import EXIT_INVALID

EXIT_ALERTS = 1


class Command(BaseCommand):
    help = (
        "利用中（承認・利用中・見直し期限・利用終了手続中）の全サービスの掲載を登録簿で確認し、"
        "期限切れ・期限間近・取下げ・リストから削除・該当なし・登録簿未取込のものを表示する。"
        "1 件でもあれば終了状態 1（cron 向け）。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=core.DEFAULT_DAYS_AHEAD,
            help="この日数以内に有効期限を迎えるものを期限間近とする"
            f"（既定: {core.DEFAULT_DAYS_AHEAD}）",
        )
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args, days=core.DEFAULT_DAYS_AHEAD, format="text", **options):
        if days < 0:
            raise CommandError("--days は 0 以上にしてください", returncode=EXIT_INVALID)
        report = check_in_use(
            days=days, progress=lambda items: reporting.progress(items, desc="確認")
        )
        if format == "json":
            reporting.write_json(self.stdout, report.as_dict())
        else:
            reporting.write_check(self.stdout, report)
        self.stdout.flush()
        if report.alerts:
            sys.exit(EXIT_ALERTS)
