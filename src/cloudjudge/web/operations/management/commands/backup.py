"""``cloudjudge backup FILE``: the database and the evidence files in one archive.

See ``cloudjudge.web.operations.backup`` for what is inside. Prints the archive's
SHA-256 on the last line: note it where the backup is kept, and compare it
(``sha256sum FILE``) before restoring."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cloudjudge.web.operations.backup import VENDOR_NAMES, BackupError, make_backup


class Command(BaseCommand):
    help = (
        "データベース（SQLite: オンラインバックアップ API、PostgreSQL: pg_dump）と証跡ファイルを、"
        "SHA-256 付きのマニフェストとともに 1 つのアーカイブ（tar.gz）に書き出す。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help="書き出すアーカイブ（例: backup.tar.gz）")
        parser.add_argument("--force", action="store_true", help="FILE が既にあるとき上書きする")

    def handle(self, *args, **options):
        say = self.stderr.write if options["verbosity"] >= 1 else (lambda message: None)
        try:
            result = make_backup(options["file"], force=options["force"], say=say)
        except BackupError as exc:
            raise CommandError(str(exc), returncode=1) from None
        manifest = result.manifest
        for name in result.missing:
            self.stderr.write(
                self.style.WARNING(f"警告: データベースが参照しているファイルがありません: {name}")
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"バックアップを作成しました: {result.path}"
                f"（{VENDOR_NAMES[manifest['database']['vendor']]}、"
                f"ファイル {len(manifest['files'])} 件）"
            )
        )
        self.stdout.write(f"SHA-256: {result.sha256}")
