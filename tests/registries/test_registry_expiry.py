"""ISMAP基本規程 3.5: expiry from the audit-period end, renewal pending, withdrawal."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudjudge.registries import (
    RegistryEntry,
    days_left,
    expiry_date,
    expiry_from_audit_end,
    is_listed_on,
    read_registry,
    status_on,
)


def ismap(audit_end: date | None, **kw) -> RegistryEntry:
    return RegistryEntry(
        kind=kw.pop("kind", "ismap"),
        number=kw.pop("number", "C21-0001-1"),
        service_name="試験クラウド",
        provider="株式会社試験",
        audit_period_end=audit_end,
        **kw,
    )


@pytest.mark.parametrize(
    ("audit_end", "expiry"),
    [
        (date(2024, 3, 31), date(2025, 7, 31)),  # 起算日 4/1 → 応当日 2025-08-01 の前日
        (date(2024, 6, 15), date(2025, 10, 15)),
        (date(2024, 10, 30), date(2026, 2, 28)),  # 起算日 10/31, no 2026-02-31: month end
        (date(2024, 10, 29), date(2026, 2, 28)),  # 起算日 10/30, no 2026-02-30
        (date(2024, 10, 27), date(2026, 2, 27)),  # 起算日 10/28 → 応当日 2026-02-28 の前日
        (date(2022, 10, 30), date(2024, 2, 29)),  # leap year: 2024-02-29 exists? no 02-31
        (date(2022, 10, 28), date(2024, 2, 28)),  # 起算日 10/29 → 応当日 2024-02-29 の前日
        (date(2023, 12, 31), date(2025, 4, 30)),  # 起算日 2024-01-01 → 2025-05-01 の前日
        (date(2024, 8, 31), date(2025, 12, 31)),  # across the year end
        (date(2024, 9, 30), date(2026, 1, 31)),  # 起算日 10/1 → 2026-02-01 の前日
    ],
)
def test_expiry_by_rule_3_5(audit_end, expiry):
    assert expiry_from_audit_end(audit_end) == expiry
    assert expiry_date(ismap(audit_end)) == expiry
    assert expiry_date(ismap(audit_end, kind="ismap_liu")) == expiry


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)))
def test_expiry_is_the_day_before_the_corresponding_day_or_the_month_end(audit_end):
    start = audit_end + timedelta(days=1)  # 起算日
    expiry = expiry_from_audit_end(audit_end)
    after = expiry + timedelta(days=1)  # first day no longer valid
    months = (after.year - start.year) * 12 + after.month - start.month
    target_year, target_month = divmod(start.year * 12 + start.month - 1 + 16, 12)
    last_day = calendar.monthrange(target_year, target_month + 1)[1]
    if start.day <= last_day:
        assert (months, after.day) == (16, start.day)  # the 応当日 exists
    else:
        assert (months, after.day) == (17, 1)  # the last day of the month was the end


def test_lgwan_asp_has_no_expiry():
    entry = RegistryEntry(
        "lgwan_asp", "A1", "電子申請", "株式会社い", registered_on=date(2019, 5, 7)
    )
    assert expiry_date(entry) is None
    assert days_left(entry, date(2030, 1, 1)) is None
    assert status_on(entry, date(2040, 1, 1)) == "valid"
    assert is_listed_on(entry, date(2040, 1, 1))
    assert status_on(entry, date(2019, 5, 6)) == "not_yet_registered"
    assert not is_listed_on(entry, date(2019, 5, 6))


def test_status_through_the_life_of_a_registration():
    entry = ismap(date(2024, 3, 31), registered_on=date(2024, 7, 10))  # expiry 2025-07-31
    assert status_on(entry, date(2024, 7, 9)) == "not_yet_registered"
    assert status_on(entry, date(2024, 7, 10)) == "valid"
    assert status_on(entry, date(2025, 5, 2)) == "valid"  # 90 days left: not yet expiring
    assert days_left(entry, date(2025, 5, 2)) == 90
    assert status_on(entry, date(2025, 5, 3)) == "expiring"  # 89 days left
    assert status_on(entry, date(2025, 7, 31)) == "expiring"  # the last valid day
    assert days_left(entry, date(2025, 7, 31)) == 0
    assert is_listed_on(entry, date(2025, 7, 31))
    assert status_on(entry, date(2025, 8, 1)) == "expired"
    assert not is_listed_on(entry, date(2025, 8, 1))
    assert days_left(entry, date(2025, 8, 1)) == -1


def test_days_ahead_parameter():
    entry = ismap(date(2024, 3, 31))  # expiry 2025-07-31
    assert status_on(entry, date(2025, 7, 2), days_ahead=30) == "expiring"  # 29 days left
    assert status_on(entry, date(2025, 7, 1), days_ahead=30) == "valid"  # 30 days left
    assert status_on(entry, date(2025, 7, 31), days_ahead=0) == "valid"
    assert status_on(entry, date(2024, 4, 1), days_ahead=3650) == "expiring"
    with pytest.raises(ValueError):
        status_on(entry, date(2025, 7, 1), days_ahead=-1)


def test_month_end_clamp_keeps_the_listing_through_february_28():
    entry = ismap(date(2024, 10, 30))
    assert is_listed_on(entry, date(2026, 2, 28))
    assert not is_listed_on(entry, date(2026, 3, 1))


def test_renewal_pending_keeps_an_expired_registration_valid():
    entry = ismap(date(2023, 6, 30), renewal_pending=True)  # expiry 2024-10-31
    assert expiry_date(entry) == date(2024, 10, 31)  # the date itself does not move
    assert status_on(entry, date(2024, 10, 1)) == "valid"  # not "expiring": renewal applied
    assert status_on(entry, date(2024, 10, 31)) == "valid"
    assert status_on(entry, date(2024, 11, 1)) == "renewal_pending"
    assert status_on(entry, date(2030, 1, 1)) == "renewal_pending"
    assert is_listed_on(entry, date(2030, 1, 1))


def test_withdrawn_is_never_listed():
    entry = ismap(date(2024, 3, 31), withdrawn=True, renewal_pending=True)
    for day in (date(2024, 4, 1), date(2025, 7, 31), date(2026, 1, 1)):
        assert status_on(day=day, entry=entry) == "withdrawn"
        assert not is_listed_on(entry, day)
    lgwan = RegistryEntry("lgwan_asp", "A1", "電子申請", "株式会社い", withdrawn=True)
    assert not is_listed_on(lgwan, date(2025, 1, 1))


def test_a_withdrawn_entry_may_lack_the_audit_end_but_a_live_one_may_not():
    gone = ismap(None, withdrawn=True)
    assert expiry_date(gone) is None
    assert status_on(gone, date(2025, 1, 1)) == "withdrawn"
    with pytest.raises(ValueError, match="監査対象期間の末日が必要です"):
        ismap(None)


def test_statuses_of_the_ismap_fixture(fixture_path):
    entries = {e.number: e for e in read_registry(fixture_path("ismap_list.xlsx"), "ismap").entries}
    day = date(2025, 6, 1)
    assert {n: status_on(e, day) for n, e in entries.items()} == {
        "C21-0101-1": "expiring",  # audit end 2024-03-31 → 2025-07-31
        "C22-0202-1": "valid",  # 2024-09-30 → 2026-01-31
        "C22-0303-2": "renewal_pending",  # 2023-06-30 → 2024-10-31, 更新申請中
        "C23-0404-1": "withdrawn",
        "C24-0505-1": "valid",  # 2024-10-30 → 2026-02-28
        "C24-0606-1": "valid",  # 2024-12-31 → 2026-04-30
    }
    assert expiry_date(entries["C24-0505-1"]) == date(2026, 2, 28)
    listed = sorted(n for n, e in entries.items() if is_listed_on(e, date(2025, 8, 1)))
    assert listed == ["C22-0202-1", "C22-0303-2", "C24-0505-1", "C24-0606-1"]
