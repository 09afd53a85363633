"""The city's date convention: 和暦 by default, 西暦 and ISO on request."""

import datetime as dt

import pytest

from cloudjudge.presentation.dates import format_date, format_datetime


@pytest.mark.parametrize(
    ("day", "style", "text"),
    [
        (dt.date(2026, 12, 3), "wareki", "令和8年12月3日"),
        (dt.date(2019, 5, 1), "wareki", "令和元年5月1日"),
        (dt.date(2019, 4, 30), "wareki", "平成31年4月30日"),
        (dt.date(1989, 1, 7), "wareki", "昭和64年1月7日"),
        (dt.date(2026, 12, 3), "seireki", "2026年12月3日"),
        (dt.date(2026, 12, 3), "iso", "2026-12-03"),
        (dt.datetime(2026, 12, 3, 23, 59), "wareki", "令和8年12月3日"),
        (None, "wareki", ""),
    ],
)
def test_a_date_is_written_as_the_city_writes_it(day, style, text):
    assert format_date(day, style) == text


def test_templates_write_dates_in_the_configured_style(settings):
    from django.template import Context, Template

    template = Template("{{ day|city_date }}")
    assert template.render(Context({"day": dt.date(2026, 12, 3)})) == "令和8年12月3日"
    settings.CLOUDJUDGE_DATE_STYLE = "seireki"
    assert template.render(Context({"day": dt.date(2026, 12, 3)})) == "2026年12月3日"


def test_a_datetime_is_the_citys_date_and_the_minute():
    moment = dt.datetime(2026, 12, 3, 9, 5, 59)
    assert format_datetime(moment) == "令和8年12月3日 09:05"
    assert format_datetime(moment, "seireki") == "2026年12月3日 09:05"
    assert format_datetime(None) == ""
