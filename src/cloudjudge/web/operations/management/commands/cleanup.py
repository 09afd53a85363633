"""``cloudjudge cleanup [--delete] [--older-than-minutes N] [--backup-dir DIR]...``:
list (and with ``--delete`` remove) what processes killed halfway left behind.

See ``cloudjudge.web.operations.cleanup``: stored files that no row refers to
(older than N minutes, default 60) and the work folders of dead backups (in
each ``--backup-dir``) and restores (in the temporary directory). Removals
are recorded in the audit trail."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand
from django.utils import timezone

from cloudjudge.web.audit import trail
from cloudjudge.web.audit.models import Action
from cloudjudge.web.operations.cleanup import DEFAULT_GRACE, Leftover, leftovers

KIND_NAMES = {
    "file": "参照している行のない保存ファイル",
    "folder": "中断したバックアップ・復元の作業フォルダ",
}


def describe(leftover: Leftover) -> str:
    when = timezone.localtime(leftover.modified).strftime("%Y-%m-%d %H:%M")
    return f"{KIND_NAMES[leftover.kind]}: {leftover.name}（{leftover.size:,} バイト、{when} 更新）"


class Command(BaseCommand):
    help = (
        "中断した処理が残したもの（参照している行のない保存ファイル、バックアップ・復元の"
        "作業フォルダ）を一覧表示し、--delete で削除する。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--delete", action="store_true", help="一覧したものを削除する")
        parser.add_argument(
            "--older-than-minutes",
            type=int,
            default=int(DEFAULT_GRACE.total_seconds() // 60),
            metavar="N",
            help="この分数より前に保存されたファイルだけを対象にする（既定 60）",
        )
        parser.add_argument(
            "--backup-dir",
            action="append",
            default=[],
            metavar="DIR",
            help="バックアップを書き出すディレクトリ（中断したバックアップの作業フォルダを探す）",
        )

    def handle(self, *args, **options):
        grace = datetime.timedelta(minutes=max(0, options["older_than_minutes"]))
        found = leftovers(options["backup_dir"], grace)
        if not found:
            self.stdout.write("中断した処理の残りはありません。")
            return
        for leftover in found:
            self.stdout.write(describe(leftover))
        if not options["delete"]:
            self.stdout.write(
                f"{len(found)} 件あります。削除するときは --delete を付けてください。"
            )
            return
        for leftover in found:
            leftover.remove()
        trail.record(
            Action.DELETE,
            object_type="cloudjudge.leftover",
            object_repr=f"{len(found)} leftovers of interrupted work",
            extra={
                "files": [item.name for item in found if item.kind == "file"],
                "folders": [item.name for item in found if item.kind == "folder"],
            },
        )
        self.stdout.write(self.style.SUCCESS(f"{len(found)} 件を削除しました。"))
