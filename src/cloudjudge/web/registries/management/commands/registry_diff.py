"""``registry_diff [KIND]``: what the current snapshot changed."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from cloudjudge import registries as core
from cloudjudge.web.registries import reporting
from cloudjudge.web.registries.entries import current_snapshots, diff_report
from cloudjudge.web.registries.management.commands._common import KIND_HELP, check_kind


class Command(BaseCommand):
    help = (
        "現行の登録簿（種類ごとの最新の取込み）が前回から追加・削除・変更したエントリを表示する。"
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", metavar="KIND", nargs="?", help=KIND_HELP + "（既定: すべて）")
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args, kind=None, format="text", **options):
        kinds = [check_kind(kind)] if kind else list(core.KINDS)
        if format == "json":
            reporting.write_json(self.stdout, diff_report(kinds))
            return
        current = current_snapshots(kinds)
        for k in kinds:
            snap = current.get(k)
            if snap is None:
                self.stdout.write(f"{core.KIND_LABELS[k]}: 未取込")
                continue
            self.stdout.write(reporting.snapshot_heading(snap))
            for line in reporting.diff_lines(snap.diff):
                self.stdout.write(line)
