"""``cloudjudge restore FILE``: put a backup made by ``cloudjudge backup`` back.

Checks the whole archive against its manifest before changing anything;
refuses another database vendor's backup, and a database that already holds
data unless ``--force``. Exit status 1 if refused, or if the audit chain does
not verify after the restore. Stop the application while restoring."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cloudjudge.web.operations.backup import VENDOR_NAMES, BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "cloudjudge backup で作ったアーカイブを検査（全ファイルの SHA-256）してから、"
        "データベースと証跡ファイルを復元する。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help="復元するアーカイブ")
        parser.add_argument(
            "--force",
            action="store_true",
            help="データのあるデータベースを上書きする（新しい版の移行を含むバックアップも復元する）",
        )

    def handle(self, *args, **options):
        say = self.stderr.write if options["verbosity"] >= 1 else (lambda message: None)
        try:
            result = restore_backup(options["file"], force=options["force"], say=say)
        except BackupError as exc:
            raise CommandError(str(exc), returncode=1) from None
        manifest = result.manifest
        self.stdout.write(
            self.style.SUCCESS(
                f"復元しました: {manifest['created_at']} 作成のバックアップ"
                f"（cloudjudge {manifest['cloudjudge_version']}、"
                f"{VENDOR_NAMES[manifest['database']['vendor']]}、ファイル {result.files} 件）"
            )
        )
        if result.pending_migrations:
            self.stdout.write(
                self.style.WARNING(
                    f"未適用の移行が {result.pending_migrations} 件あります。"
                    "cloudjudge manage migrate を実行してください。"
                )
            )
        if not result.chain_ok:
            raise CommandError(result.chain_message, returncode=1)
        self.stdout.write(result.chain_message)
