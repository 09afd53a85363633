"""The registry's answer for a service: matching names across their variations,
recorded numbers, the 3.5 expiry including a pending renewal, lists never
imported, and the findings shown with a judgement."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cloudjudge.registries import status_on
from cloudjudge.web.register.models import Service
from cloudjudge.web.registries import entries as entry_service
from cloudjudge.web.registries.entries import FILTER_STATUSES, status_q
from cloudjudge.web.registries.listings import Registry, effective_listings
from cloudjudge.web.registries.models import RegistryEntry

from .conftest import ismap_csv

D = datetime.date


def service(name: str, provider: str = "", listings=()) -> Service:
    s = Service(name=name, provider=provider)
    s.listings = listings
    return s  # unsaved: matched by name, as the live preview does


@pytest.fixture
def registries(load, fixture_path):
    load("ismap", fixture_path("ismap_list.xlsx"))
    load("ismap_liu", fixture_path("ismap_liu_list.xlsx"))
    load("lgwan_asp", fixture_path("lgwan_asp_list_cp932.csv"))
    load("lgwan_asp", fixture_path("lgwan_asp_list_utf8bom.csv"))  # replaces the CP932 list


@pytest.mark.parametrize(
    ("kind", "name", "provider", "number", "method"),
    [
        # full-width letters and an ideographic space in the list, half-width here
        ("ismap", "ABCドライブビジネス", "ABC（株）", "C22-0202-1", "name_provider"),
        ("ismap", "ａｂｃ ドライブ　ビジネス", "ＡＢＣ株式会社", "C22-0202-1", "name_provider"),
        # （株）in the list, 株式会社 here
        ("ismap", "みなとワークフロー", "株式会社みなとソフト", "C22-0303-2", "name_provider"),
        # Latin suffix K.K. dropped; name written with half-width letters
        ("ismap", "Blue Sky CRM", "Blue Sky Japan", "C24-0505-1", "name_provider"),
        ("ismap", "blue sky crm", "", "C24-0505-1", "name"),  # no provider: name alone
        # long-vowel mark and a provider that differs only in the designator
        ("ismap", "データ保管庫サービス", "データ保管 Co., Ltd.", "C24-0606-1", "name_provider"),
        ("ismap_liu", "チャットボットクイック", "QUICK BOT, Inc.", "L24-0003-1", "name_provider"),
        ("ismap_liu", "かんたん日程調整", "日程調整ラボ", "L23-0001-1", "name_provider"),
        ("lgwan_asp", "𠮷田式文書管理", "𠮷田システム(株)", "B200001", "name_provider"),
        ("lgwan_asp", "窓口予約サービス", "株式会社まどぐち", "B200002", "name_provider"),
    ],
)
def test_name_matching_across_variations(registries, today, kind, name, provider, number, method):
    registry = Registry.load([{"name": name}])
    found = registry.resolve(kind, name, provider)
    assert found.entry is not None, (name, provider)
    assert (found.entry.number, found.method) == (number, method)
    # the whole registry gives the same answer as the targeted load
    assert Registry.load().resolve(kind, name, provider).entry.number == number


def test_a_different_provider_or_kind_does_not_match(registries):
    registry = Registry.load()
    assert registry.resolve("ismap", "みなとワークフロー", "株式会社みなと").entry is None
    assert registry.resolve("ismap_liu", "みなとワークフロー", "みなとソフト").entry is None
    assert registry.resolve("ismap", "みなとクラウド", "みなとソフト").entry is None


def test_replaced_list_entries_are_removed_and_not_listings(registries, today):
    # the CP932 list was replaced by the UTF-8 one: its entries left the list
    check = effective_listings(
        service("電子申請サービスみらい", "株式会社みらい行政", ["lgwan_asp"]), today
    )
    lgwan = check.check("lgwan_asp")
    assert lgwan.status == "removed" and not lgwan.counted
    assert "lgwan_asp" not in check.codes
    assert check.findings[0]["message"].startswith(
        "申告された LGWAN-ASP 掲載は登録簿で確認できません（最新のリストに掲載なし: A100001"
    )


def test_recorded_number_is_authoritative(registries, make_service, security, today):
    svc = make_service(name="社内で呼んでいる名前", provider="どこか", listings=("ismap",))
    assert effective_listings(svc, today).check("ismap").status == "unknown"
    entry_service.set_number(svc, "ismap", "ｃ２２－０３０３－２", security)  # normalised
    check = effective_listings(svc, today)
    ismap = check.check("ismap")
    assert (ismap.kind, ismap.entry.number, ismap.method) == ("ismap", "C22-0303-2", "number")
    # a recorded number that is not on the list does not fall back to the name
    entry_service.set_number(svc, "ismap", "C99-9999-9", security)
    ismap = effective_listings(svc, today).check("ismap")
    assert ismap.status == "unknown"
    assert ismap.finding()["message"] == (
        "申告された ISMAP 掲載は登録簿で確認できません（登録番号 C99-9999-9 は登録簿にありません）"
    )


def _ismap_entry(load, audit_end, pending=False, withdrawn=False):
    load(
        "ismap",
        ismap_csv(("C21-0001-1", "試験クラウド", "株式会社試験", audit_end, pending, withdrawn)),
    )
    return service("試験クラウド", "試験株式会社", ["ismap"])


@pytest.mark.parametrize(
    ("pending", "day", "status", "counted"),
    [
        (False, D(2025, 7, 31), "valid", True),  # the last valid day (days_ahead 0 at judgement)
        (False, D(2025, 8, 1), "expired", False),
        (True, D(2025, 8, 1), "renewal_pending", True),  # 3.5 ただし書
        (True, D(2027, 1, 1), "renewal_pending", True),
    ],
)
def test_expiry_by_rule_3_5_including_renewal_pending(load, pending, day, status, counted):
    svc = _ismap_entry(load, D(2024, 3, 31), pending=pending)
    assert RegistryEntry.objects.get().expires_on == D(2025, 7, 31)
    check = effective_listings(svc, day).check("ismap")
    assert check.status in {status, "expiring"} and check.counted is counted
    if status != "valid":
        assert check.status == status


def test_findings_name_the_reason(load):
    svc = _ismap_entry(load, D(2024, 3, 31))
    expired = effective_listings(svc, D(2025, 8, 1))
    assert expired.codes == []
    assert expired.findings == [
        {
            "level": "mismatch",
            "code": "expired",
            "kind": "ismap",
            "message": "申告された ISMAP 掲載は登録簿で確認できません（有効期限切れ: 2025-07-31）",
        }
    ]
    expiring = effective_listings(svc, D(2025, 7, 1))
    assert expiring.codes == ["ismap"]
    assert expiring.findings[0]["message"] == (
        "ISMAP の登録（C21-0001-1）は 2025-07-31 に有効期限を迎えます（あと 30 日）"
    )


def test_withdrawn_is_not_a_listing(load, today):
    svc = _ismap_entry(load, today, withdrawn=True)
    check = effective_listings(svc, today)
    assert check.codes == [] and check.check("ismap").status == "withdrawn"
    assert "（取下げ・登録取消: C21-0001-1）" in check.findings[0]["message"]


def test_renewal_pending_past_expiry_is_noted(load):
    svc = _ismap_entry(load, D(2024, 3, 31), pending=True)
    check = effective_listings(svc, D(2025, 9, 1))
    assert check.codes == ["ismap"]
    assert check.findings[0]["level"] == "info"
    assert "更新申請中のため有効です" in check.findings[0]["message"]


def test_an_undeclared_listing_on_the_registry_counts_with_a_note(load, today):
    _ismap_entry(load, today)
    check = effective_listings(service("試験クラウド", "株式会社試験"), today)
    assert check.codes == ["ismap"]
    assert check.findings[0]["level"] == "undeclared"
    assert check.findings[0]["message"].startswith("ISMAP 掲載は申告されていませんが、登録簿に")


def test_a_list_never_imported_counts_the_declaration_with_a_note(db, today):
    check = effective_listings(service("何か", "どこか", ["ismap", "lgwan_asp"]), today)
    assert check.codes == ["lgwan_asp", "ismap"]  # Service.LISTING_FIELDS order
    assert [f["level"] for f in check.findings] == ["unverified", "unverified"]
    assert "登録簿が未取込のため確認できません" in check.findings[1]["message"]
    # an undeclared kind stays not counted and silent
    assert [c.status for c in check.checks] == ["unverified", "not_loaded", "unverified"]


def test_unknown_when_the_list_is_loaded_but_has_no_such_service(load, today):
    _ismap_entry(load, today)
    check = effective_listings(service("載っていない", "どこか", ["ismap"]), today)
    assert check.codes == []
    assert check.findings[0]["message"] == (
        "申告された ISMAP 掲載は登録簿で確認できません（登録簿に該当なし）"
    )


def test_effective_listings_queries_are_fixed(registries, make_service, today):
    svc = make_service(name="みなとワークフロー", provider="みなとソフト", listings=("ismap",))
    with CaptureQueriesContext(connection) as ctx:
        effective_listings(svc, today)
    assert len(ctx.captured_queries) == 3  # recorded numbers, kinds imported, candidates


@pytest.mark.parametrize("offset", [-900, -400, -120, -30, 0, 30, 89, 90, 200, 400])
def test_status_filter_agrees_with_status_on(registries, load, today, offset):
    day = today + datetime.timedelta(days=offset)
    # add entries around ``day`` so every status occurs somewhere
    rows = [
        (
            f"C30-{i:04d}-1",
            f"境界{i}",
            "株式会社境界",
            day - datetime.timedelta(days=480 + i * 7),
            i % 3 == 0,
            i % 11 == 0,
        )
        for i in range(30)
    ]
    load("ismap", ismap_csv(*rows))
    expected = {}
    for entry in RegistryEntry.objects.all():
        status = "removed" if not entry.on_list else status_on(entry.to_core(), day)
        expected[entry.pk] = status
    for status in FILTER_STATUSES:
        found = set(
            RegistryEntry.objects.filter(status_q(status, day)).values_list("pk", flat=True)
        )
        assert found == {pk for pk, s in expected.items() if s == status}, status


@pytest.mark.parametrize("offset", [-400, -30, 0, 30, 400])
def test_status_filter_agrees_with_status_on_for_dated_and_renewed_entries(load, today, offset):
    """Lapses, suspensions and withdrawals from a date, renewals applied in
    time or late (3.5), and entries renewed under a new number or removed."""
    day = today + datetime.timedelta(days=offset)
    words = ("失効", "一時停止", "取下げ", "")
    lines = ["登録番号,クラウドサービスの名称,事業者,監査対象期間の末日,更新申請中,備考"]
    for i in range(24):
        end = day - datetime.timedelta(days=400 + i * 9)
        applied = end + datetime.timedelta(days=470 + (i % 5) * 10)  # around the expiry
        since = day + datetime.timedelta(days=(i % 3 - 1) * 5)
        word = words[i % 4]
        note = f"{word}（{since:%Y/%m/%d}）" if word and i % 2 else word
        pending = f"{applied:%Y/%m/%d}" if i % 3 == 0 else ("○" if i % 7 == 0 else "")
        lines.append(f"C31-{i:04d}-1,日付{i},株式会社日付,{end:%Y/%m/%d},{pending},{note}")
    load("ismap", ("\n".join(lines) + "\n").encode(), filename="dated.csv")
    # a later list renews two entries under a new number and drops one
    later = [ln for ln in lines if not ln.startswith(("C31-0000-1", "C31-0001-1", "C31-0002-1"))]
    later += [
        lines[1].replace("C31-0000-1", "C31-0000-2"),
        lines[2].replace("C31-0001-1", "C40-9999-1"),
    ]
    load("ismap", ("\n".join(later) + "\n").encode(), filename="later.csv")
    expected = {e.pk: e.status_on(day) for e in RegistryEntry.objects.select_related()}
    assert {"renewed", "removed", "lapsed", "suspended", "withdrawn"} <= set(expected.values())
    for status in FILTER_STATUSES:
        found = set(
            RegistryEntry.objects.filter(status_q(status, day)).values_list("pk", flat=True)
        )
        assert found == {pk for pk, s in expected.items() if s == status}, status
