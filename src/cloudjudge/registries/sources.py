"""What a registry file holds, read within bounds: its format, and each sheet as
rows of cell values.

``load_tables(source, name)`` is the only way in. It

1. takes at most :data:`MAX_FILE_BYTES` (a path is measured before it is read);
2. tells the format from the content, never from the name: .xlsx, .ods or
   CSV; anything else is refused naming what it is (PDF, Word, .xls, HTML, …);
3. for .xlsx and .ods, measures the zip archive before a byte of XML is parsed
   (``cloudjudge.documents.packages``: a 3 MB file whose sheet unpacks to
   1 GiB is refused at once);
4. gives each sheet as rows ``(row number, values)`` whose vertically merged
   data cells carry the merged value down (分類 spanning rows), so each row
   reads on its own.

Bounds on what is read once it is open (rows, cell length, problems) are the
row reader's (``spreadsheet``): :data:`MAX_ROWS`, :data:`MAX_CELL_CHARS`.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from cloudjudge.documents.packages import (
    BROKEN_ZIP,
    MiB,
    PackageLimits,
    PackageRefused,
    inspect_package,
    size_text,
)
from cloudjudge.registries.problems import Problem, RegistryImportError

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]
FileFormat = Literal["xlsx", "ods", "csv"]
Row = tuple[Any, ...]

#: The file as uploaded. The largest public list is a few hundred kilobytes.
MAX_FILE_BYTES = 20 * MiB
#: An .xlsx or .ods once unpacked: a 20,000-row list is about 15 MB of XML.
PACKAGE_LIMITS = PackageLimits(max_unpacked=64 * MiB, max_members=1_000)
#: Data rows read from one sheet (blank rows not counted): ISMAP and LGWAN-ASP
#: list a few thousand services.
MAX_ROWS = 20_000
#: Characters in one cell; the longest stored value is a 500-character URL.
MAX_CELL_CHARS = 4_000
#: Merged ranges in one sheet (each is kept while the rows are read).
MAX_MERGES = 20_000
#: Columns of a row that are looked at (an .ods row may "repeat" 16,384 empty cells).
MAX_COLUMNS = 256


#: ``open_rows(carry_from)``: the rows from the top; vertically merged ranges
#: that start at row ``carry_from`` or below carry their value down (``None``:
#: none do, as for a heading, whose merged cells mean something else).
RowOpener = Callable[[int | None], Iterator[tuple[int, Row]]]


@dataclass(frozen=True)
class Table:
    """One sheet (a CSV file is one): its name and a way to read its rows
    from the top, as often as needed."""

    name: str
    open_rows: RowOpener


@dataclass(frozen=True)
class Loaded:
    file_format: FileFormat
    tables: tuple[Table, ...]
    #: For CSV: ``utf-8``, ``utf-8-sig`` (with BOM) or ``cp932``.
    encoding: str | None = None


def refuse(code: Any, message: str, sheet: str = "") -> RegistryImportError:
    return RegistryImportError([Problem(code, message, sheet=sheet)])


# --------------------------------------------------------------------------- bytes


def read_bytes(source: Source, limit: int = MAX_FILE_BYTES, name: str = "") -> bytes:
    """The bytes of a path, a bytes-like object or a binary file object,
    refused (``too_large``) when there are more than ``limit``."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        size = path.stat().st_size
        if size > limit:
            raise _too_big(size, limit, name)
        data = path.read_bytes()
    else:
        declared = getattr(source, "size", None)  # an upload that stopped at its limit
        if isinstance(declared, int) and declared > limit:
            raise _too_big(declared, limit, name)
        data = source.read(limit + 1)
    if len(data) > limit:
        raise _too_big(len(data), limit, name)
    return data


def _too_big(size: int, limit: int, name: str) -> RegistryImportError:
    shown = f"{size_text(size)}以上" if size == limit + 1 else size_text(size)
    return refuse(
        "too_large", f"ファイルが大きすぎます（{shown}、上限 {size_text(limit)}）", sheet=name
    )


def source_name(source: Source, filename: str | None) -> str:
    if filename:
        return Path(filename).name
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    name = getattr(source, "name", None)
    return Path(name).name if isinstance(name, str) else ""


# --------------------------------------------------------------------------- format

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_ACCEPTED = "Excel（.xlsx）、OpenDocument（.ods）か CSV で保存してください"

#: Magic numbers of files people pick by mistake, and what to call them.
_OTHER_FILES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF ファイル"),
    (b"\x89PNG", "PNG 画像"),
    (b"\xff\xd8\xff", "JPEG 画像"),
    (b"{\\rtf", "RTF 文書"),
    (b"\x1f\x8b", "gzip 圧縮ファイル"),
    (b"7z\xbc\xaf", "7-Zip 圧縮ファイル"),
    (b"Rar!", "RAR 圧縮ファイル"),
)
_HTML = re.compile(rb"^\s*(?:<!doctype html|<html|<\?xml[^>]*>\s*<html)", re.IGNORECASE)


def sniff_format(data: bytes, sheet: str = "") -> tuple[FileFormat, frozenset[str]]:
    """The format of ``data`` and, for a zip, its member names; refuses
    anything else, saying what it is."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        try:
            names = inspect_package(data, PACKAGE_LIMITS, what="ファイル").names
        except PackageRefused as exc:
            code = "unreadable" if exc.code in {"broken", "encrypted", "dtd"} else "too_large"
            raise refuse(code, exc.message, sheet) from None
        return _zip_format(data, names, sheet), names
    if data.startswith(_OLE_MAGIC):
        raise refuse(
            "unreadable",
            "Excel 97-2003 形式（.xls）またはパスワード付きのファイルは読めません。"
            "パスワードを外し、" + _ACCEPTED,
            sheet,
        )
    for magic, what in _OTHER_FILES:
        if data.startswith(magic):
            raise refuse("unreadable", f"{what}です。登録簿の一覧表を{_ACCEPTED}", sheet)
    if _HTML.match(data[:512]):
        raise refuse(
            "unreadable",
            f"HTML（ウェブページ）です。公開ページを保存したものなら、表を{_ACCEPTED}",
            sheet,
        )
    return "csv", frozenset()


def _zip_format(data: bytes, names: frozenset[str], sheet: str) -> FileFormat:
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "content.xml" in names and "mimetype" in names:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                mimetype = archive.read("mimetype")[:100].strip()
        except BROKEN_ZIP as exc:
            raise refuse(
                "unreadable", f"ods ファイルが壊れています（{type(exc).__name__}）", sheet
            ) from None
        if mimetype == _ODS_MIMETYPE:
            return "ods"
        raise refuse(
            "unreadable",
            f"表計算ではない OpenDocument ファイルです（{mimetype.decode(errors='replace')}）。"
            + _ACCEPTED,
            sheet,
        )
    if "xl/workbook.bin" in names:
        found = "Excel バイナリ ブック（.xlsb）"
    elif any(n.startswith("word/") for n in names):
        found = "Word 文書（.docx）"
    elif any(n.startswith("ppt/") for n in names):
        found = "PowerPoint（.pptx）"
    else:
        shown = ", ".join(sorted(names)[:5]) + (", …" if len(names) > 5 else "")
        found = f"zip 圧縮ファイル（中身: {shown}）"
    raise refuse("unreadable", f"{found}です。登録簿の一覧表を{_ACCEPTED}", sheet)


# --------------------------------------------------------------------------- CSV


def decode_csv(data: bytes, sheet: str = "") -> tuple[str, str]:
    """The text of a CSV file and the encoding used: UTF-8 (BOM or not), else CP932."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise refuse(
            "unreadable",
            "UTF-16 の CSV は読めません。UTF-8 または Shift_JIS（CP932）で保存してください",
            sheet,
        )
    try:
        text = data.decode("utf-8-sig")
        encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        try:
            text = data.decode("cp932")
            encoding = "cp932"
        except UnicodeDecodeError as exc:
            raise refuse(
                "unreadable",
                "文字コードを判別できません（UTF-8 としても Shift_JIS（CP932）としても"
                f"読めないバイト {data[exc.start : exc.start + 2].hex(' ')} が "
                f"{exc.start + 1} バイト目にあります）。"
                "UTF-8 または Shift_JIS（CP932）の CSV で保存してください",
                sheet,
            ) from None
    if "\x00" in text:
        raise refuse("unreadable", "テキストの CSV ではありません（NUL 文字を含みます）", sheet)
    return text, encoding


def _csv_table(text: str, name: str) -> Table:
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","

    def open_rows(carry_from: int | None = None) -> Iterator[tuple[int, Row]]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            for n, row in enumerate(reader, start=1):
                yield n, tuple(row[:MAX_COLUMNS])
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                message = (
                    f"{reader.line_num}行目付近に長すぎるセルがあります"
                    f"（{csv.field_size_limit():,} 文字を超えています）"
                )
                raise refuse("too_large", message, name) from None
            raise refuse("unreadable", f"CSV として読めません（{exc}）", name) from None

    return Table(name, open_rows)


# --------------------------------------------------------------------------- merged cells

#: (top row, bottom row, 0-based column) of a vertically merged range.
Merge = tuple[int, int, int]


def carry_down(
    rows: Iterable[tuple[int, Row]], merges: Iterable[Merge], carry_from: int | None
) -> Iterator[tuple[int, Row]]:
    """The rows with each vertically merged range's value (its top cell)
    written into the cells below it, in the range's first column, for the
    ranges starting at row ``carry_from`` or below."""
    by_top: dict[int, list[tuple[int, int]]] = {}
    for top, bottom, col in merges:
        if carry_from is not None and top >= carry_from and bottom > top:
            by_top.setdefault(top, []).append((bottom, col))
    if not by_top:
        yield from rows
        return
    active: dict[int, tuple[int, Any]] = {}  # column → (bottom row, value)
    for n, row in rows:
        values = list(row)
        for col, (bottom, value) in list(active.items()):
            if n > bottom:
                del active[col]
            elif col >= len(values) or values[col] is None or values[col] == "":
                values.extend([None] * (col + 1 - len(values)))
                values[col] = value
        for bottom, col in by_top.get(n, ()):
            active[col] = (bottom, values[col] if col < len(values) else None)
        yield n, tuple(values)


_CELL_REF = re.compile(r"([A-Z]{1,3})(\d{1,7})")


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _parse_range(ref: str) -> Merge | None:
    parts = ref.upper().split(":")
    if len(parts) != 2:
        return None
    start, end = _CELL_REF.fullmatch(parts[0]), _CELL_REF.fullmatch(parts[1])
    if not start or not end:
        return None
    return int(start.group(2)), int(end.group(2)), _column_index(start.group(1))


# --------------------------------------------------------------------------- xlsx

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title → its part in the package, from the workbook's relationships."""
    from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped]

    workbook = fromstring(archive.read("xl/workbook.xml"))
    rels = fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG_REL}Relationship")}
    parts = {}
    for sheet in workbook.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_REL}id"), "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        parts[sheet.get("name", "")] = posixpath.normpath(path)
    return parts


_MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([^"]+)"')
_SCAN_CHUNK = 1024 * 1024


def _xlsx_merges(archive: zipfile.ZipFile, part: str, sheet: str) -> list[Merge]:
    """The merged ranges of one sheet. They follow the rows in the sheet's XML,
    so openpyxl's read-only mode does not give them; the part is scanned as
    bytes for its ``mergeCell`` elements (markup cannot occur in text, where
    ``<`` is escaped), which costs a fraction of a second parse."""
    merges: list[Merge] = []
    tail = b""
    with archive.open(part) as source:
        while chunk := source.read(_SCAN_CHUNK):
            block = tail + chunk
            cut = block.rfind(b"<")
            block, tail = (block[:cut], block[cut:]) if cut > 0 else (block, b"")
            for match in _MERGE_CELL.finditer(block):
                merge = _parse_range(match.group(1).decode("ascii", "replace"))
                if merge is not None:
                    merges.append(merge)
            if len(merges) > MAX_MERGES:
                raise refuse("too_large", f"結合セルが多すぎます（上限 {MAX_MERGES:,} 個）", sheet)
        merges += [m for m in map(_parse_range, _tail_refs(tail)) if m is not None]
    return merges


def _tail_refs(tail: bytes) -> list[str]:
    return [m.group(1).decode("ascii", "replace") for m in _MERGE_CELL.finditer(tail)]


def _xlsx_tables(data: bytes, name: str) -> tuple[Table, ...]:
    import openpyxl

    def fail(exc: Exception, sheet: str = name) -> RegistryImportError:
        detail = " ".join(str(exc).split())[:120]
        return refuse(
            "unreadable",
            f"xlsx ファイルとして読めません（{type(exc).__name__}: {detail}）。"
            "Excel で開けるか確かめ、保存し直してください",
            sheet,
        )

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        titles = [ws.title for ws in workbook.worksheets]
        workbook.close()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = _sheet_parts(archive)
    except Exception as exc:  # BadZipFile, KeyError, ParseError, InvalidFileException, …
        raise fail(exc) from None

    def opener(title: str) -> RowOpener:
        def open_rows(carry_from: int | None = None) -> Iterator[tuple[int, Row]]:
            try:
                merges: list[Merge] = []
                if carry_from is not None and title in parts:
                    with zipfile.ZipFile(io.BytesIO(data)) as archive:
                        merges = _xlsx_merges(archive, parts[title], title)
                book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
                try:
                    ws = book[title]
                    # The declared size may lie (A1:XFD1048576): rows as they are.
                    ws.reset_dimensions()
                    rows = enumerate(ws.iter_rows(values_only=True), start=1)
                    limited = ((n, r[:MAX_COLUMNS]) for n, r in rows)
                    yield from carry_down(limited, merges, carry_from)
                finally:
                    book.close()
            except RegistryImportError:
                raise
            except Exception as exc:  # a sheet's XML broken half-way, …
                raise fail(exc, title) from None

        return open_rows

    return tuple(Table(title, opener(title)) for title in titles)


# --------------------------------------------------------------------------- ods


def _ods_value(cell: Any) -> Any:
    from odf import teletype
    from odf.text import P

    kind = cell.getAttribute("valuetype")
    if kind in {"float", "percentage", "currency"}:
        value = cell.getAttribute("value")
        try:
            number = float(value)
        except (TypeError, ValueError):
            return value
        return int(number) if number.is_integer() else number
    if kind == "date":
        text = cell.getAttribute("datevalue") or ""
        try:
            return datetime.datetime.fromisoformat(text)
        except ValueError:
            return text
    if kind == "boolean":
        return cell.getAttribute("booleanvalue") == "true"
    paragraphs = [teletype.extractText(p) for p in cell.getElementsByType(P)]
    text = "\n".join(paragraphs)
    return text if text else None


def _ods_rows(table: Any, sheet: str) -> tuple[list[tuple[int, Row]], list[Merge]]:
    from odf.table import TableRow

    rows: list[tuple[int, Row]] = []
    merges: list[Merge] = []
    n = 0
    filled = 0
    for row in table.getElementsByType(TableRow):
        repeat = int(row.getAttribute("numberrowsrepeated") or 1)
        values: list[Any] = []
        col = 0
        for cell in row.childNodes:
            kind = getattr(cell, "qname", (None, None))[1]
            if kind not in ("table-cell", "covered-table-cell") or col >= MAX_COLUMNS:
                continue
            span = int(cell.getAttribute("numbercolumnsrepeated") or 1)
            # A covered cell lies under a merged one: its value is carried down below.
            value = _ods_value(cell) if kind == "table-cell" else None
            if value is not None:
                values.extend([None] * (col - len(values)))
                values.extend([value] * min(span, MAX_COLUMNS - col))
                down = int(cell.getAttribute("numberrowsspanned") or 1)
                if down > 1:
                    merges.append((n + 1, n + down, col))
                    if len(merges) > MAX_MERGES:
                        message = f"結合セルが多すぎます（上限 {MAX_MERGES:,} 個）"
                        raise refuse("too_large", message, sheet)
            col += span
        if not values:  # blank rows, however many are "repeated", are only counted
            n += repeat
            continue
        for _ in range(repeat):
            n += 1
            filled += 1
            if filled > MAX_ROWS + 1:
                raise refuse("too_large", f"行が多すぎます（上限 {MAX_ROWS:,} 行）", sheet)
            rows.append((n, tuple(values)))
    return rows, merges


def _ods_tables(data: bytes, name: str) -> tuple[Table, ...]:
    from odf.opendocument import load
    from odf.table import Table as OdsTable

    try:
        document = load(io.BytesIO(data))
        sheets = []
        for table in document.spreadsheet.getElementsByType(OdsTable):
            title = table.getAttribute("name") or ""
            rows, merges = _ods_rows(table, title)
            sheets.append((title, rows, merges))
    except RegistryImportError:
        raise
    except Exception as exc:  # ParseError, KeyError, DefusedXmlException, …
        detail = " ".join(str(exc).split())[:120]
        raise refuse(
            "unreadable",
            f"ods ファイルとして読めません（{type(exc).__name__}: {detail}）",
            name,
        ) from None

    def opener(rows: Sequence[tuple[int, Row]], merges: Sequence[Merge]) -> RowOpener:
        def open_rows(carry_from: int | None = None) -> Iterator[tuple[int, Row]]:
            return carry_down(iter(rows), merges, carry_from)

        return open_rows

    return tuple(Table(title, opener(rows, merges)) for title, rows, merges in sheets)


# --------------------------------------------------------------------------- the way in


def load_tables(source: Source, name: str = "") -> tuple[bytes, Loaded]:
    """The file's bytes and its tables; raises ``RegistryImportError``."""
    data = read_bytes(source, name=name)
    file_format, _ = sniff_format(data, name)
    if file_format == "xlsx":
        return data, Loaded("xlsx", _xlsx_tables(data, name))
    if file_format == "ods":
        return data, Loaded("ods", _ods_tables(data, name))
    sheet = name or "CSV"
    text, encoding = decode_csv(data, sheet)
    return data, Loaded("csv", (_csv_table(text, sheet),), encoding)
