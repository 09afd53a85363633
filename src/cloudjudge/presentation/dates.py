"""How the city writes a date: 和暦 (令和8年12月3日) by default, 西暦 on request.

Every date a person reads — pages, PDFs, workbooks, the questionnaire cover,
e-mails — goes through ``format_date`` so that one setting changes them all.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

DateStyle = Literal["wareki", "seireki", "iso"]
DATE_STYLES: tuple[DateStyle, ...] = ("wareki", "seireki", "iso")

# First day of each era, newest first (元号法; 令和 from 2019-05-01).
_ERAS: tuple[tuple[dt.date, str], ...] = (
    (dt.date(2019, 5, 1), "令和"),
    (dt.date(1989, 1, 8), "平成"),
    (dt.date(1926, 12, 25), "昭和"),
)


def wareki_year(day: dt.date) -> str:
    """「令和8年」: the era and its year, 元年 for the first."""
    for start, era in _ERAS:
        if day >= start:
            year = day.year - start.year + 1
            return f"{era}{'元' if year == 1 else year}年"
    return f"{day.year}年"


def format_date(value: dt.date | dt.datetime | None, style: DateStyle = "wareki") -> str:
    """The date of ``value`` in ``style``; a datetime is taken as already local."""
    if value is None:
        return ""
    day = value.date() if isinstance(value, dt.datetime) else value
    if style == "iso":
        return day.isoformat()
    if style == "seireki":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{wareki_year(day)}{day.month}月{day.day}日"


def format_datetime(value: dt.datetime | None, style: DateStyle = "wareki") -> str:
    """The date in ``style`` and the time to the minute: 「令和8年12月3日 14:05」."""
    if value is None:
        return ""
    return f"{format_date(value, style)} {value:%H:%M}"
