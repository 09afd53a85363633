"""Snapshot diffs and fingerprints."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from cloudjudge.registries import (
    RegistryEntry,
    content_fingerprint,
    diff_entries,
    file_sha256,
    read_registry,
)


def test_same_file_twice_is_the_same_snapshot(fixture_path, tmp_path):
    path = fixture_path("ismap_list.xlsx")
    copy = tmp_path / "again.xlsx"
    copy.write_bytes(path.read_bytes())
    first, second = read_registry(path, "ismap"), read_registry(copy, "ismap")
    assert first.sha256 == second.sha256 == file_sha256(copy)
    assert diff_entries(first.entries, second.entries).is_empty
    assert content_fingerprint(first.entries) == content_fingerprint(second.entries)


def test_diff_added_removed_changed(fixture_path):
    before = read_registry(fixture_path("ismap_list.xlsx"), "ismap").entries
    by_number = {e.number: e for e in before}
    renewed = replace(by_number["C21-0101-1"], renewal_pending=True)
    moved = replace(
        by_number["C24-0606-1"],
        audit_period_end=date(2025, 12, 31),
        regions=("東京",),
        source_row=99,  # where it was read from is not content
    )
    newcomer = RegistryEntry(
        "ismap", "C25-0707-1", "新顔クラウド", "新顔株式会社", None, date(2025, 3, 31)
    )
    after = [e for e in before if e.number not in {"C21-0101-1", "C24-0606-1", "C23-0404-1"}] + [
        moved,
        newcomer,
        renewed,
    ]

    diff = diff_entries(before, after)
    assert [e.number for e in diff.added] == ["C25-0707-1"]
    assert [e.number for e in diff.removed] == ["C23-0404-1"]
    assert [c.key for c in diff.changed] == [("ismap", "C21-0101-1"), ("ismap", "C24-0606-1")]
    first, second = diff.changed
    assert [(f.field, f.before, f.after) for f in first.fields] == [
        ("renewal_pending", False, True)
    ]
    assert [(f.field, f.before, f.after) for f in second.fields] == [
        ("audit_period_end", date(2024, 12, 31), date(2025, 12, 31)),
        ("regions", ("東京", "大阪", "福岡"), ("東京",)),
    ]
    assert second.fields[0].label == "監査対象期間の末日"
    assert diff.summary() == "追加 1 件、削除 1 件、変更 2 件"

    as_json = json.loads(json.dumps(diff.as_dict(), ensure_ascii=False))
    assert as_json["added"][0]["number"] == "C25-0707-1"
    assert as_json["added"][0]["audit_period_end"] == "2025-03-31"
    assert as_json["changed"][1]["fields"][0] == {
        "field": "audit_period_end",
        "before": "2024-12-31",
        "after": "2025-12-31",
    }
    assert as_json["changed"][1]["fields"][1]["after"] == ["東京"]


def test_diff_from_nothing_adds_everything(fixture_path):
    entries = read_registry(fixture_path("lgwan_asp_list_cp932.csv"), "lgwan_asp").entries
    diff = diff_entries([], entries)
    assert len(diff.added) == 5 and not diff.removed and not diff.changed
    assert [e.number for e in diff_entries(entries, []).removed] == [e.number for e in entries]


def test_kind_is_part_of_the_key():
    a = RegistryEntry("lgwan_asp", "X1", "同じ番号", "株式会社あ")
    b = RegistryEntry("ismap", "X1", "同じ番号", "株式会社あ", audit_period_end=date(2024, 3, 31))
    diff = diff_entries([a], [b])
    assert diff.added == (b,) and diff.removed == (a,)


def test_duplicate_keys_are_refused():
    a = RegistryEntry("lgwan_asp", "X1", "あ", "い")
    with pytest.raises(ValueError, match="同じ登録が2件"):
        diff_entries([a, a], [])


def test_content_fingerprint_ignores_order_and_source_rows(fixture_path):
    entries = read_registry(fixture_path("ismap_list.xlsx"), "ismap").entries
    shuffled = [replace(e, source_row=None) for e in reversed(entries)]
    assert content_fingerprint(entries) == content_fingerprint(shuffled)
    changed = [replace(entries[0], provider="別の会社"), *entries[1:]]
    assert content_fingerprint(entries) != content_fingerprint(changed)


def test_entry_round_trips_through_a_dict(fixture_path):
    for entry in read_registry(fixture_path("ismap_list.xlsx"), "ismap").entries:
        data = json.loads(json.dumps(entry.as_dict(), ensure_ascii=False))
        assert RegistryEntry.from_dict(data) == entry


def test_entry_numbers_are_stored_normalised():
    written = RegistryEntry(
        "ismap", " ｃ２１－０００８－２ ", "あ", "い", audit_period_end=date(2024, 3, 31)
    )
    assert written.number == "C21-0008-2"
    assert written.key == ("ismap", "C21-0008-2")
    with pytest.raises(ValueError, match="空です"):
        RegistryEntry("lgwan_asp", "  ", "あ", "い")
    with pytest.raises(ValueError, match="未知の登録簿"):
        RegistryEntry("fedramp", "X", "あ", "い")  # type: ignore[arg-type]
