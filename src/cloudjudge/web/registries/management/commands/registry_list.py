"""``registry_list [KIND] [--status S]``: the entries, with their status today."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from cloudjudge import registries as core
from cloudjudge.web.registries import reporting
from cloudjudge.web.registries.entries import FILTER_STATUSES, search_entries
from cloudjudge.web.registries.listings import STATUS_LABELS
from cloudjudge.web.registries.management.commands._common import KIND_HELP, check_kind


class Command(BaseCommand):
    help = (
        "登録簿のエントリを表示する（種類、登録番号、本日の状態、有効期限、名称、事業者を"
        "タブ区切りで）。状態: " + "、".join(f"{s}（{STATUS_LABELS[s]}）" for s in FILTER_STATUSES)
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", metavar="KIND", nargs="?", help=KIND_HELP + "（既定: すべて）")
        parser.add_argument("--status", choices=FILTER_STATUSES, help="本日の状態で絞り込む")
        parser.add_argument("--search", "-q", default="", help="登録番号・名称・事業者で検索")
        parser.add_argument(
            "--days", type=int, default=core.DEFAULT_DAYS_AHEAD, help="期限間近とする日数"
        )
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args, kind=None, status=None, search="", days=90, format="text", **options):
        check_kind(kind)
        today = timezone.localdate()
        qs = search_entries(kind=kind or "", status=status or "", q=search, today=today, days=days)
        if format == "json":
            rows = []
            for entry in qs.iterator(chunk_size=1000):
                data = entry.to_core().as_dict()
                data["expires_on"] = entry.expires_on.isoformat() if entry.expires_on else None
                data["status"] = entry.status_on(today, days)
                data["last_checked_on"] = (
                    entry.last_checked_on.isoformat() if entry.last_checked_on else None
                )
                rows.append(data)
            reporting.write_json(self.stdout, rows)
            return
        count = 0
        for entry in qs.iterator(chunk_size=1000):
            self.stdout.write(
                reporting.entry_line(entry, str(STATUS_LABELS[entry.status_on(today, days)]))
            )
            count += 1
        self.stderr.write(f"{count} 件（{today.isoformat()} 時点）")
