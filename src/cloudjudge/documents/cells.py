"""Cell values for the workbooks and CSV files that leave the city: text, never a formula.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and,
in some programs, with a tab or a carriage return before one of them) as a
formula: ``=HYPERLINK("http://evil", "…")`` in a service name would become a
live link, ``=cmd|' /C calc'!A0`` a command (OWASP "CSV injection"). A file
that goes to a vendor or to another office must carry what a person typed as
text. This module is the one place every writer asks:

* :func:`csv_text` for CSV: a leading apostrophe, which Excel and LibreOffice
  show as a text mark and do not run;
* :func:`put_text` for openpyxl cells (normal and write-only): the value
  written as a string cell, and, when it looks like a formula, with Excel's
  quote prefix so that editing the cell keeps it text.

Characters that XML 1.0 cannot carry (control characters other than tab and
line breaks) are dropped, so a stray ``\\x01`` in a name never stops a file
from being written.
"""

from __future__ import annotations

from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

#: A cell starting with one of these is a formula to Excel, LibreOffice or Sheets.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet would take ``text`` for a formula."""
    return text.startswith(FORMULA_PREFIXES)


def csv_text(value: object) -> str:
    """A CSV cell: ``None`` as empty, formula-like text behind an apostrophe."""
    if value is None:
        return ""
    text = str(value)
    return f"'{text}" if looks_like_formula(text) else text


def clean_text(text: str) -> str:
    """``text`` without the characters an .xlsx cannot hold."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def put_text(cell: Any, value: object) -> Any:
    """Set an openpyxl cell to ``value``; text is always a string cell, never a
    formula, whatever it starts with. Other values (numbers, dates, ``None``)
    are set as they are. Returns the cell."""
    if not isinstance(value, str):
        cell.value = value
        return cell
    text = clean_text(value)
    cell.value = text
    cell.data_type = "s"
    if looks_like_formula(text):
        cell.quotePrefix = True
    return cell
