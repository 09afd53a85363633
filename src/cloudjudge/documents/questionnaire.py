"""The vendor questionnaire: an .xlsx the security office sends, the vendor
fills in, and cloudjudge reads back.

The workbook has three sheets:

- 表紙 (cover): the service, the applying department, the application number,
  the due date, instructions in Japanese, and the identity code.
- 回答 (answers): one row per required SEL/S1/S2/EXIT item. ID, clause and
  requirement text are locked; 回答 (a drop-down), 説明 and 根拠資料 are not.
  A hidden, locked column G repeats the application number on every row, so
  rows pasted from another application's questionnaire are recognised.
- _cloudjudge (hidden): the identity (application number, criteria version,
  item IDs and their fingerprint).

Sheets are protected **without a password** and the workbook structure is
locked (no password either): protection stops slips, not a determined editor,
so :func:`read_questionnaire` checks everything itself. The identity is kept
both in the hidden sheet and as plain cells on the cover, because a workbook
re-saved by LibreOffice may lose defined names, hidden states or validations,
but keeps cell values; either copy is enough to import.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import re
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from cloudjudge.catalog import Catalog, default_catalog
from cloudjudge.catalog.schema import Item
from cloudjudge.documents.cells import put_text
from cloudjudge.documents.models import QuestionnaireRequest, asks_vendor, in_questionnaire_group
from cloudjudge.documents.packages import MiB, PackageLimits, PackageRefused, inspect_package
from cloudjudge.labels import (
    ANSWER_CHOICES,
    ANSWER_STATUS,
    CHECKLIST_STATUS_LABELS,
    PARTY_LABELS,
    label,
)
from cloudjudge.presentation.dates import DateStyle, format_date

FORMAT = "cloudjudge-questionnaire/1"

COVER_SHEET = "表紙"
ANSWER_SHEET = "回答"
IDENTITY_SHEET = "_cloudjudge"

#: The answer sheet's columns: (letter, header, width).
COLUMNS: tuple[tuple[str, str, float], ...] = (
    ("A", "ID", 9),
    ("B", "区分・条項", 22),
    ("C", "要件", 62),
    ("D", "回答", 11),
    ("E", "説明", 40),
    ("F", "根拠資料", 26),
    ("G", "申請番号", 14),
)
HEADERS = {letter: header for letter, header, _ in COLUMNS}
ID_COL, CLAUSE_COL, TEXT_COL, ANSWER_COL, NOTE_COL, EVIDENCE_COL, APP_COL = (
    letter for letter, _, _ in COLUMNS
)
FIRST_ROW = 2

COVER_NUMBER_LABEL = "申請番号"
COVER_CODE_LABEL = "識別コード"

_FONT = "游ゴシック"
_SIZE = 10
_LINE_HEIGHT = 16.0
_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="D9E1F2")
_INPUT_FILL = PatternFill("solid", fgColor="FFF9E5")
_LABEL_FILL = PatternFill("solid", fgColor="F2F2F2")
_TOP_WRAP = Alignment(vertical="top", wrap_text=True)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)

INSTRUCTIONS: tuple[str, ...] = (
    "「回答」シートの各項目について、回答欄（D 列）のプルダウンから「対応可」「一部対応」"
    "「対応不可」「該当なし」のいずれかを選んでください。",
    "「一部対応」「対応不可」の場合は、説明欄（E 列）に現状、代替策、"
    "対応予定時期を記入してください。"
    "「該当なし」の場合は、説明欄にその理由を必ず記入してください。",
    "根拠資料欄（F 列）には、回答を裏付ける資料の名称と該当箇所"
    "（例: SLA 第 3 条、ISMS 認証登録証、監査報告書 p.12）を記入し、資料を併せて提出してください。",
    "ID・区分・要件の欄は変更しないでください。行の追加・削除、シートの追加・削除もしないでください。"
    "変更された質問票は取り込めません（行の並べ替えは差し支えありません）。",
    "シートは誤操作防止のため保護されています（パスワードなし）。回答欄・説明欄・根拠資料欄だけを編集できます。",
    "回答期限までに、この質問票を Excel 形式（.xlsx）のまま問い合わせ先へ返送してください。"
    "LibreOffice 等で編集する場合も .xlsx 形式で保存してください。",
)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class StatusProposal:
    """A checklist change the questionnaire proposes, for the reviewer to accept."""

    item_id: str
    #: Checklist status code (``labels.CHECKLIST_STATUS_LABELS``).
    status: str
    status_label: str
    #: The vendor's answer as a checklist note (answer, explanation, evidence).
    note: str
    #: The reason for 該当なし (the vendor's explanation); empty otherwise.
    reason: str


@dataclass(frozen=True)
class Answer:
    """The vendor's answer to one item. ``answer`` is None when left blank."""

    item_id: str
    answer: str | None
    explanation: str
    evidence: str
    #: The row of the 回答 sheet the answer was read from.
    row: int

    @property
    def answered(self) -> bool:
        return self.answer is not None

    @property
    def proposal(self) -> StatusProposal | None:
        """The proposed checklist status, or None for an unanswered item."""
        if self.answer is None:
            return None
        status = ANSWER_STATUS[self.answer]
        lines = [f"事業者回答: {self.answer}"]
        if self.explanation:
            lines.append(f"説明: {self.explanation}")
        if self.evidence:
            lines.append(f"根拠資料: {self.evidence}")
        return StatusProposal(
            item_id=self.item_id,
            status=status,
            status_label=CHECKLIST_STATUS_LABELS[status],
            note="\n".join(lines),
            reason=self.explanation if status == "not_applicable" else "",
        )


def proposals(answers: Iterable[Answer]) -> list[StatusProposal]:
    """The proposed checklist statuses of the answered items."""
    return [p for a in answers if (p := a.proposal) is not None]


@dataclass(frozen=True)
class QuestionnaireProblem:
    """One reason a workbook cannot be imported, located as a person finds it."""

    sheet: str
    row: int | None
    column: str | None
    message: str

    @property
    def location(self) -> str:
        where = f"シート「{self.sheet}」" if self.sheet else "ブック"
        if self.row is not None:
            where += f" {self.row} 行目"
        if self.column is not None:
            header = HEADERS.get(self.column) if self.sheet == ANSWER_SHEET else None
            where += f" {self.column} 列" + (f"（{header}）" if header else "")
        return where

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class QuestionnaireError(ValueError):
    """The workbook was not imported; ``problems`` says where and why."""

    def __init__(self, problems: Iterable[QuestionnaireProblem]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# --------------------------------------------------------------------------- identity


def fingerprint(application_number: str, criteria_version: str, item_ids: Sequence[str]) -> str:
    """A short code that changes when the application or its item list does."""
    text = "\n".join((FORMAT, application_number, criteria_version, *item_ids))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _expected_code(app: QuestionnaireRequest) -> str:
    return fingerprint(app.application_number, app.criteria_version, app.item_ids)


# --------------------------------------------------------------------------- building


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in text)


def _lines(text: str, width: float) -> int:
    room = max(1, int(width) - 1)
    return sum(max(1, math.ceil(_display_width(p) / room)) for p in text.split("\n"))


def _row_height(cells: Iterable[tuple[str, float]]) -> float:
    return max(_lines(text, width) for text, width in cells) * _LINE_HEIGHT + 4


def requirement_text(item: Item) -> str:
    """The requirement as shown to the vendor: the short name, then the verbatim text."""
    if not item.title or item.text.startswith(item.title):
        return item.text
    return f"【{item.title}】\n{item.text}"


def clause_text(item: Item, catalog: Catalog) -> str:
    title = catalog.clause(item.clause).title if catalog.has_clause(item.clause) else ""
    return f"{item.clause}\n{title}" if title else item.clause


def _items(app: QuestionnaireRequest, catalog: Catalog) -> list[Item]:
    if app.criteria_version and app.criteria_version != catalog.label:
        raise ValueError(
            f"判定の判断基準 {app.criteria_version} と、"
            f"指定された判断基準 {catalog.label} が異なります"
        )
    missing = [i for i in app.item_ids if not catalog.has_item(i)]
    if missing:
        raise ValueError(f"判断基準 {catalog.label} に項目 {', '.join(missing)} がありません")
    if not app.item_ids:
        raise ValueError("この申請には事業者に確認する項目（SEL・S1・S2・EXIT）がありません")
    return [catalog.item(i) for i in app.item_ids]


def _date(value: date | None, style: DateStyle) -> str:
    return format_date(value, style) if value else "（未定）"


def _page_setup(ws: Worksheet, *, header: str) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[union-attr]  # always made
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.7
    ws.oddHeader.center.text = header  # type: ignore[union-attr]
    ws.oddHeader.center.size = 9  # type: ignore[union-attr]
    ws.oddFooter.center.text = "&P / &N"  # type: ignore[union-attr]
    ws.oddFooter.center.size = 9  # type: ignore[union-attr]


def _protect(ws: Worksheet) -> None:
    """Protect without a password; rows and columns may still be resized."""
    ws.protection.sheet = True
    ws.protection.formatRows = False
    ws.protection.formatColumns = False
    ws.protection.selectLockedCells = False
    ws.protection.selectUnlockedCells = False


def _cover(
    ws: Worksheet, app: QuestionnaireRequest, catalog: Catalog, code: str, count: int
) -> None:
    font = Font(name=_FONT, size=_SIZE)
    widths = {"A": 18, "B": 34, "C": 34, "D": 34}
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width
    put_text(ws["A1"], "クラウドサービス 事業者確認票（質問票）")
    ws["A1"].font = Font(name=_FONT, size=16, bold=True)
    ws.merge_cells("A1:D1")
    ws.row_dimensions[1].height = 30
    put_text(
        ws["A2"],
        f"{catalog.publisher}「{catalog.title}」第 {catalog.version} 版に基づき、"
        "サービス及びサービス提供者の対策状況を確認します。",
    )
    ws["A2"].font = font
    ws["A2"].alignment = _TOP_WRAP
    ws.merge_cells("A2:D2")
    ws.row_dimensions[2].height = 22
    fields = [
        (COVER_NUMBER_LABEL, app.application_number),
        ("サービス名", app.service_name),
        ("提供事業者", app.provider or "—"),
        ("申請部署", app.department),
        ("回答期限", _date(app.due_date, app.date_style)),
        ("発行日", _date(app.issued_on, app.date_style)),
        ("問い合わせ先（返送先）", app.contact or app.department),
        ("判断基準", catalog.label),
        ("確認項目数", f"{count} 項目"),
        (COVER_CODE_LABEL, code),
    ]
    row = 4
    for name, value in fields:
        # The values come from the application (service name, provider, contact, …):
        # whatever they start with, the vendor's Excel gets text, never a formula.
        label_cell = put_text(ws.cell(row, 1), name)
        value_cell = put_text(ws.cell(row, 2), value)
        label_cell.font = Font(name=_FONT, size=_SIZE, bold=True)
        label_cell.fill = _LABEL_FILL
        value_cell.font = font
        for col in range(1, 5):
            ws.cell(row, col).border = _BORDER
            ws.cell(row, col).alignment = Alignment(vertical="center", wrap_text=True)
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=4)
        ws.row_dimensions[row].height = 20
        row += 1
    row += 1
    put_text(ws.cell(row, 1), "記入要領").font = Font(name=_FONT, size=12, bold=True)
    row += 1
    text_width = sum(widths.values())
    for n, text in enumerate(INSTRUCTIONS, start=1):
        line = f"{n}. {text}"
        cell = put_text(ws.cell(row, 1), line)
        cell.font = font
        cell.alignment = _TOP_WRAP
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=4)
        ws.row_dimensions[row].height = _row_height([(line, text_width)])
        row += 1
    _page_setup(ws, header=f"事業者確認票　申請番号 {app.application_number}")
    ws.print_area = f"A1:D{row}"
    _protect(ws)


def _answers(ws: Worksheet, app: QuestionnaireRequest, catalog: Catalog, items: list[Item]) -> None:
    font = Font(name=_FONT, size=_SIZE)
    for letter, header, width in COLUMNS:
        ws.column_dimensions[letter].width = width
        cell = put_text(ws[f"{letter}1"], header)
        cell.font = Font(name=_FONT, size=_SIZE, bold=True)
        cell.fill = _HEAD_FILL
        cell.alignment = _CENTER
        cell.border = _BORDER
    ws.column_dimensions[APP_COL].hidden = True
    ws.row_dimensions[1].height = 20
    widths = {letter: width for letter, _, width in COLUMNS}
    for offset, item in enumerate(items):
        row = FIRST_ROW + offset
        values = {
            ID_COL: item.id,
            CLAUSE_COL: clause_text(item, catalog),
            TEXT_COL: requirement_text(item),
            APP_COL: app.application_number,
        }
        for letter, _, _ in COLUMNS:
            cell = put_text(ws[f"{letter}{row}"], values.get(letter))
            cell.font = font
            cell.border = _BORDER
            cell.alignment = _TOP_WRAP
            if letter in (ANSWER_COL, NOTE_COL, EVIDENCE_COL):
                cell.protection = Protection(locked=False)
                cell.fill = _INPUT_FILL
        ws[f"{ANSWER_COL}{row}"].alignment = Alignment(horizontal="center", vertical="top")
        ws.row_dimensions[row].height = _row_height(
            (values[c], widths[c]) for c in (CLAUSE_COL, TEXT_COL)
        )
    last = FIRST_ROW + len(items) - 1
    choices = ",".join(ANSWER_CHOICES)
    validation = DataValidation(
        type="list",
        formula1=f'"{choices}"',
        allow_blank=True,
        showDropDown=False,  # False shows the in-cell arrow (the name is inverted in OOXML)
        showErrorMessage=True,
        errorTitle="回答の選択肢",
        error=f"{' / '.join(ANSWER_CHOICES)} から選んでください。",
        showInputMessage=True,
        promptTitle="回答",
        prompt=f"{' / '.join(ANSWER_CHOICES)} から選んでください。",
    )
    validation.add(f"{ANSWER_COL}{FIRST_ROW}:{ANSWER_COL}{last}")
    ws.add_data_validation(validation)
    ws.freeze_panes = f"A{FIRST_ROW}"
    ws.print_title_rows = "1:1"
    ws.print_area = f"A1:{EVIDENCE_COL}{last}"
    _page_setup(ws, header=f"事業者確認票　{app.service_name}（申請番号 {app.application_number}）")
    _protect(ws)


def _identity_sheet(ws: Worksheet, app: QuestionnaireRequest, code: str) -> None:
    rows = [
        ("format", FORMAT),
        ("application_number", app.application_number),
        ("criteria_version", app.criteria_version),
        ("fingerprint", code),
        ("items", ",".join(app.item_ids)),
    ]
    for n, (key, value) in enumerate(rows, start=1):
        put_text(ws.cell(n, 1), key)
        put_text(ws.cell(n, 2), value)
    ws.sheet_state = "hidden"
    _protect(ws)


def _with_catalog(
    app: QuestionnaireRequest, catalog: Catalog | None
) -> tuple[QuestionnaireRequest, Catalog]:
    """The request and the catalog it is read with: the given one, the request's,
    or the shipped one."""
    catalog = catalog or app.catalog or default_catalog()
    return (app if app.catalog is catalog else replace(app, catalog=catalog)), catalog


def build_questionnaire(app: QuestionnaireRequest, catalog: Catalog | None = None) -> bytes:
    """The questionnaire for one application, as .xlsx bytes: the items the
    provider carries out only (``QuestionnaireRequest.item_ids``)."""
    app, catalog = _with_catalog(app, catalog)
    items = _items(app, catalog)
    code = _expected_code(app)
    wb = Workbook()
    cover: Worksheet = wb.active  # type: ignore[assignment]  # a new workbook has one sheet
    cover.title = COVER_SHEET
    _cover(cover, app, catalog, code, len(items))
    _answers(wb.create_sheet(ANSWER_SHEET), app, catalog, items)
    _identity_sheet(wb.create_sheet(IDENTITY_SHEET), app, code)
    wb.active = 0
    wb.security = WorkbookProtection(lockStructure=True)
    wb.properties.title = f"事業者確認票 {app.service_name}"
    wb.properties.subject = f"申請番号 {app.application_number}"
    wb.properties.creator = "cloudjudge"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- reading

_SPACE = re.compile(r"\s+")


def _text(value: Any) -> str:
    """A cell's value as trimmed text (numbers and dates as a person typed them)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        value = value.isoformat()
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _token(value: Any) -> str:
    """IDs and choices: full-width forms folded, all whitespace removed."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", _text(value)))


def _same_text(a: str, b: str) -> bool:
    return _SPACE.sub("", a) == _SPACE.sub("", b)


#: A questionnaire is tens of kilobytes: refuse packages that would unpack to
#: more than this, before any XML is parsed (zip bombs). openpyxl holds the
#: whole workbook in memory, about ten times its XML, so this bounds memory too.
LIMITS = PackageLimits(max_unpacked=10 * MiB, max_members=200)
#: Rows of the answer sheet looked at: a few hundred items at most, with room
#: for blank rows a spreadsheet program adds. A cell far below (row 1,048,576)
#: would otherwise make the reader walk a million empty rows.
MAX_ROWS = 5_000
#: Problems listed before reading stops (a wrong file gives one per row).
MAX_PROBLEMS = 100
#: The most characters Excel puts in one cell: a longer one was written by
#: something else, and would become a checklist note no page could show.
MAX_CELL_CHARS = 32_767


def _unreadable(message: str) -> QuestionnaireError:
    return QuestionnaireError([QuestionnaireProblem("", None, None, message)])


def package_names(data: bytes) -> frozenset[str]:
    """The parts of the workbook's package, measured against :data:`LIMITS`
    before anything is unpacked; ``QuestionnaireError`` saying what was found."""
    try:
        return inspect_package(data, LIMITS, what="ブック").names
    except PackageRefused as exc:
        if exc.code == "broken":
            raise _unreadable(
                "Excel ブック（.xlsx）として読めません（.xlsx ではないか、ファイルが壊れています）"
            ) from None
        raise _unreadable(exc.message) from None


def _open(data: bytes) -> Workbook:
    """The workbook, or ``QuestionnaireError`` saying what was found: never a
    parser's exception (a broken sheet XML is the vendor's file, not our bug)."""
    package_names(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # LibreOffice's extensions, unknown styles
            return load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # ParseError, XMLSyntaxError, KeyError, … of a broken part
        detail = " ".join(str(exc).split())[:120]
        raise _unreadable(
            "Excel ブック（.xlsx）として読めません。ブックの中の XML が壊れています"
            f"（{type(exc).__name__}: {detail}）。"
            "Excel で開けるか確かめ、.xlsx で保存し直してください"
        ) from None


@dataclass(frozen=True)
class _Identity:
    sheet: str
    number: str
    number_at: tuple[int, str]
    code: str
    code_at: tuple[int, str]


def _identities(wb: Workbook) -> list[_Identity]:
    """Every copy of the identity the workbook still holds."""
    found = []
    if IDENTITY_SHEET in wb.sheetnames:
        ws = wb[IDENTITY_SHEET]
        keys = {_text(ws.cell(r, 1).value): r for r in range(1, 20)}
        if "application_number" in keys and "fingerprint" in keys:
            n, c = keys["application_number"], keys["fingerprint"]
            found.append(
                _Identity(
                    IDENTITY_SHEET,
                    _text(ws.cell(n, 2).value),
                    (n, "B"),
                    _text(ws.cell(c, 2).value),
                    (c, "B"),
                )
            )
    if COVER_SHEET in wb.sheetnames:
        ws = wb[COVER_SHEET]
        keys = {_text(ws.cell(r, 1).value): r for r in range(1, 40)}
        if COVER_NUMBER_LABEL in keys and COVER_CODE_LABEL in keys:
            n, c = keys[COVER_NUMBER_LABEL], keys[COVER_CODE_LABEL]
            found.append(
                _Identity(
                    COVER_SHEET,
                    _text(ws.cell(n, 2).value),
                    (n, "B"),
                    _text(ws.cell(c, 2).value),
                    (c, "B"),
                )
            )
    return found


def _check_identity(
    wb: Workbook, app: QuestionnaireRequest
) -> tuple[list[QuestionnaireProblem], bool]:
    """Problems with the workbook's identity, and whether they stop the import
    before its rows are read (another application's workbook, or none of ours)."""
    identities = _identities(wb)
    if not identities:
        message = (
            "cloudjudge が作成した質問票ではありません"
            "（表紙の申請番号・識別コードが見つかりません）"
        )
        return [QuestionnaireProblem("", None, None, message)], True
    for ident in identities:
        if ident.number != app.application_number:
            message = (
                f"この質問票は申請番号「{ident.number}」のものです。"
                f"申請番号「{app.application_number}」の質問票を取り込んでください。"
            )
            return [QuestionnaireProblem(ident.sheet, *ident.number_at, message)], True
    expected = _expected_code(app)
    for ident in identities:
        if ident.code != expected:
            message = (
                f"識別コード「{ident.code}」が申請の現在の確認項目と一致しません"
                f"（期待値「{expected}」）。質問票の作成後に確認項目が変わったか、"
                "質問票が変更されています。質問票を作成し直してください。"
            )
            # Not fatal: the rows below say which items differ.
            return [QuestionnaireProblem(ident.sheet, *ident.code_at, message)], False
    return [], False


def _check_headers(ws: Worksheet) -> list[QuestionnaireProblem]:
    return [
        QuestionnaireProblem(
            ANSWER_SHEET,
            1,
            letter,
            f"見出しが「{_text(ws[f'{letter}1'].value)}」に変わっています（「{header}」のはず）。"
            "列の追加・削除・並べ替えはしないでください。",
        )
        for letter, header, _ in COLUMNS
        if _text(ws[f"{letter}1"].value) != header
    ]


def _add_problem(problems: list[QuestionnaireProblem], row: int, column: str, message: str) -> None:
    problems.append(QuestionnaireProblem(ANSWER_SHEET, row, column, message))


def read_questionnaire(
    data: bytes, expected: QuestionnaireRequest, catalog: Catalog | None = None
) -> list[Answer]:
    """Read a filled questionnaire back, all or nothing.

    Returns one :class:`Answer` per expected item, in the decision's order
    (blank answers as ``answer=None``). Raises :class:`QuestionnaireError`, with
    every problem located by sheet, row and column, when the workbook belongs to
    another application, its IDs were altered, rows were added or removed, a
    requirement text was edited, an answer is outside the list, or 該当なし has no
    reason, or a row asks about a measure the city carries out itself.
    """
    expected, catalog = _with_catalog(expected, catalog)

    def city_side(item_id: str) -> bool:
        return in_questionnaire_group(item_id) and not asks_vendor(item_id, catalog)

    wb = _open(data)
    problems, fatal = _check_identity(wb, expected)
    if fatal:
        raise QuestionnaireError(problems)
    if ANSWER_SHEET not in wb.sheetnames:
        raise QuestionnaireError(
            [*problems, QuestionnaireProblem(ANSWER_SHEET, None, None, "回答シートがありません")]
        )
    ws = wb[ANSWER_SHEET]
    if ws.max_row > MAX_ROWS:
        raise QuestionnaireError(
            [
                *problems,
                QuestionnaireProblem(
                    ANSWER_SHEET,
                    ws.max_row,
                    None,
                    f"回答シートに {ws.max_row:,} 行目まで値か書式があります"
                    f"（上限 {MAX_ROWS:,} 行）。行の追加はしないでください",
                ),
            ]
        )
    header_problems = _check_headers(ws)
    if header_problems:
        raise QuestionnaireError([*problems, *header_problems])

    wanted = {item_id: n for n, item_id in enumerate(expected.item_ids)}
    seen: dict[str, int] = {}
    answers: dict[str, Answer] = {}
    letters = [letter for letter, _, _ in COLUMNS]
    rows = ws.iter_rows(min_row=FIRST_ROW, max_col=len(COLUMNS), values_only=True)
    for row, values in enumerate(rows, start=FIRST_ROW):
        if len(problems) >= MAX_PROBLEMS:
            problems.append(
                QuestionnaireProblem(
                    ANSWER_SHEET,
                    row,
                    None,
                    f"問題が多いため、{MAX_PROBLEMS} 件で読むのをやめました"
                    "（この質問票ではない別のブックではありませんか）",
                )
            )
            break
        cells = dict(zip(letters, values, strict=True))
        if all(_text(v) == "" for v in values):
            continue
        problem = functools.partial(_add_problem, problems, row)
        huge = [
            (letter, len(v))
            for letter, v in cells.items()
            if isinstance(v, str) and len(v) > MAX_CELL_CHARS
        ]
        for letter, size in huge:
            problem(
                letter,
                f"「{HEADERS[letter]}」が {size:,} 字あり、1 セルの上限（{MAX_CELL_CHARS:,} 字、"
                "Excel の上限）を超えています。",
            )
        if huge:
            continue

        item_id = _token(cells[ID_COL])
        if not item_id:
            problem(ID_COL, "ID が空です（行が追加されたか、ID が消されています）。")
            continue
        if item_id not in wanted:
            if catalog.has_item(item_id) and city_side(item_id):
                party = label(PARTY_LABELS, catalog.item(item_id).party)
                problem(
                    ID_COL,
                    f"ID「{item_id}」は{party}が実施する対策で、事業者への確認項目ではありません"
                    "（質問票に行が追加されています）。本市側の対策は事業者の回答では取り込めません。",
                )
            elif catalog.has_item(item_id):
                problem(
                    ID_COL,
                    f"ID「{item_id}」はこの申請の確認項目ではありません"
                    "（行が追加されたか、ID が書き換えられています）。",
                )
            else:
                problem(
                    ID_COL,
                    f"ID「{item_id}」は判断基準にない ID です（ID が書き換えられています）。",
                )
            continue
        if item_id in seen:
            problem(ID_COL, f"ID「{item_id}」が重複しています（{seen[item_id]} 行目と同じ）。")
            continue
        seen[item_id] = row
        owner = _text(cells[APP_COL])
        if owner != expected.application_number:
            problem(
                APP_COL,
                f"この行は申請番号「{owner}」の質問票のものです"
                f"（この質問票は申請番号「{expected.application_number}」）。"
                if owner
                else "照合用の申請番号が消されています"
                "（他の質問票から貼り付けた行の可能性があります）。",
            )
        item = catalog.item(item_id)
        if not _same_text(_text(cells[TEXT_COL]), requirement_text(item)):
            problem(TEXT_COL, f"{item_id} の要件の文言が変更されています。")
        answer = _token(cells[ANSWER_COL]) or None
        explanation = _text(cells[NOTE_COL])
        if answer is not None and answer not in ANSWER_CHOICES:
            problem(
                ANSWER_COL,
                f"回答「{_text(cells[ANSWER_COL])}」は選択肢"
                f"（{' / '.join(ANSWER_CHOICES)}）にありません。",
            )
            continue
        if answer == "該当なし" and not explanation:
            problem(NOTE_COL, "「該当なし」の場合は、説明欄に理由を記入してください。")
        answers[item_id] = Answer(item_id, answer, explanation, _text(cells[EVIDENCE_COL]), row)

    for item_id, n in wanted.items():
        if item_id not in seen:
            problems.append(
                QuestionnaireProblem(
                    ANSWER_SHEET,
                    FIRST_ROW + n,
                    ID_COL,
                    f"ID「{item_id}」の行がありません（作成時は {FIRST_ROW + n} 行目。"
                    "行が削除されたか、ID が書き換えられています）。",
                )
            )
    if problems:
        sheet_order = {IDENTITY_SHEET: 0, COVER_SHEET: 1, ANSWER_SHEET: 2}
        problems.sort(key=lambda p: (sheet_order.get(p.sheet, -1), p.row or 0, p.column or ""))
        raise QuestionnaireError(problems)
    return [answers[item_id] for item_id in expected.item_ids]
