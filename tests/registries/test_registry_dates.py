"""Every date format people put in registry lists, and the ones refused."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from cloudjudge.registries.dates import DateError, parse_date, parse_period_end


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2024, 3, 31), date(2024, 3, 31)),
        (datetime(2024, 3, 31, 0, 0), date(2024, 3, 31)),
        ("2024/3/31", date(2024, 3, 31)),
        ("2024/03/31", date(2024, 3, 31)),
        ("2024-03-31", date(2024, 3, 31)),
        ("2024.3.31", date(2024, 3, 31)),
        ("2024年3月31日", date(2024, 3, 31)),
        ("2024 年 3 月 31 日", date(2024, 3, 31)),
        ("20240331", date(2024, 3, 31)),
        ("2024/3/31 0:00:00", date(2024, 3, 31)),
        ("2024/3/31(日)", date(2024, 3, 31)),
        ("令和6年3月31日", date(2024, 3, 31)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("令和元年12月31日", date(2019, 12, 31)),
        ("R6.3.31", date(2024, 3, 31)),
        ("R6/3/31", date(2024, 3, 31)),
        ("r6-3-31", date(2024, 3, 31)),
        ("R1.5.1", date(2019, 5, 1)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("H31.4.30", date(2019, 4, 30)),
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("２０２４／３／３１", date(2024, 3, 31)),
        ("２０２４年３月３１日", date(2024, 3, 31)),
        ("令和６年３月３１日", date(2024, 3, 31)),
        ("Ｒ６．３．３１", date(2024, 3, 31)),
        ("㋿6年3月31日", date(2024, 3, 31)),
        ("㍻31年4月1日", date(2019, 4, 1)),
        (" 2024/3/31 ", date(2024, 3, 31)),
        (45382, date(2024, 3, 31)),  # an Excel serial date in a number cell
        (45382.0, date(2024, 3, 31)),
        (20240331, date(2024, 3, 31)),
    ],
)
def test_parse_date(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2024/2/30", "存在しない日付です"),
        ("令和6年13月1日", "存在しない日付です"),
        ("令和0年1月1日", "和暦の年が 0 です"),
        ("24/3/31", "日付として読めません"),
        ("未定", "日付として読めません"),
        ("2024/3", "日付として読めません"),
        ("2023/4/1～2024/3/31", "日付として読めません"),
        (5, "日付として読めません"),
        (45382.5, "日付として読めません"),
        (True, "日付として読めません"),
    ],
)
def test_parse_date_refuses(value, message):
    with pytest.raises(DateError) as info:
        parse_date(value)
    assert message in str(info.value)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023/4/1～2024/3/31", date(2024, 3, 31)),
        ("2023/4/1〜2024/3/31", date(2024, 3, 31)),  # wave dash
        ("2023/4/1 ~ 2024/3/31", date(2024, 3, 31)),
        ("2023-04-01 - 2024-03-31", date(2024, 3, 31)),
        ("2023-04-01－2024-03-31", date(2024, 3, 31)),
        ("令和5年4月1日～令和6年3月31日", date(2024, 3, 31)),
        ("令和元年5月1日～令和2年3月31日", date(2020, 3, 31)),
        ("2023年4月1日から2024年3月31日まで", date(2024, 3, 31)),
        ("自 2023年4月1日 至 2024年3月31日", date(2024, 3, 31)),
        ("R5.4.1～R6.3.31", date(2024, 3, 31)),
        ("２０２３／４／１～２０２４／３／３１", date(2024, 3, 31)),
        ("～2024/3/31", date(2024, 3, 31)),
    ],
)
def test_parse_period_end(value, expected):
    assert parse_period_end(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2024/3/31", "期間の終了日が分かりません"),
        ("2024/3/31～", "期間の終了日が分かりません"),
        (date(2024, 3, 31), "期間として読めません"),
        ("2024/3/31～2023/4/1", "終了日が開始日より前です"),
        ("2023/4/1～2024/2/30", "存在しない日付です"),
        ("2023/4/1 および 2024/3/31", "期間として読めません"),
        ("通年", "期間として読めません"),
    ],
)
def test_parse_period_end_refuses(value, message):
    with pytest.raises(DateError) as info:
        parse_period_end(value)
    assert message in str(info.value)
