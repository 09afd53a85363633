"""Reading a registry list from .xlsx, .ods or .csv into ``RegistryEntry`` values.

``read_registry(source, kind)`` returns every entry of the file or raises
``RegistryImportError`` listing every problem found; it never returns part of a
file. What it accepts is documented in ``docs/registries.md``:

* .xlsx or .ods (the sheet whose heading row matches best) or .csv in UTF-8
  (with or without BOM) or CP932, told apart by content, not by file name, and
  measured before they are read (``sources``);
* the heading row anywhere in the first ``HEADER_SCAN_ROWS`` rows, below any
  title rows; a two-row heading with a merged parent cell (``監査対象期間`` over
  ``開始`` / ``終了``); vertically merged data cells carry their value down;
* heading variants and full-width characters (``columns.heading_key``);
* dates as in ``dates.parse_date``; status words, with or without a date, in a
  状態 column, in the flag columns or in the notes (``status.read_status``).

Blank rows are skipped, and so is a row whose only cell is a note (starting with
``※``, ``*``, ``注:`` / ``(注`` or reading ``以上``) and the template's example
row (a warning says so). Notes whose status cannot be read are warnings: the
file is imported, and ``ParsedRegistry.warnings`` names each row.

Reading is bounded: at most ``sources.MAX_ROWS`` data rows, cells of at most
``sources.MAX_CELL_CHARS`` characters, and it stops after
``problems.MAX_PROBLEMS`` problems.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from typing import Any

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
from cloudjudge.registries.dates import DateError, find_dates, parse_date, parse_period_end
from cloudjudge.registries.entries import (
    KIND_LABELS,
    KINDS,
    RegistryEntry,
    RegistryKind,
    normalise_number,
)
from cloudjudge.registries.problems import MAX_PROBLEMS, Problem, RegistryImportError
from cloudjudge.registries.sources import (
    MAX_CELL_CHARS,
    MAX_ROWS,
    FileFormat,
    Row,
    Source,
    Table,
    load_tables,
    read_bytes,
    source_name,
)
from cloudjudge.registries.status import StatusNote, Unreadable, read_status

__all__ = ["ParsedRegistry", "Source", "read_bytes", "read_registry"]

#: How many rows from the top are searched for the heading row.
HEADER_SCAN_ROWS = 20


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
    #: Rows imported with a remark, or skipped (the template's example row).
    warnings: tuple[Problem, ...] = ()

    @property
    def row_count(self) -> int:
        return len(self.entries)


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


_MARKS = frozenset("○〇◯●◎✓✔レ")


def parse_flag(value: object) -> bool:
    """○ / 空欄 style flags; a date counts as yes (e.g. the date of withdrawal)."""
    return read_flag(value)[0]


def read_flag(value: object) -> tuple[bool, date | None]:
    """A flag and the date written in it, if any (「2024/5/1」, 「○（R6.5.1）」)."""
    if value is None:
        return False, None
    if isinstance(value, bool):
        return value, None
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value), None
    key = unicodedata.normalize("NFKC", cell_text(value)).casefold().replace(" ", "")
    if key in _TRUE:
        return True, None
    if key in _FALSE:
        return False, None
    try:
        return True, parse_date(value)
    except DateError:
        pass
    if key[:1] in _MARKS:  # 「○（2025/7/1 申請）」: a mark and its date
        try:
            dates = find_dates(key[1:])
        except DateError:
            dates = []
        if len(dates) == 1:
            return True, dates[0]
    try:
        note = read_status(value)
    except Unreadable:
        note = None
    if note is not None and note.word != "registered":
        return True, note.on
    raise ValueError(
        f"「○」または空欄で書いてください（値: {value!r}）。はい／いいえ、有／無、日付も読めます"
    )


def parse_status(value: object) -> StatusNote | None:
    """A 状態 cell: 登録, 更新申請中, 取下げ, 失効, 一時停止 … with or without a date;
    raises ``ValueError`` naming the value when it cannot be read."""
    try:
        return read_status(value)
    except Unreadable as exc:
        raise ValueError(
            f"{exc}。「登録」「更新申請中」「取下げ」「失効」「一時停止」などと書いてください"
        ) from None


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
    #: Every heading of the row as written, known or not (for messages).
    found: tuple[str, ...] = ()

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
    found: list[str] = []
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
        found.append(written)
        if hit is None:
            continue
        column, priority = hit
        known = fields.get(column.field)
        if known is None or priority < known.priority:
            fields[column.field] = _Mapped(column, j, written, priority)
    return _Header(row_index, row_index + (2 if two_rows else 1), fields, tuple(found))


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


def _found_text(found: Sequence[str]) -> str:
    shown = [f for f in found if f][:12]
    if not shown:
        return "見出しの行に文字がありません"
    return "見つかった列: " + ", ".join(shown) + (", …" if len(found) > len(shown) else "")


#: Status words a row may carry, strongest first, and the entry flag each sets.
_ENDINGS = ("withdrawn", "lapsed", "suspended")


class _RowReader:
    """Reads the data rows under one heading into entries, noting every problem
    and every warning."""

    def __init__(self, header: _Header, kind: RegistryKind, sheet: str):
        self.header = header
        self.fields = header.fields
        self.kind = kind
        self.sheet = sheet
        self.audit_field = next((f for f in AUDIT_FIELDS if f in self.fields), None)
        self.first_row_of: dict[str, int] = {}
        self.warnings: list[Problem] = []
        #: False when a required column is missing: rows are checked, never built.
        self.complete = not self.missing_columns()

    def missing_columns(self) -> list[Problem]:
        found = _found_text(self.header.found)
        problems = [
            _missing(column, self.sheet, found)
            for column in columns_for(self.kind)
            if self.kind in column.required and column.field not in self.fields
        ]
        if self.kind in ISMAP_KINDS and self.audit_field is None:
            problems.append(
                Problem(
                    "missing_column",
                    f"「監査対象期間の末日」か「監査対象期間」の列が必要です（{found}）",
                    sheet=self.sheet,
                    column=AUDIT_REQUIREMENT_LABEL,
                )
            )
        return problems

    def is_example(self, values: Sequence[object]) -> bool:
        """The template's example row (記入例), left in by mistake."""
        from cloudjudge.registries.template import EXAMPLE_MARKS, EXAMPLE_NUMBERS

        number, name = self.fields.get("number"), self.fields.get("service_name")
        if number is not None and normalise_number(_at(values, number.index)) in EXAMPLE_NUMBERS:
            return True
        first = next((v for v in values if not _blank(v)), None)
        named = _at(values, name.index) if name is not None else None
        return any(
            unicodedata.normalize("NFKC", cell_text(v)).startswith(EXAMPLE_MARKS)
            for v in (first, named)
        )

    def read(
        self, rownum: int, values: Sequence[object]
    ) -> tuple[RegistryEntry | None, list[Problem]]:
        """The row's entry, or ``None`` and the row's problems."""
        problems: list[Problem] = []

        def get(name: str) -> Any:
            mapped = self.fields.get(name)
            return None if mapped is None else _at(values, mapped.index)

        def heading(name: str) -> str:
            mapped = self.fields.get(name)
            return mapped.heading if mapped else name

        def problem(code: Any, name: str, message: str) -> None:
            problems.append(Problem(code, message, self.sheet, rownum, heading(name)))

        for name, mapped in self.fields.items():
            value = _at(values, mapped.index)
            if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                problem(
                    "too_large",
                    name,
                    f"セルが長すぎます（{len(value):,} 文字、上限 {MAX_CELL_CHARS:,} 文字）",
                )
        if problems:
            return None, problems
        for name in ("number", "service_name", "provider"):
            if name in self.fields and _blank(get(name)):
                problem("empty_required", name, "必須の項目が空です")
        for name in ("number", "service_name", "provider", "category", "notes"):
            text = cell_text(get(name))
            if text.startswith(("=", "＝", "@", "＠")):
                problem("bad_value", name, f"数式や命令のような値は取り込めません（値: {text!r}）")
        number = normalise_number(get("number"))

        standing: dict[str, date | None] = {}  # word → its date (from the first column saying it)
        renewal: list[date | None] = []
        for name, word in (("withdrawn", "withdrawn"), ("renewal_pending", "renewal_pending")):
            try:
                yes, on = read_flag(get(name))
            except ValueError as exc:
                problem("bad_value", name, str(exc))
                continue
            if yes and word == "withdrawn":
                standing.setdefault("withdrawn", on)
            elif yes:
                renewal.append(on)

        notes: list[StatusNote] = []
        if "status" in self.fields:
            try:
                note = parse_status(get("status"))
            except ValueError as exc:
                problem("bad_value", "status", str(exc))
            else:
                if note is not None:
                    notes.append(note)
        raw_note = get("notes")
        if not _blank(raw_note):
            try:
                note = read_status(raw_note)
            except Unreadable as exc:
                self.warnings.append(
                    Problem(
                        "unread_note",
                        f"備考を状態として読めませんでした（{exc}）。"
                        "状態は他の列のとおりに取り込みました。必要なら登録簿の画面で直してください",
                        self.sheet,
                        rownum,
                        heading("notes"),
                    )
                )
            else:
                if note is not None:
                    notes.append(note)
        for note in notes:
            if note.word in _ENDINGS:
                standing.setdefault(note.word, note.on)
            elif note.word == "renewal_pending":
                renewal.append(note.on)

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
                if not ({"withdrawn", "lapsed"} & standing.keys()):
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
        ending = next((w for w in _ENDINGS if w in standing), None)
        applied = [d for d in renewal if d is not None]
        entry = RegistryEntry(
            kind=self.kind,
            number=number,
            service_name=cell_text(get("service_name")),
            provider=cell_text(get("provider")),
            registered_on=registered_on,
            audit_period_end=audit_period_end,
            renewal_pending=bool(renewal),
            withdrawn=ending == "withdrawn",
            lapsed=ending == "lapsed",
            suspended=ending == "suspended",
            status_since=standing[ending] if ending else None,
            renewal_applied_on=min(applied) if applied else None,
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
) -> tuple[list[RegistryEntry], list[Problem], list[Problem]]:
    """(entries, problems, warnings); entries only when there is no problem."""
    reader = _RowReader(header, kind, sheet)
    problems = reader.missing_columns()
    entries: list[RegistryEntry] = []
    read = skipped = 0
    for rownum, values in rows:
        if all(_blank(v) for v in values) or _is_note_row(values):
            continue
        if reader.is_example(values):
            skipped += 1
            reader.warnings.append(
                Problem(
                    "example_row",
                    "テンプレートの記入例の行なので取り込みませんでした",
                    sheet,
                    rownum,
                )
            )
            continue
        read += 1
        if read > MAX_ROWS:
            problems.append(
                Problem(
                    "too_large",
                    f"行が多すぎます（上限 {MAX_ROWS:,} 行）。{rownum}行目で読むのをやめました",
                    sheet,
                    rownum,
                )
            )
            break
        entry, row_problems = reader.read(rownum, values)
        problems.extend(row_problems)
        if len(problems) >= MAX_PROBLEMS:
            del problems[MAX_PROBLEMS:]
            problems.append(
                Problem(
                    "too_many_problems",
                    f"問題が多いため、{MAX_PROBLEMS} 件で読むのをやめました（{rownum}行目まで）。"
                    "種類の違うリストや別のファイルではありませんか",
                    sheet,
                    rownum,
                )
            )
            break
        if entry is not None and not problems:
            entries.append(entry)
    if not problems and not entries:
        why = (
            "（テンプレートの記入例の行だけがあります）"
            if skipped
            else f"（見出しは {header.row_index + 1} 行目。その下は空欄か注記だけです）"
        )
        problems.append(Problem("no_rows", "データの行が1行もありません" + why, sheet=sheet))
    return ([] if problems else entries), problems, reader.warnings


def _missing(column: Column, sheet: str, found: str) -> Problem:
    accepted = "、".join(column.headings())
    return Problem(
        "missing_column",
        f"「{column.heading}」の列がありません（{found}）。受け付ける見出し: {accepted}",
        sheet=sheet,
        column=column.heading,
    )


def _first_texts(head: Sequence[Sequence[object]]) -> str:
    for n, row in enumerate(head, start=1):
        texts = [cell_text(v)[:30] for v in row if not _blank(v)]
        if texts:
            shown = ", ".join(texts[:8]) + (", …" if len(texts) > 8 else "")
            return f"最初に文字がある行は {n} 行目: {shown}"
    return f"先頭{HEADER_SCAN_ROWS}行はすべて空欄です"


def _no_header(kind: RegistryKind, tables: Sequence[tuple[str, str]]) -> Problem:
    names = [c.heading for c in columns_for(kind) if kind in c.required]
    if kind in ISMAP_KINDS:
        names.append(AUDIT_REQUIREMENT_LABEL)
    sheet, found = tables[0] if tables else ("", "")
    others = "" if len(tables) < 2 else "。シート: " + ", ".join(t for t, _ in tables)
    return Problem(
        "no_header",
        f"先頭{HEADER_SCAN_ROWS}行に {KIND_LABELS[kind]} の見出しの行が見つかりません"
        f"（必要な列: {'、'.join(names)}。{found}{others}）",
        sheet=sheet,
    )


# --------------------------------------------------------------------------- files


def _read_tables(
    tables: Sequence[Table], kind: RegistryKind
) -> tuple[str, _Header, list[RegistryEntry], list[Problem]]:
    """Pick the sheet whose heading matches best, then read its rows."""
    best: tuple[Table, _Header] | None = None
    seen: list[tuple[str, str]] = []
    for table in tables:
        rows: Iterator[tuple[int, Row]] = table.open_rows(None)
        head = [tuple(r) for _, r in islice(rows, HEADER_SCAN_ROWS + 1)]
        close = getattr(rows, "close", None)  # a generator: release the open workbook
        if close is not None:
            close()
        seen.append((table.name, _first_texts(head)))
        header = find_header(head, kind)
        if header is not None and (best is None or header.score > best[1].score):
            best = (table, header)
    if best is None:
        raise RegistryImportError([_no_header(kind, seen)])
    table, header = best
    first = header.data_index + 1  # 1-based
    rows = ((n, r) for n, r in table.open_rows(first) if n >= first)
    entries, problems, warnings = _entries_from_rows(rows, header, kind, table.name)
    if problems:
        raise RegistryImportError(problems)
    return table.name, header, entries, warnings


def read_registry(
    source: Source, kind: RegistryKind, *, filename: str | None = None
) -> ParsedRegistry:
    """Read a whole registry list of ``kind`` from .xlsx, .ods or .csv.

    ``source`` is a path, the file's bytes or a binary file object; ``filename``
    (e.g. the uploaded file's name) is used only in messages and, for CSV, as the
    sheet name. Raises ``RegistryImportError`` with every problem found.
    """
    if kind not in KINDS:
        raise ValueError(f"未知の登録簿の種類です: {kind!r}（{', '.join(KINDS)}）")
    name = source_name(source, filename)
    data, loaded = load_tables(source, name)
    sheet, header, entries, warnings = _read_tables(loaded.tables, kind)
    return ParsedRegistry(
        kind=kind,
        entries=tuple(entries),
        sha256=hashlib.sha256(data).hexdigest(),
        file_format=loaded.file_format,
        sheet=sheet,
        header_row=header.row_index + 1,
        columns={f: m.heading for f, m in header.fields.items()},
        encoding=loaded.encoding,
        warnings=tuple(warnings),
    )
