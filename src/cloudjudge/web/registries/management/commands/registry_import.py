"""``registry_import KIND FILE``: import a list file (see docs/registries.md)."""

from __future__ import annotations

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cloudjudge.web.registries import reporting
from cloudjudge.web.registries.importing import import_registry
from cloudjudge.web.registries.management.commands._common import (
    EXIT_INVALID,
    KIND_HELP,
    check_kind,
)


class Command(BaseCommand):
    help = (
        "公開リスト（.xlsx / .csv）を登録簿に取り込む。1 か所でも問題があれば何も取り込まず、"
        "問題をシート・行・列つきで標準エラー出力に示して終了状態 2。同じファイルは取り込み済み"
        "として何も変えない。"
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", metavar="KIND", help=KIND_HELP)
        parser.add_argument("file", metavar="FILE", help="取り込むファイル（.xlsx か .csv）")
        parser.add_argument("--user", help="取込者として記録する利用者名（既定: なし＝システム）")
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args, kind, file, user=None, format="text", **options):
        check_kind(kind)
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"ファイルがありません: {file}", returncode=EXIT_INVALID)
        importer = None
        if user:
            importer = get_user_model().objects.filter(username=user).first()
            if importer is None:
                raise CommandError(f"利用者がありません: {user}", returncode=EXIT_INVALID)
        if sys.stderr.isatty():
            sys.stderr.write(f"{path.name} を読み込んでいます…\n")
        result = import_registry(kind, path, importer)
        if format == "json":
            reporting.write_json(self.stdout, result.as_dict())
        else:
            reporting.write_import(self.stdout, self.stderr, result)
        if not result.ok:
            sys.exit(EXIT_INVALID)
