"""Exports of the register: rows of plain values, then CSV or Excel bytes.

``register_rows`` and ``checklist_rows`` turn already-loaded model instances
(with what they show joined in by the caller) into lists of ``str``, ``int``,
``date`` or ``datetime``; ``iter_csv``/``csv_bytes`` and ``xlsx_bytes`` turn
such rows into a file. Nothing here queries the database or looks at who is
asking: ``export_views`` decides which rows a user may have.

Headings and labels are Japanese whatever the UI language: the files are the
city's records and are read in Excel next to the paper ones.

Text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``…,
"CSV injection") is defused by ``cloudjudge.documents.cells``: a CSV cell gets a
leading ``'``, an Excel cell is written as text.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from django.db import models
from django.utils import timezone, translation
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from cloudjudge import labels
from cloudjudge.documents import cells
from cloudjudge.web.register.models import Application, ChecklistItem, Status
from cloudjudge.web.register.rejudge import Change

Value = str | int | datetime.date | datetime.datetime | None

BOM = "\ufeff".encode()
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
CSV_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class Column:
    heading: str
    width: float  # Excel column width, in characters
    wrap: bool = False  # long text: wrapped in Excel


REGISTER_COLUMNS: tuple[Column, ...] = (
    Column("申請番号", 16),
    Column("サービス名", 30),
    Column("提供事業者", 24),
    Column("所管課", 14),
    Column("申請者", 14),
    Column("利用目的", 40, wrap=True),
    Column("機密性", 12),
    Column("接続方法", 26),
    Column("利用方法", 30),
    Column("判定", 22),
    Column("状態", 40, wrap=True),
    Column("CISO 承認要否", 14),
    Column("チェックリスト対応済", 12),
    Column("チェックリスト項目数", 12),
    Column("申請日", 12),
    Column("承認日", 12),
    Column("CISO 承認日", 12),
    Column("利用開始日", 12),
    Column("見直し期限", 12),
    Column("最終更新", 17),
)

CHECKLIST_COLUMNS: tuple[Column, ...] = (
    Column("ID", 9),
    Column("条項", 16),
    Column("対策", 40, wrap=True),
    Column("理由", 50, wrap=True),
    Column("状態", 10),
    Column("該当なしの理由", 30, wrap=True),
    Column("担当者", 14),
    Column("期限", 12),
    Column("備考", 40, wrap=True),
    Column("証跡ファイル", 36, wrap=True),
)


REJUDGE_COLUMNS: tuple[Column, ...] = (
    Column("申請番号", 16),
    Column("サービス名", 30),
    Column("所管課", 14),
    Column("状態", 14),
    Column("判定した版", 36),
    Column("現在の判定", 14),
    Column("新しい版の判定", 14),
    Column("判定の変化", 24),
    Column("追加される承認", 24),
    Column("なくなる承認", 24),
    Column("追加される対策", 40, wrap=True),
    Column("不要になる対策", 40, wrap=True),
)


# --------------------------------------------------------------------------- rows


def _japanese(choices: type[models.Choices]) -> dict[str, str]:
    """A model's choice labels in Japanese, whatever language is active."""
    with translation.override("ja"):
        return {code: str(label) for code, label in choices.choices}


def _status_line(app: Application) -> str:
    """The one status line (``workflow.state_of``), in Japanese."""
    from cloudjudge.web.register.workflow import state_of

    with translation.override("ja"):
        return str(state_of(app).line)


def _local_date(value: datetime.datetime | None) -> datetime.date | None:
    return timezone.localdate(value) if value else None


def _local_datetime(value: datetime.datetime | None) -> datetime.datetime | None:
    """Excel has no time zones: local wall-clock time, to the minute."""
    if value is None:
        return None
    return timezone.localtime(value).replace(tzinfo=None, second=0, microsecond=0)


def register_rows(applications: Iterable[Application]) -> Iterator[list[Value]]:
    """One row per application, in :data:`REGISTER_COLUMNS` order.

    Each application needs ``service``, ``department`` and ``applicant`` loaded
    and ``.progress`` set (``checklist.attach_progress``)."""
    for app in applications:
        progress = getattr(app, "progress", None)
        yield [
            app.number,
            app.service.name,
            app.service.provider,
            app.department.name,
            app.applicant.display_name,
            app.purpose,
            labels.label(labels.CONFIDENTIALITY_SHORT_LABELS, app.confidentiality),
            labels.label(labels.METHOD_LABELS, app.method),
            labels.label(labels.USAGE_LABELS, app.breakout_usage),
            labels.label(labels.VERDICT_LABELS, app.verdict) or "未判定",
            _status_line(app),
            labels.YES if app.needs_ciso_approval else labels.NO,
            progress.resolved if progress else None,
            progress.total if progress else None,
            _local_date(app.submitted_at),
            _local_date(app.approved_at),
            _local_date(app.ciso_approved_at),
            app.in_use_since,
            app.review_due,
            _local_datetime(app.updated_at),
        ]


def checklist_rows(items: Iterable[ChecklistItem]) -> Iterator[list[Value]]:
    """One row per checklist item, in :data:`CHECKLIST_COLUMNS` order.

    Each item needs ``owner`` loaded and ``evidence`` prefetched."""
    for item in items:
        yield [
            item.item_id,
            item.clause,
            item.title,
            item.reason,
            labels.label(labels.CHECKLIST_STATUS_LABELS, item.status),
            item.na_reason,
            item.owner.display_name if item.owner else "",
            item.due_date,
            item.note,
            "\n".join(ev.original_name for ev in item.evidence.all()),
        ]


# --------------------------------------------------------------------------- CSV


def rejudge_rows(changes: Iterable[Change]) -> Iterator[list[Value]]:
    """A re-judging report (``register.rejudge.report``), one row per application."""
    statuses = _japanese(Status)
    approver = labels.APPROVER_LABELS
    for change in changes:
        yield [
            change.number,
            change.service,
            change.department,
            statuses.get(change.status, change.status),
            change.old_version,
            labels.label(labels.VERDICT_LABELS, change.old_verdict),
            labels.label(labels.VERDICT_LABELS, change.new_verdict),
            change.verdict_words,
            "、".join(labels.label(approver, a) for a in change.approvals_added),
            "、".join(labels.label(approver, a) for a in change.approvals_removed),
            "、".join(change.required_added),
            "、".join(change.required_removed),
        ]


def _csv_cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return cells.csv_text(value)


class _Echo:
    """A file whose ``write`` hands the line back, for ``csv.writer``."""

    def write(self, line: str) -> str:
        return line


def iter_csv(columns: Sequence[Column], rows: Iterable[Sequence[Value]]) -> Iterator[bytes]:
    """UTF-8 with a BOM (so Excel reads it as UTF-8), CRLF line ends, the
    headings first; yielded in chunks of about :data:`CSV_CHUNK_BYTES`."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    chunk = [BOM + writer.writerow([cells.csv_text(c.heading) for c in columns]).encode()]
    size = len(chunk[0])
    for row in rows:
        line = writer.writerow([_csv_cell(v) for v in row]).encode()
        chunk.append(line)
        size += len(line)
        if size >= CSV_CHUNK_BYTES:
            yield b"".join(chunk)
            chunk, size = [], 0
    if chunk:
        yield b"".join(chunk)


def csv_bytes(columns: Sequence[Column], rows: Iterable[Sequence[Value]]) -> bytes:
    return b"".join(iter_csv(columns, rows))


#: The CSV encodings offered: (code, what the download link says).
CSV_ENCODINGS = {"utf-8": "UTF-8（BOM 付き）", "cp932": "Shift_JIS（CP932）"}
#: Characters CP932 cannot hold, listed before giving up (a wrong file would list every row).
MAX_UNENCODABLE = 20


@dataclass(frozen=True)
class Unencodable:
    """One cell CP932 cannot hold: where it is and the first character at fault."""

    line: int  # the CSV's line (1 = the headings)
    key: str  # the row's first value (the application number, the item ID)
    heading: str
    char: str

    def __str__(self) -> str:
        return (
            f"{self.line} 行目（{self.key}）の「{self.heading}」: 「{self.char}」"
            f"（U+{ord(self.char):04X}）は Shift_JIS（CP932）で表せません"
        )


class UnencodableError(ValueError):
    """The CSV was not made: ``problems`` says which cells hold what."""

    def __init__(self, problems: Sequence[Unencodable], more: bool):
        self.problems = tuple(problems)
        self.more = more
        super().__init__("\n".join(str(p) for p in self.problems))


def cp932_csv_bytes(columns: Sequence[Column], rows: Iterable[Sequence[Value]]) -> bytes:
    """The CSV in Shift_JIS (CP932, Windows' Japanese), for systems that read
    nothing else; no BOM, CRLF line ends. All or nothing: a character CP932
    cannot hold (é, 𠮷, emoji, …) is never replaced or dropped, the whole
    file is refused with :class:`UnencodableError` naming each cell."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    out = [writer.writerow([cells.csv_text(c.heading) for c in columns]).encode("cp932")]
    problems: list[Unencodable] = []
    more = False
    for line, row in enumerate(rows, start=2):
        texts = [_csv_cell(v) for v in row]
        try:
            encoded = writer.writerow(texts).encode("cp932")
        except UnicodeEncodeError:
            for text, column in zip(texts, columns, strict=True):
                bad = next((ch for ch in text if not _cp932(ch)), None)
                if bad is None:
                    continue
                if len(problems) == MAX_UNENCODABLE:
                    more = True
                    break
                problems.append(Unencodable(line, texts[0] if texts else "", column.heading, bad))
            if more:
                break
            continue
        if not problems:
            out.append(encoded)
    if problems:
        raise UnencodableError(problems, more)
    return b"".join(out)


def _cp932(ch: str) -> bool:
    try:
        ch.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


# --------------------------------------------------------------------------- Excel


def _sheet_title(title: str) -> str:
    """Excel's limits: 31 characters, none of ``[]:*?/\\``."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip("'")
    return cleaned[:31] or "Sheet1"


def xlsx_bytes(
    columns: Sequence[Column], rows: Iterable[Sequence[Value]], *, sheet_title: str
) -> bytes:
    """A workbook of one sheet, written row by row (openpyxl's write-only mode
    keeps the rows in a temporary file, not in memory): the heading row bold,
    frozen and filtered, columns sized, dates as real dates."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(sheet_title))
    # The sheet's view, columns and print setup go out with its first row: set them now.
    sheet.freeze_panes = "A2"
    _print_setup(sheet)
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    header = []
    for column in columns:
        cell = cells.put_text(WriteOnlyCell(sheet), column.heading)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        sheet.append(
            [
                _xlsx_cell(sheet, value, column, wrap)
                for value, column in zip(row, columns, strict=True)
            ]
        )
        count += 1
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A1:{last}{count + 1}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _print_setup(sheet) -> None:
    """A4 landscape, every column on the page's width (as many pages down as
    needed), the heading row printed again at the top of every page."""
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.orientation = Worksheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    sheet.oddFooter.center.text = "&P / &N"


def _xlsx_cell(sheet, value: Value, column: Column, wrap: Alignment) -> WriteOnlyCell:
    cell = cells.put_text(WriteOnlyCell(sheet), value)
    if isinstance(value, str) and column.wrap:
        cell.alignment = wrap
    elif isinstance(value, datetime.datetime):
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, datetime.date):
        cell.number_format = DATE_FORMAT
    return cell


# --------------------------------------------------------------------------- download names


def content_disposition(filename: str, fallback: str) -> str:
    """``attachment`` with the Japanese name (RFC 6266 / 5987 ``filename*``) and
    an ASCII ``filename`` for clients that do not read ``filename*``."""
    ascii_name = "".join(
        ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\;' else "_" for ch in fallback
    )
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def register_filename(today: datetime.date, extension: str) -> tuple[str, str]:
    """(Japanese name, ASCII fallback) of a register export made on ``today``."""
    stamp = today.strftime("%Y%m%d")
    return (
        f"クラウドサービス台帳_{stamp}.{extension}",
        f"cloud-service-register_{stamp}.{extension}",
    )


def rejudge_filename(label: str, extension: str) -> tuple[str, str]:
    safe = "".join(ch if ch.isalnum() or ch in ".-_" else "_" for ch in label)
    return f"再判定_{safe}.{extension}", f"rejudge_{safe}.{extension}"


def checklist_filename(application: Application) -> tuple[str, str]:
    number = application.number or str(application.pk)
    return f"チェックリスト_{number}.xlsx", f"checklist_{number}.xlsx"
