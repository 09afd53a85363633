"""Reading the dates people put in registry spreadsheets.

Accepted, after NFKC normalisation (so full-width digits and punctuation work):

* spreadsheet dates (a date cell in .xlsx), and in .xlsx a plain number that is
  an Excel serial date (1990–2100) or ``yyyymmdd``;
* ``2024/3/31``, ``2024-03-31``, ``2024.3.31``, ``2024年3月31日``, ``20240331``;
* Japanese eras: ``令和6年3月31日``, ``令和元年5月1日``, ``R6.3.31``, ``R6/3/31``,
  ``平成31年4月30日``, ``H31.4.30``, ``昭和64年1月7日``, ``S64.1.7``, and the
  one-character era signs (㋿, ㍻, ㍼);
* a trailing weekday ``(日)`` and a trailing time ``0:00:00`` are ignored.

Two-digit Western years (``24/3/31``) are refused as ambiguous.

For an audit period written as a range (``2023/4/1～2024/3/31``,
``令和5年4月1日～令和6年3月31日``, ``2023年4月1日から2024年3月31日まで``)
``parse_period_end`` returns the last date.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

#: First year of each era (元年), by every way of writing its name.
ERA_FIRST_YEAR: dict[str, int] = {
    "令和": 2019,
    "R": 2019,
    "平成": 1989,
    "H": 1989,
    "昭和": 1926,
    "S": 1926,
}

_DATE = re.compile(
    r"(?:(?P<era>令和|平成|昭和|[RHSrhs])\s*(?P<eyear>元|\d{1,2})"
    r"|(?P<year>\d{4}))"
    r"\s*(?:年|[/\-.])\s*(?P<month>\d{1,2})\s*(?:月|[/\-.])\s*(?P<day>\d{1,2})\s*日?"
)
_COMPACT = re.compile(r"(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})")
_WEEKDAY = re.compile(r"\s*\((?:月|火|水|木|金|土|日|祝)\)")
_TIME = re.compile(r"(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")
_RANGE_GLUE = re.compile(r"(?:\s|~|〜|-|‐|–|—|―|ー|から|より|まで|至|自|to)*", re.IGNORECASE)
_RANGE_MARK = re.compile(r"~|〜|-|‐|–|—|―|ー|から|至|to", re.IGNORECASE)

_EXCEL_EPOCH = date(1899, 12, 30)
_SERIAL_RANGE = (32874, 73051)  # 1990-01-01 .. 2100-01-01


class DateError(ValueError):
    """The value is not a date; the message is Japanese and names the value."""


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip()
    text = _WEEKDAY.sub("", text)
    return _TIME.sub("", text).strip()


def _from_match(m: re.Match[str], original: object) -> date:
    era = m.groupdict().get("era")
    if era:
        era = era.upper()
        n = 1 if m.group("eyear") == "元" else int(m.group("eyear"))
        if n == 0:
            raise DateError(f"和暦の年が 0 です（値: {original!r}）")
        year = ERA_FIRST_YEAR[era] + n - 1
    else:
        year = int(m.group("year"))
    try:
        return date(year, int(m.group("month")), int(m.group("day")))
    except ValueError:
        raise DateError(f"存在しない日付です（値: {original!r}）") from None


def _from_number(value: float, original: object) -> date:
    if value != int(value):
        raise DateError(f"日付として読めません（値: {original!r}）")
    n = int(value)
    if 19000101 <= n <= 21001231:
        m = _COMPACT.fullmatch(str(n))
        assert m is not None
        return _from_match(m, original)
    if _SERIAL_RANGE[0] <= n <= _SERIAL_RANGE[1]:
        return _EXCEL_EPOCH + timedelta(days=n)
    raise DateError(f"日付として読めません（値: {original!r}）")


def parse_date(value: object) -> date:
    """One date from a cell value; raises ``DateError`` naming the value."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise DateError(f"日付として読めません（値: {value!r}）")
    if isinstance(value, int | float):
        return _from_number(value, value)
    text = _clean(str(value))
    m = _DATE.fullmatch(text) or _COMPACT.fullmatch(text)
    if m is None:
        raise DateError(
            f"日付として読めません（値: {value!r}）。"
            "2024/3/31、2024年3月31日、令和6年3月31日、R6.3.31 などの形で書いてください"
        )
    return _from_match(m, value)


_COMPACT_IN_TEXT = re.compile(r"(?<!\d)(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})(?!\d)")


def find_dates(text: str) -> list[date]:
    """Every date written in a free text (a note such as 「2024年5月1日 取下げ」),
    in order; raises ``DateError`` for one that does not exist (2024/2/30)."""
    cleaned = unicodedata.normalize("NFKC", text)
    found = [(m.start(), _from_match(m, text)) for m in _DATE.finditer(cleaned)]
    rest = _DATE.sub(lambda m: " " * len(m.group(0)), cleaned)
    found += [(m.start(), _from_match(m, text)) for m in _COMPACT_IN_TEXT.finditer(rest)]
    return [d for _, d in sorted(found, key=lambda pair: pair[0])]


def parse_period_end(value: object) -> date:
    """The last day of a period written as ``開始～終了``; raises ``DateError``.

    A single date is accepted only when a range mark precedes it
    (``～2024/3/31``): alone it could be the start as well as the end.
    """
    if isinstance(value, date | int | float):
        raise DateError(
            f"期間として読めません（値: {value!r}）。"
            "「2023/4/1～2024/3/31」のように開始日と終了日を書くか、"
            "列名を「監査対象期間の末日」にしてください"
        )
    text = _clean(str(value))
    matches = list(_DATE.finditer(text))
    glue = _DATE.sub(" ", text)
    if not matches or len(matches) > 2 or not _RANGE_GLUE.fullmatch(glue):
        raise DateError(
            f"期間として読めません（値: {value!r}）。"
            "「2023/4/1～2024/3/31」や「令和5年4月1日～令和6年3月31日」の形で書いてください"
        )
    if len(matches) == 1:
        before = text[: matches[0].start()]
        if not _RANGE_MARK.search(before):
            raise DateError(
                f"期間の終了日が分かりません（値: {value!r}）。"
                "「2023/4/1～2024/3/31」のように開始日と終了日を書いてください"
            )
        return _from_match(matches[0], value)
    start = _from_match(matches[0], value)
    end = _from_match(matches[1], value)
    if end < start:
        raise DateError(f"期間の終了日が開始日より前です（値: {value!r}）")
    return end
