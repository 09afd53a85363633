"""The real lists in the database (issue 12): each fixture imported, with what
is stored and what the security office is told; renewals under a new number
re-linked on confirmation (page and audit); renewal-pending and late
renewals in the check."""

from __future__ import annotations

import datetime

import pytest

from cloudjudge.web.audit.models import AuditEntry
from cloudjudge.web.registries import entries as registry_entries
from cloudjudge.web.registries.checking import check_in_use
from cloudjudge.web.registries.importing import import_registry
from cloudjudge.web.registries.listings import effective_listings
from cloudjudge.web.registries.models import (
    RegistryEntry,
    RegistryLink,
    RegistrySnapshot,
    RelinkDecision,
    RelinkProposal,
)


def test_status_words_in_notes_are_stored_and_unreadable_notes_are_warnings(
    login, security, fixture_path, today
):
    result = import_registry("ismap", fixture_path("ismap_notes.xlsx"), security)
    assert result.status == "imported"
    assert "確認が必要な行が 2 件あります" in result.message
    by = {e.number: e for e in RegistryEntry.objects.all()}
    assert by["C21-1002-1"].withdrawn and by["C21-1002-1"].status_since == datetime.date(
        2025, 1, 31
    )
    assert by["C21-1003-1"].renewal_applied_on == datetime.date(2025, 1, 10)
    assert by["C21-1004-1"].lapsed and by["C21-1005-1"].suspended
    assert by["C21-1004-1"].status_on(today) == "lapsed"
    snapshot = result.snapshot
    assert [(w["code"], w["row"], w["column"]) for w in snapshot.warnings] == [
        ("unread_note", 7, "備考"),
        ("unread_note", 8, "備考"),
    ]
    assert AuditEntry.objects.get(object_type="registries.registrysnapshot").extra["warnings"] == 2
    page = login(security).get(f"/registries/snapshots/{snapshot.pk}/").content.decode()
    assert "確認が必要な行 2 件" in page and "旧名称: 試験ストレージ" in page
    # the list filter agrees with the status shown
    lapsed = registry_entries.search_entries(status="lapsed", today=today)
    assert [e.number for e in lapsed] == ["C21-1004-1"]
    withdrawn = registry_entries.search_entries(status="withdrawn", today=today)
    assert [e.number for e in withdrawn] == ["C21-1002-1"]  # not 予定 (2099)


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        (
            "lgwan_asp_merged.xlsx",
            "lgwan_asp",
            {
                "A300003": "アプリケーション及びコンテンツサービス",
                "A300005": "ホスティングサービス",
            },
        ),
        ("lgwan_asp_list.ods", "lgwan_asp", {"C400002": "アプリケーション及びコンテンツサービス"}),
    ],
)
def test_merged_cells_and_ods_are_stored(security, fixture_path, name, kind, expected):
    result = import_registry(kind, fixture_path(name), security)
    assert result.status == "imported", result.message
    assert result.snapshot.file_format == name.rsplit(".", 1)[1]
    for number, category in expected.items():
        assert RegistryEntry.objects.get(number=number).category == category


def test_the_example_row_is_not_stored(security, fixture_path):
    result = import_registry("ismap", fixture_path("ismap_with_example_row.xlsx"), security)
    assert sorted(RegistryEntry.objects.values_list("number", flat=True)) == [
        "C21-3001-1",
        "C21-3002-1",
    ]
    assert result.snapshot.warnings[0]["code"] == "example_row"
    assert "確認が必要な行が 1 件あります" in result.message


def test_an_ods_refusal_writes_nothing(security):
    result = import_registry("ismap", b"PK\x05\x06" + b"\0" * 18, security, filename="x.ods")
    assert result.status == "rejected" and "zip" in result.message
    assert not RegistrySnapshot.objects.exists() and not AuditEntry.objects.exists()


# --------------------------------------------------------------------------- renewals


@pytest.fixture
def renewal_world(
    load, fixture_path, make_service, make_application, put_in_use, applicant, security
):
    """The first list imported; three services in use: one with C23-0020-1
    recorded, one matched by name to it, one matched by name to C22-0300-1."""
    load("ismap", fixture_path("ismap_renewal_v1.csv"))
    services = {}
    for key, name, provider in (
        ("recorded", "旧称のシステム", "株式会社更新"),
        ("by_name", "枝番クラウド", "株式会社更新"),
        ("same_name", "新番号クラウド", "株式会社番号"),
    ):
        service = make_service(name=name, provider=provider, listings=("ismap",))
        if key == "recorded":
            registry_entries.set_number(service, "ismap", "C23-0020-1", security)
        put_in_use(make_application(service=service), applicant, security)
        services[key] = service
    return services


def test_a_renewal_is_shown_and_proposed_not_reported_as_gone(
    renewal_world, security, fixture_path, login, today
):
    result = import_registry("ismap", fixture_path("ismap_renewal_v2.csv"), security)
    assert result.status == "imported"
    snapshot = result.snapshot
    assert (snapshot.added_count, snapshot.removed_count, snapshot.renewed_count) == (0, 0, 2)
    assert "番号が変わった更新 2 件" in result.message
    assert "再リンクの確認が 2 件あります" in result.message

    old = RegistryEntry.objects.get(number="C23-0020-1")
    assert old.renewed_as.number == "C23-0020-2" and old.status_on(today) == "renewed"
    proposals = {p.service_id: p for p in RelinkProposal.objects.all()}
    recorded, by_name = renewal_world["recorded"], renewal_world["by_name"]
    assert set(proposals) == {recorded.pk, by_name.pk}  # 新番号クラウド follows by name
    assert proposals[recorded.pk].had_number and not proposals[by_name.pk].had_number
    assert {p.new_number for p in proposals.values()} == {"C23-0020-2"}

    # until confirmed: "renewed", never "removed" (掲載なし)
    statuses = {(a.service_id, a.status) for a in check_in_use().alerts}
    assert statuses == {(recorded.pk, "renewed"), (by_name.pk, "renewed")}
    same = effective_listings(renewal_world["same_name"])
    assert (
        same.check("ismap").status == "valid" and same.check("ismap").entry.number == "C24-0777-1"
    )

    client = login(security)
    page = client.get("/registries/relinks/").content.decode()
    assert "確認待ち 2 件" in page and "C23-0020-1" in page and "C23-0020-2 に再リンク" in page
    snapshot_page = client.get(f"/registries/snapshots/{snapshot.pk}/").content.decode()
    assert (
        "番号が変わった更新（2 件）" in snapshot_page
        and "登録番号の枝番が上がった" in snapshot_page
    )
    check_page = client.get("/registries/check/").content.decode()
    assert "更新で番号が変わりました" in check_page and "再リンクを確認する" in check_page


def test_confirming_a_relink_records_the_new_number_with_an_audit_entry(
    renewal_world, security, applicant, auditor, fixture_path, login
):
    import_registry("ismap", fixture_path("ismap_renewal_v2.csv"), security)
    recorded = renewal_world["recorded"]
    proposal = RelinkProposal.objects.get(service=recorded)
    url = f"/registries/relinks/{proposal.pk}/"
    for outsider in (applicant, auditor):
        assert login(outsider).post(url, {"decision": "accept"}).status_code == 403
    assert login(auditor).get("/registries/relinks/").status_code == 200  # reads, changes nothing

    before = AuditEntry.objects.count()
    response = login(security).post(url, {"decision": "accept"}, follow=True)
    assert "C23-0020-2 を記録しました" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.decision == RelinkDecision.ACCEPTED and proposal.decided_by == security
    assert RegistryLink.objects.get(service=recorded, kind="ismap").number == "C23-0020-2"
    new = AuditEntry.objects.order_by("sequence")[before:]
    kinds = [(e.object_type, e.after) for e in new]
    assert ("registries.registrylink", {"kind": "ismap", "number": "C23-0020-2"}) in kinds
    assert ("registries.relinkproposal", {"decision": "accepted"}) in kinds
    assert effective_listings(recorded).check("ismap").status == "valid"

    # twice is refused politely; declining the other one keeps the service as it was
    again = login(security).post(url, {"decision": "accept"}, follow=True).content.decode()
    assert "この提案は判断済みです" in again
    other = RelinkProposal.objects.get(service=renewal_world["by_name"])
    login(security).post(f"/registries/relinks/{other.pk}/", {"decision": "reject"})
    other.refresh_from_db()
    assert other.decision == RelinkDecision.REJECTED
    assert not RegistryLink.objects.filter(service=renewal_world["by_name"]).exists()


def test_a_later_import_supersedes_a_pending_proposal(renewal_world, security, fixture_path):
    import_registry("ismap", fixture_path("ismap_renewal_v2.csv"), security)
    v3 = fixture_path("ismap_renewal_v2.csv").read_text().replace("C23-0020-2", "C23-0020-3")
    import_registry("ismap", v3.encode(), security, filename="v3.csv")
    recorded = renewal_world["recorded"]
    decisions = sorted(
        RelinkProposal.objects.filter(service=recorded).values_list("new_number", "decision")
    )
    assert decisions == [("C23-0020-2", "superseded"), ("C23-0020-3", "pending")]


# --------------------------------------------------------------------------- 3.5 in the check


def test_renewal_pending_and_late_renewals_in_the_check(
    load, make_service, make_application, put_in_use, applicant, security, today, login
):
    from cloudjudge.registries import expiry_from_audit_end

    from .conftest import audit_end_for_expiry

    end = audit_end_for_expiry(today - datetime.timedelta(days=40))
    expiry = expiry_from_audit_end(end)  # the last valid day, exactly
    day_after = expiry + datetime.timedelta(days=1)
    rows = [
        f"C21-0001-1,期限内,株式会社試験,{end:%Y/%m/%d},{expiry:%Y/%m/%d}",
        f"C21-0002-1,期限後,株式会社試験,{end:%Y/%m/%d},{day_after:%Y/%m/%d}",
    ]
    data = ("登録番号,サービス名,事業者,監査対象期間の末日,更新申請中\n" + "\n".join(rows)).encode()
    for name in ("期限内", "期限後"):  # in use before the list says so
        service = make_service(name=name, provider="株式会社試験", listings=("ismap",))
        put_in_use(make_application(service=service), applicant, security)
    load("ismap", data, filename="late.csv")
    real_expiry = RegistryEntry.objects.get(number="C21-0001-1").expires_on
    alerts = {a.service_name: a for a in check_in_use().alerts}
    in_time, late = alerts["期限内"], alerts["期限後"]
    past = (today - real_expiry).days
    assert in_time.status == "renewal_pending" and in_time.check.counted
    assert in_time.as_dict()["days_past_expiry"] == past
    assert f"{past} 日経過" in in_time.message and "申請日" in in_time.message
    assert late.status == "renewal_late" and not late.check.counted
    assert "有効期限の後" in late.message and "3.5" in late.message
    assert [a.status for a in check_in_use().alerts] == ["renewal_late", "renewal_pending"]
    dashboard = login(security).get("/").content.decode()
    assert f"{past} 日経過" in dashboard
