"""``cloudjudge rejudge --version NEW [--dry-run] [--export FILE] [--as USER]``:
re-judge every application not ended against criteria version NEW.

With ``--dry-run`` nothing changes: the report says per application how the
verdict, approvals and required items would change, worst first. Without
it the version is applied (``register.rejudge.apply``), batch by batch, each
batch one transaction; a run that was cut off resumes where it stopped when
the command is run again. A progress bar goes to standard error on a terminal.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cloudjudge.catalog import CatalogError
from cloudjudge.catalog.versions import find_catalog
from cloudjudge.labels import APPROVER_LABELS, label
from cloudjudge.web.accounts.models import User
from cloudjudge.web.documents import exports
from cloudjudge.web.register import rejudge


class Command(BaseCommand):
    help = (
        "台帳の終了していない申請を、判断基準の版 NEW で判定し直す。--dry-run では何も変えず、"
        "申請ごとの判定・承認・必要な対策の変化を（悪くなるものから）報告する。"
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version names the criteria version here, not Django's.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--version", required=True, metavar="NEW", help="判断基準の版")
        parser.add_argument("--dry-run", action="store_true", help="何も変えずに報告だけする")
        parser.add_argument(
            "--export", metavar="FILE", help="報告を CSV（.csv）か Excel（.xlsx）に書き出す"
        )
        parser.add_argument("--as", dest="actor", metavar="USER", help="記録する実行者の利用者名")
        parser.add_argument("--no-progress", action="store_true", help="進捗を表示しない")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=rejudge.BATCH_SIZE,
            help=f"1 トランザクションで判定し直す件数（既定 {rejudge.BATCH_SIZE}）",
        )

    def handle(self, *args, **options):
        try:
            catalog = find_catalog(options["version"])
        except CatalogError as exc:
            raise CommandError(str(exc)) from None
        actor = None
        if options["actor"]:
            actor = User.objects.filter(username=options["actor"]).first()
            if actor is None:
                raise CommandError(f"利用者 {options['actor']} はいません")
        show = not options["no_progress"] and sys.stderr.isatty()
        if options["dry_run"] or options["export"]:
            with tqdm(total=0, desc="判定", unit="件", disable=not show, file=sys.stderr) as bar:
                result = rejudge.report(catalog, progress=_updater(bar))
            if options["export"]:
                self._export(result, Path(options["export"]))
            if options["dry_run"]:
                self._print(result)
                return
        try:
            rejudge.check_applicable(catalog)
        except rejudge.NotInForce as exc:
            raise CommandError(str(exc)) from None
        with tqdm(total=0, desc="適用", unit="件", disable=not show, file=sys.stderr) as bar:
            run = rejudge.apply(
                catalog, actor, progress=_updater(bar), batch_size=max(1, options["batch_size"])
            )
        self.stdout.write(
            f"判断基準 {catalog.label} で {run.done:,} 件を判定し直しました: "
            f"変化 {run.changed:,} 件、見直しが必要へ {run.worsened:,} 件"
        )

    def _export(self, result: rejudge.Report, path: Path) -> None:
        rows = exports.rejudge_rows(result.changes)
        if path.suffix == ".csv":
            data = exports.csv_bytes(exports.REJUDGE_COLUMNS, rows)
        elif path.suffix == ".xlsx":
            data = exports.xlsx_bytes(exports.REJUDGE_COLUMNS, rows, sheet_title="再判定")
        else:
            raise CommandError(f"{path}: 書き出せるのは .csv か .xlsx です")
        try:
            path.write_bytes(data)
        except OSError as exc:
            raise CommandError(f"{path}: 書き出せません: {exc.strerror}") from None

    def _print(self, result: rejudge.Report) -> None:
        changed = result.changed
        self.stdout.write(
            f"判断基準 {result.catalog.label} で判定し直すと（試行、何も変えていません）: "
            f"終了していない申請 {result.total:,} 件のうち {len(changed):,} 件が変わり、"
            f"{result.worse:,} 件の判定が悪くなります"
        )
        for change in changed:
            parts = [change.verdict_words]
            if change.approvals_added:
                names = "・".join(label(APPROVER_LABELS, a) for a in change.approvals_added)
                parts.append(f"承認の追加 {names}")
            if change.approvals_removed:
                names = "・".join(label(APPROVER_LABELS, a) for a in change.approvals_removed)
                parts.append(f"承認の削除 {names}")
            if change.required_added:
                parts.append(f"対策の追加 {'・'.join(change.required_added)}")
            if change.required_removed:
                parts.append(f"対策の削除 {'・'.join(change.required_removed)}")
            self.stdout.write(f"{change.number} {change.service}: {'、'.join(parts)}")
        if result.unreadable:
            self.stdout.write(f"判定できない申請（事実が不足）: {', '.join(result.unreadable)}")


def _updater(bar: tqdm):
    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return update
