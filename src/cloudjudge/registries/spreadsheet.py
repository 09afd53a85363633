"""Reading a registry list from .xlsx or .csv into ``RegistryEntry`` values.

``read_registry(source, kind)`` returns every entry of the file or raises
``RegistryImportError`` listing every problem found; it never returns part of a
file. What it accepts is documented in ``docs/registries.md``:

* .xlsx (the workbook's sheet whose heading row matches best) or .csv in UTF-8
  (with or without BOM) or CP932, told apart by content, not by file name;
* the heading row anywhere in the first ``HEADER_SCAN_ROWS`` rows, below any
  title rows; a two-row heading with a merged parent cell (``監査対象期間`` over
  ``開始`` / ``終了``);
* heading variants and full-width characters (``columns.heading_key``);
* dates as in ``dates.parse_date``.

Blank rows are skipped, and so is a row whose only cell is a note (starting with
``※``, ``*``, ``注:`` / ``(注`` or reading ``以上``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO, Literal

from cloudjudge.registries.columns import (
    AUDIT_FIELDS,
    AUDIT_REQUIREMENT_LABEL,
    CHILD_KEYS,
    ISMAP_KINDS,
    Column,
    columns_for,
    heading_key,
    resolve,
)
from cloudjudge.registries.dates import DateError, parse_date, parse_period_end
from cloudjudge.registries.entries import (
    KIND_LABELS,
    KINDS,
    RegistryEntry,
    RegistryKind,
    normalise_number,
)
from cloudjudge.registries.problems import Problem, RegistryImportError

#: How many rows from the top are searched for the heading row.
HEADER_SCAN_ROWS = 20

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO
FileFormat = Literal["xlsx", "csv"]


@dataclass(frozen=True)
class ParsedRegistry:
    """A registry file read in full."""

    kind: RegistryKind
    entries: tuple[RegistryEntry, ...]
    sha256: str
    file_format: FileFormat
    sheet: str
    #: 1-based row of the heading (the upper row of a two-row heading).
    header_row: int
    #: Field name → the heading as written in the file, for every recognised column.
    columns: dict[str, str] = field(default_factory=dict)
    #: For CSV: ``utf-8``, ``utf-8-sig`` (with BOM) or ``cp932``.
    encoding: str | None = None

    @property
    def row_count(self) -> int:
        return len(self.entries)


# --------------------------------------------------------------------------- bytes


def read_bytes(source: Source) -> bytes:
    """The bytes of a path, a bytes-like object or a binary file object."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    if isinstance(source, str | os.PathLike):
        return Path(source).read_bytes()
    return source.read()


def _source_name(source: Source, filename: str | None) -> str:
    if filename:
        return Path(filename).name
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    return ""


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def sniff_format(data: bytes, sheet: str = "") -> FileFormat:
    """``xlsx`` for a ZIP container, ``csv`` for text; raises for .xls and the like."""
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(_OLE_MAGIC):
        raise RegistryImportError(
            [
                Problem(
                    "unreadable",
                    "Excel 97-2003 形式（.xls）またはパスワード付きのファイルは読めません。"
                    "パスワードを外し、.xlsx または CSV で保存してください",
                    sheet=sheet,
                )
            ]
        )
    return "csv"


def decode_csv(data: bytes, sheet: str = "") -> tuple[str, str]:
    """The text of a CSV file and the encoding used: UTF-8 (BOM or not), else CP932."""

    def fail(message: str) -> RegistryImportError:
        return RegistryImportError([Problem("unreadable", message, sheet=sheet)])

    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise fail("UTF-16 の CSV は読めません。UTF-8 または Shift_JIS（CP932）で保存してください")
    try:
        text = data.decode("utf-8-sig")
        encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        try:
            text = data.decode("cp932")
            encoding = "cp932"
        except UnicodeDecodeError as exc:
            raise fail(
                "文字コードを判別できません（UTF-8 としても Shift_JIS（CP932）としても"
                f"読めないバイトが {exc.start + 1} バイト目にあります）。"
                "UTF-8 または Shift_JIS（CP932）の CSV で保存してください"
            ) from None
    if "\x00" in text:
        raise fail("テキストの CSV ではありません（NUL 文字を含みます）")
    return text, encoding


# --------------------------------------------------------------------------- cells


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_WS = re.compile(r"\s+")


def cell_text(value: object) -> str:
    """A cell as one line of text: stripped, inner white space runs made one space."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _WS.sub(" ", str(value)).strip()


_TRUE = {
    "○", "〇", "◯", "●", "◎", "✓", "✔", "レ", "有", "有り", "あり", "はい", "yes", "y",
    "true", "1", "済", "済み", "申請中", "更新申請中", "取下げ", "取り下げ", "取下",
    "取下済", "取下げ済", "取消", "取消し", "登録取消", "取消済", "該当", "対象",
}  # fmt: skip
_FALSE = {
    "", "×", "✕", "✖", "x", "-", "―", "ー", "なし", "無", "無し", "いいえ", "no", "n",
    "false", "0", "非該当", "対象外", "未", "未申請",
}  # fmt: skip


def parse_flag(value: object) -> bool:
    """○ / 空欄 style flags; a date counts as yes (e.g. the date of withdrawal)."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    key = unicodedata.normalize("NFKC", cell_text(value)).casefold().replace(" ", "")
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    try:
        parse_date(value)
    except DateError:
        raise ValueError(
            f"「○」または空欄で書いてください（値: {value!r}）。"
            "はい／いいえ、有／無、日付も読めます"
        ) from None
    return True


_WITHDRAWN_WORDS = ("取下", "取り下", "取消", "抹消")
_RENEWAL_WORDS = ("更新",)
_PLAIN_WORDS = ("登録", "有効", "掲載", "認定")


def parse_status(value: object) -> tuple[bool, bool]:
    """(renewal_pending, withdrawn) from a status word such as 更新申請中 or 取下げ."""
    key = unicodedata.normalize("NFKC", cell_text(value)).replace(" ", "")
    withdrawn = any(w in key for w in _WITHDRAWN_WORDS)
    renewal = any(w in key for w in _RENEWAL_WORDS)
    if not (withdrawn or renewal or not key or any(w in key for w in _PLAIN_WORDS)):
        raise ValueError(
            f"状態として読めません（値: {value!r}）。"
            "「登録」「更新申請中」「取下げ」などと書いてください"
        )
    return renewal, withdrawn


_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_REGION_SPLIT = re.compile(r"[、,，;；/／・\n]+")
_NOTE = re.compile(r"(?:※|\*|注\s*\d*\s*[:)]|\(注|以上$)")


def _is_note_row(values: Sequence[object]) -> bool:
    filled = [v for v in values if not _blank(v)]
    if len(filled) != 1 or not isinstance(filled[0], str):
        return False
    return bool(_NOTE.match(unicodedata.normalize("NFKC", filled[0]).strip()))


# --------------------------------------------------------------------------- header


@dataclass(frozen=True)
class _Mapped:
    column: Column
    index: int  # 0-based column index in the row
    heading: str  # as written
    priority: int


@dataclass(frozen=True)
class _Header:
    row_index: int  # 0-based index of the (upper) heading row
    data_index: int  # 0-based index of the first data row
    fields: dict[str, _Mapped]

    @property
    def score(self) -> int:
        return len(self.fields.keys() - {"audit_start"})


def _at(row: Sequence[object] | None, j: int) -> object:
    return row[j] if row is not None and j < len(row) else None


def _is_subheading_row(row: Sequence[object] | None, kind: RegistryKind) -> bool:
    """A lower heading row: child headings such as 開始 / 終了 (at least one),
    besides which only known headings stand."""
    if row is None:
        return False
    keys = [heading_key(v) for v in row if not _blank(v)]
    return any(k in CHILD_KEYS for k in keys) and all(
        k in CHILD_KEYS or resolve(kind, k) is not None for k in keys
    )


def _map_header(
    row: Sequence[object], below: Sequence[object] | None, kind: RegistryKind, row_index: int
) -> _Header:
    two_rows = _is_subheading_row(below, kind)
    width = max(len(row), len(below) if (two_rows and below is not None) else 0)
    fields: dict[str, _Mapped] = {}
    spanning: object = None  # a parent heading whose merged cell spans child headings
    for j in range(width):
        top = _at(row, j)
        child = _at(below, j) if two_rows else None
        if not _blank(top):
            spanning = top if not _blank(child) else None
        elif not _blank(child) and spanning is not None:
            top = spanning
        else:
            spanning = None
        if _blank(top) and _blank(child):
            continue
        if _blank(child):
            hit = resolve(kind, heading_key(top))
            written = cell_text(top)
        elif _blank(top):
            hit = resolve(kind, heading_key(child))
            written = cell_text(child)
        else:
            hit = resolve(kind, heading_key(top), heading_key(child))
            written = f"{cell_text(top)}（{cell_text(child)}）"
            if hit is None:  # a plain heading above an unrelated child cell
                hit = resolve(kind, heading_key(top))
                written = cell_text(top)
        if hit is None:
            continue
        column, priority = hit
        known = fields.get(column.field)
        if known is None or priority < known.priority:
            fields[column.field] = _Mapped(column, j, written, priority)
    return _Header(row_index, row_index + (2 if two_rows else 1), fields)


def find_header(rows: Sequence[Sequence[object]], kind: RegistryKind) -> _Header | None:
    """The row among ``rows`` (the top of a sheet) naming the most known columns."""
    best: _Header | None = None
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        below = rows[i + 1] if i + 1 < len(rows) else None
        header = _map_header(row, below, kind, i)
        if header.score >= 2 and (best is None or header.score > best.score):
            best = header
    return best


# --------------------------------------------------------------------------- rows


class _RowReader:
    """Reads the data rows under one heading into entries, noting every problem."""

    def __init__(self, header: _Header, kind: RegistryKind, sheet: str):
        self.fields = header.fields
        self.kind = kind
        self.sheet = sheet
        self.audit_field = next((f for f in AUDIT_FIELDS if f in self.fields), None)
        self.first_row_of: dict[str, int] = {}
        #: False when a required column is missing: rows are checked, never built.
        self.complete = not self.missing_columns()

    def missing_columns(self) -> list[Problem]:
        problems = [
            _missing(column, self.sheet)
            for column in columns_for(self.kind)
            if self.kind in column.required and column.field not in self.fields
        ]
        if self.kind in ISMAP_KINDS and self.audit_field is None:
            problems.append(
                Problem(
                    "missing_column",
                    "必須の列がありません（「監査対象期間の末日」か「監査対象期間」の列が必要です）",
                    sheet=self.sheet,
                    column=AUDIT_REQUIREMENT_LABEL,
                )
            )
        return problems

    def read(
        self, rownum: int, values: Sequence[object]
    ) -> tuple[RegistryEntry | None, list[Problem]]:
        """The row's entry, or ``None`` and the row's problems."""
        problems: list[Problem] = []

        def get(name: str) -> Any:
            mapped = self.fields.get(name)
            return None if mapped is None else _at(values, mapped.index)

        def problem(code: Any, name: str, message: str) -> None:
            mapped = self.fields.get(name)
            heading = mapped.heading if mapped else name
            problems.append(Problem(code, message, sheet=self.sheet, row=rownum, column=heading))

        for name in ("number", "service_name", "provider"):
            if name in self.fields and _blank(get(name)):
                problem("empty_required", name, "必須の項目が空です")
        number = normalise_number(get("number"))

        flags = {"renewal_pending": False, "withdrawn": False}
        for name in flags:
            try:
                flags[name] = parse_flag(get(name))
            except ValueError as exc:
                problem("bad_value", name, str(exc))
        if "status" in self.fields:
            try:
                renewal, gone = parse_status(get("status"))
            except ValueError as exc:
                problem("bad_value", "status", str(exc))
            else:
                flags["renewal_pending"] |= renewal
                flags["withdrawn"] |= gone

        registered_on = None
        raw = get("registered_on")
        if not _blank(raw):
            try:
                registered_on = parse_date(raw)
            except DateError as exc:
                problem("bad_date", "registered_on", str(exc))

        audit_period_end = None
        if self.audit_field is not None:
            raw = get(self.audit_field)
            if _blank(raw):
                if not flags["withdrawn"]:
                    problem("empty_required", self.audit_field, "必須の項目が空です")
            else:
                parse = parse_date if self.audit_field == "audit_period_end" else parse_period_end
                try:
                    audit_period_end = parse(raw)
                except DateError as exc:
                    problem("bad_date", self.audit_field, str(exc))

        source_url = cell_text(get("source_url"))
        if source_url and not _URL.fullmatch(source_url):
            message = f"URL は http:// または https:// で始めてください（値: {source_url!r}）"
            problem("bad_value", "source_url", message)

        if number:
            first = self.first_row_of.setdefault(number, rownum)
            if first != rownum:
                message = f"「{number}」が重複しています（{first}行目と{rownum}行目）"
                problem("duplicate", "number", message)

        if problems or not self.complete:
            return None, problems
        regions = _REGION_SPLIT.split(cell_text(get("regions")))
        entry = RegistryEntry(
            kind=self.kind,
            number=number,
            service_name=cell_text(get("service_name")),
            provider=cell_text(get("provider")),
            registered_on=registered_on,
            audit_period_end=audit_period_end,
            renewal_pending=flags["renewal_pending"],
            withdrawn=flags["withdrawn"],
            source_url=source_url,
            category=cell_text(get("category")),
            regions=tuple(r.strip() for r in regions if r.strip()),
            source_sheet=self.sheet,
            source_row=rownum,
        )
        return entry, []


def _entries_from_rows(
    rows: Iterable[tuple[int, Sequence[object]]],
    header: _Header,
    kind: RegistryKind,
    sheet: str,
) -> tuple[list[RegistryEntry], list[Problem]]:
    reader = _RowReader(header, kind, sheet)
    problems = reader.missing_columns()
    entries: list[RegistryEntry] = []
    for rownum, values in rows:
        if all(_blank(v) for v in values) or _is_note_row(values):
            continue
        entry, row_problems = reader.read(rownum, values)
        problems.extend(row_problems)
        if entry is not None and not problems:
            entries.append(entry)
    if not problems and not entries:
        problems.append(Problem("no_rows", "データの行が1行もありません", sheet=sheet))
    return ([] if problems else entries), problems


def _missing(column: Column, sheet: str) -> Problem:
    accepted = "、".join(column.headings())
    return Problem(
        "missing_column",
        f"必須の列がありません（見出しの書き方: {accepted}）",
        sheet=sheet,
        column=column.heading,
    )


def _no_header(kind: RegistryKind, sheet: str) -> Problem:
    names = [c.heading for c in columns_for(kind) if kind in c.required]
    if kind in ISMAP_KINDS:
        names.append(AUDIT_REQUIREMENT_LABEL)
    return Problem(
        "no_header",
        f"先頭{HEADER_SCAN_ROWS}行に {KIND_LABELS[kind]} の見出しの行が見つかりません"
        f"（必要な列: {'、'.join(names)}）",
        sheet=sheet,
    )


# --------------------------------------------------------------------------- files


def _read_table(
    named_tables: Iterable[tuple[str, Iterator[Sequence[object]]]],
    kind: RegistryKind,
    reopen: Any,
) -> tuple[str, _Header, list[RegistryEntry]]:
    """Pick the sheet whose heading matches best, then read its rows."""
    best: tuple[str, _Header] | None = None
    first_sheet = ""
    for sheet, rows in named_tables:
        first_sheet = first_sheet or sheet
        head = [tuple(r) for r in islice(rows, HEADER_SCAN_ROWS + 1)]
        header = find_header(head, kind)
        if header is not None and (best is None or header.score > best[1].score):
            best = (sheet, header)
    if best is None:
        raise RegistryImportError([_no_header(kind, first_sheet)])
    sheet, header = best
    numbered = ((n, r) for n, r in enumerate(reopen(sheet), start=1) if n > header.data_index)
    entries, problems = _entries_from_rows(numbered, header, kind, sheet)
    if problems:
        raise RegistryImportError(problems)
    return sheet, header, entries


def _read_xlsx(
    data: bytes, kind: RegistryKind, name: str
) -> tuple[str, _Header, list[RegistryEntry]]:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl ships with the project
        raise RegistryImportError(
            [Problem("unreadable", "xlsx を読むには openpyxl が必要です", sheet=name)]
        ) from None
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException, …
        raise RegistryImportError(
            [Problem("unreadable", f"xlsx ファイルとして読めません（{exc}）", sheet=name)]
        ) from None
    try:
        sheets = {ws.title: ws for ws in workbook.worksheets}
        tables = ((title, ws.iter_rows(values_only=True)) for title, ws in sheets.items())
        return _read_table(tables, kind, lambda title: sheets[title].iter_rows(values_only=True))
    finally:
        workbook.close()


def _read_csv(text: str, kind: RegistryKind, name: str) -> tuple[str, _Header, list[RegistryEntry]]:
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise RegistryImportError(
            [Problem("unreadable", f"CSV として読めません（{exc}）", sheet=name)]
        ) from None
    return _read_table([(name, iter(rows))], kind, lambda _: rows)


def read_registry(
    source: Source, kind: RegistryKind, *, filename: str | None = None
) -> ParsedRegistry:
    """Read a whole registry list of ``kind`` from .xlsx or .csv.

    ``source`` is a path, the file's bytes or a binary file object; ``filename``
    (e.g. the uploaded file's name) is used only in messages and, for CSV, as the
    sheet name. Raises ``RegistryImportError`` with every problem found.
    """
    if kind not in KINDS:
        raise ValueError(f"未知の登録簿の種類です: {kind!r}（{', '.join(KINDS)}）")
    data = read_bytes(source)
    name = _source_name(source, filename)
    digest = hashlib.sha256(data).hexdigest()
    file_format = sniff_format(data, name)
    encoding = None
    if file_format == "xlsx":
        sheet, header, entries = _read_xlsx(data, kind, name)
    else:
        text, encoding = decode_csv(data, name or "CSV")
        sheet, header, entries = _read_csv(text, kind, name or "CSV")
    return ParsedRegistry(
        kind=kind,
        entries=tuple(entries),
        sha256=digest,
        file_format=file_format,
        sheet=sheet,
        header_row=header.row_index + 1,
        columns={f: m.heading for f, m in header.fields.items()},
        encoding=encoding,
    )
