"""Importing list files into the database: every fixture, every broken kind
refused with nothing written, the same file twice, and the diff."""

from __future__ import annotations

import datetime

import pytest

from cloudjudge.web.audit.models import AuditEntry
from cloudjudge.web.registries.importing import ALREADY_IMPORTED, import_registry
from cloudjudge.web.registries.models import RegistryEntry, RegistrySnapshot

from .conftest import ismap_csv, lgwan_csv


def counts() -> tuple[int, int, int, list]:
    return (
        RegistryEntry.objects.count(),
        RegistrySnapshot.objects.count(),
        AuditEntry.objects.count(),
        list(RegistryEntry.objects.order_by("pk").values_list("pk", "updated_at", "removed_in_id")),
    )


@pytest.mark.parametrize(
    ("name", "kind", "rows", "encoding"),
    [
        ("ismap_list.xlsx", "ismap", 6, ""),
        ("ismap_liu_list.xlsx", "ismap_liu", 4, ""),
        ("lgwan_asp_list_cp932.csv", "lgwan_asp", 5, "cp932"),
        ("lgwan_asp_list_utf8bom.csv", "lgwan_asp", 3, "utf-8-sig"),
    ],
)
def test_every_fixture_imports(fixture_path, security, name, kind, rows, encoding):
    result = import_registry(kind, fixture_path(name), security)
    assert result.status == "imported", result.problems
    snap = result.snapshot
    assert snap.is_current and snap.kind == kind and snap.source_name == name
    assert snap.row_count == rows == RegistryEntry.objects.filter(kind=kind).count()
    assert (snap.added_count, snap.removed_count, snap.changed_count) == (rows, 0, 0)
    assert snap.importer == security and snap.encoding == encoding
    assert len(snap.sha256) == 64 and len(snap.diff["added"]) == rows
    assert all(e.snapshot_id == snap.pk and e.on_list for e in RegistryEntry.objects.all())
    # the import is in the audit trail, with the file's fingerprint
    entry = AuditEntry.objects.get(object_type="registries.registrysnapshot")
    assert entry.actor == security and entry.extra["sha256"] == snap.sha256


def test_ismap_entry_fields_and_expiry(fixture_path, security):
    import_registry("ismap", fixture_path("ismap_list.xlsx"), security)
    first = RegistryEntry.objects.get(number="C21-0101-1")
    assert first.service_name == "さくらぎクラウド基盤"
    assert first.audit_period_end == datetime.date(2024, 3, 31)
    assert first.expires_on == datetime.date(2025, 7, 31)  # 3.5 by the Civil Code
    assert first.regions == ["東京", "大阪"]
    assert first.source_url == "https://registry.example.jp/ismap/C21-0101-1"
    wide = RegistryEntry.objects.get(number="C22-0202-1")  # written full-width in the file
    assert wide.name_key == "abcドライブビジネス" and wide.provider_key == "abc"
    assert RegistryEntry.objects.get(number="C24-0505-1").expires_on == datetime.date(2026, 2, 28)
    assert RegistryEntry.objects.get(number="C22-0303-2").renewal_pending
    assert RegistryEntry.objects.get(number="C23-0404-1").withdrawn


def test_lgwan_entries_have_no_expiry(fixture_path, security):
    import_registry("lgwan_asp", fixture_path("lgwan_asp_list_cp932.csv"), security)
    entry = RegistryEntry.objects.get(number="A100002")
    assert entry.service_name == "ｺﾝﾋﾞﾆ交付ｻｰﾋﾞｽ" and entry.expires_on is None
    assert entry.category == "アプリケーション及びコンテンツサービス"
    assert RegistryEntry.objects.get(number="A100004").withdrawn


@pytest.mark.parametrize(
    ("name", "kind", "codes", "where", "fragment"),
    [
        (
            "broken_missing_column.xlsx",
            "ismap",
            ["missing_column"],
            ("一覧", None, "事業者"),
            "の列がありません（見つかった列: ",
        ),
        (
            "broken_bad_date.xlsx",
            "ismap",
            ["bad_date", "bad_date"],
            ("一覧", 3, "監査対象期間の末日"),
            "存在しない日付です（値: '2024/2/30'）",
        ),
        (
            "broken_duplicate.csv",
            "ismap",
            ["duplicate"],
            ("broken_duplicate.csv", 5, "登録番号"),
            "「C21-0001-1」が重複しています（2行目と5行目）",
        ),
        (
            "broken_encoding.csv",
            "ismap",
            ["unreadable"],
            ("broken_encoding.csv", None, ""),
            "文字コードを判別できません",
        ),
        (
            "broken_many.xlsx",
            "ismap",
            ["empty_required", "bad_date", "duplicate", "bad_value", "bad_value"],
            ("一覧", 3, "クラウドサービスの名称"),
            "必須の項目が空です",
        ),
        (
            "ismap_list.xlsx",  # an ISMAP list offered as LGWAN-ASP
            "lgwan_asp",
            ["missing_column"],
            ("クラウドサービスリスト", None, "サービスコード"),
            "の列がありません（見つかった列: ",
        ),
    ],
)
def test_broken_files_change_nothing(fixture_path, security, name, kind, codes, where, fragment):
    good = "lgwan_asp_list_cp932.csv" if kind == "lgwan_asp" else "ismap_list.xlsx"
    previous = import_registry(kind, fixture_path(good), security).snapshot
    before = counts()

    result = import_registry(kind, fixture_path(name), security)

    assert result.status == "rejected" and not result.ok
    assert [p.code for p in result.problems] == codes
    first = result.problems[0]
    assert (first.sheet, first.row, first.column) == where
    assert fragment in first.message and fragment in result.message
    assert counts() == before  # no row written, changed or audited
    assert RegistrySnapshot.objects.get(kind=kind, is_current=True) == previous


def test_a_broken_file_on_an_empty_registry_writes_nothing(fixture_path, security):
    result = import_registry("ismap", fixture_path("broken_bad_date.xlsx"), security)
    assert result.status == "rejected"
    assert counts()[:3] == (0, 0, 0)


def test_a_value_too_long_for_its_column_is_a_problem_not_a_crash(security):
    data = ismap_csv(("C21-0001-1", "名" * 301, "株式会社試験", datetime.date(2025, 3, 31), 0, 0))
    result = import_registry("ismap", data, security, filename="long.csv")
    assert result.status == "rejected"
    (problem,) = result.problems
    assert (problem.code, problem.sheet, problem.row, problem.column) == (
        "bad_value",
        "long.csv",
        2,
        "クラウドサービスの名称",
    )
    assert "301 文字" in problem.message
    assert counts()[:3] == (0, 0, 0)


def test_same_file_twice_changes_nothing(fixture_path, security, colleague):
    first = import_registry("ismap", fixture_path("ismap_list.xlsx"), security)
    before = counts()
    again = import_registry("ismap", fixture_path("ismap_list.xlsx"), colleague)
    assert again.status == "unchanged" and again.ok
    assert again.message == ALREADY_IMPORTED == "同じファイルは取り込み済みです"
    assert again.snapshot == first.snapshot
    assert counts() == before


def test_same_content_in_another_file_is_a_new_snapshot_with_an_empty_diff(security, today):
    row = ("C21-0001-1", "試験クラウド", "株式会社試験", today, 0, 0)
    import_registry("ismap", ismap_csv(row), security, filename="a.csv")
    resaved = ismap_csv(row).replace(b"\r\n", b"\n")  # other bytes, same content
    result = import_registry("ismap", resaved, security, filename="b.csv")
    assert result.status == "imported"
    assert result.diff.is_empty and result.snapshot.summary == "追加 0 件、削除 0 件、変更 0 件"
    assert RegistrySnapshot.objects.filter(is_current=True).get().source_name == "b.csv"


def test_diff_added_removed_changed(security, today):
    end = datetime.date(2025, 3, 31)
    v1 = ismap_csv(
        ("C21-0001-1", "試験クラウドA", "株式会社試験", end, 0, 0),
        ("C21-0002-1", "試験クラウドB", "株式会社試験", end, 0, 0),
        ("C21-0003-1", "試験クラウドC", "株式会社試験", end, 0, 0),
    )
    v2 = ismap_csv(
        ("C21-0001-1", "試験クラウドA", "株式会社試験", end, 0, 0),  # unchanged
        ("Ｃ２１－０００２－１", "試験クラウドB", "株式会社試験", end, 1, 0),  # renewal pending
        ("C21-0004-1", "試験クラウドD", "株式会社試験", end, 0, 0),  # new; C の行はない
    )
    first = import_registry("ismap", v1, security, filename="v1.csv").snapshot
    result = import_registry("ismap", v2, security, filename="v2.csv")
    snap = result.snapshot

    assert (snap.added_count, snap.removed_count, snap.changed_count) == (1, 1, 1)
    assert [e["number"] for e in snap.diff["added"]] == ["C21-0004-1"]
    assert [e["number"] for e in snap.diff["removed"]] == ["C21-0003-1"]
    (changed,) = snap.diff["changed"]
    assert changed["number"] == "C21-0002-1"
    assert changed["fields"] == [{"field": "renewal_pending", "before": False, "after": True}]

    first.refresh_from_db()
    assert not first.is_current and snap.is_current
    by_number = {e.number: e for e in RegistryEntry.objects.all()}
    assert by_number["C21-0001-1"].snapshot == first  # untouched: still set by v1
    assert by_number["C21-0002-1"].snapshot == snap and by_number["C21-0002-1"].renewal_pending
    removed = by_number["C21-0003-1"]  # kept, flagged, never a listing
    assert removed.removed_in == snap and not removed.on_list
    assert removed.status_on(today) == "removed"

    # the entry comes back in a later list: added again, no longer flagged
    result = import_registry("ismap", v1, security, filename="v1-again.csv")
    assert [e["number"] for e in result.snapshot.diff["added"]] == ["C21-0003-1"]
    assert [e["number"] for e in result.snapshot.diff["removed"]] == ["C21-0004-1"]
    assert RegistryEntry.objects.get(number="C21-0003-1").on_list


def test_kinds_are_independent(security, fixture_path):
    import_registry("ismap", fixture_path("ismap_list.xlsx"), security)
    import_registry("lgwan_asp", lgwan_csv(("A1", "サービス", "事業者", "区分", 0)), security)
    assert RegistrySnapshot.objects.filter(is_current=True).count() == 2
    assert RegistryEntry.objects.filter(kind="ismap").count() == 6
    # importing LGWAN-ASP again does not mark ISMAP entries removed
    import_registry("lgwan_asp", lgwan_csv(("A2", "サービス2", "事業者", "区分", 0)), security)
    assert RegistryEntry.objects.filter(kind="ismap", removed_in__isnull=True).count() == 6
    assert RegistryEntry.objects.get(number="A1").removed_in is not None
