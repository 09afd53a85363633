"""Catalog versions side by side, and what the example revision changes
(tests/fixtures/catalogs/sakai-1.1-example.yaml: test data, not real criteria)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from cloudjudge.catalog import CatalogError, default_catalog, load_catalog
from cloudjudge.catalog.versions import active_catalog, find_catalog, installed_catalogs
from cloudjudge.cli import main
from cloudjudge.engine import judge
from cloudjudge.engine.revisions import diff_catalogs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "catalogs"
REVISION = FIXTURES / "sakai-1.1-example.yaml"
OLD = default_catalog()
NEW = load_catalog(REVISION)
DIFF = diff_catalogs(OLD, NEW)

ISMS_ONLY_BREAKOUT = {
    "service": {"name": "ISMS のみ", "listings": [], "isms_certifications": ["iso27001"]},
    "data": {"confidentiality": "3B"},
    "connection": {"method": "local_breakout", "breakout_usage": "file_import"},
}


@pytest.fixture
def with_revision(monkeypatch):
    monkeypatch.setenv("CLOUDJUDGE_CATALOG_DIRS", str(FIXTURES))


def test_the_revision_is_not_installed_by_default(monkeypatch):
    monkeypatch.delenv("CLOUDJUDGE_CATALOG_DIRS", raising=False)
    assert [c.label for c in installed_catalogs()] == [OLD.label]
    assert active_catalog() is OLD


def test_the_version_in_force_follows_the_effective_date(with_revision):
    assert [c.label for c in installed_catalogs()] == [OLD.label, NEW.label]
    assert NEW.effective == datetime.date(2027, 4, 1)
    assert active_catalog(today=datetime.date(2027, 3, 31)).label == OLD.label
    assert active_catalog(today=datetime.date(2027, 4, 1)).label == NEW.label
    # a pin wins over the dates, by version or by label
    assert active_catalog("1.0", today=datetime.date(2030, 1, 1)).label == OLD.label
    assert active_catalog(NEW.label).label == NEW.label
    with pytest.raises(CatalogError, match=r"9\.9 はインストールされていません"):
        find_catalog("9.9")


def test_the_diff_lists_exactly_the_text_changes():
    assert [i.id for i in DIFF.items_added] == ["SEL-G3"]
    assert [i.id for i in DIFF.items_removed] == ["S1-10"]
    assert [(r.id, r.fields) for r in DIFF.items_reworded] == [
        ("T1-02", ("text",)),
        ("S1-02", ("text",)),
    ]
    t1 = DIFF.as_json()["items"]["reworded"][0]["diff"]["text"]
    assert (
        t1 == "接続先のクラウドサービスが本物であるか否か、{+サーバ証明書により+}正当性を確認する。"
    )
    assert not (DIFF.clauses_added or DIFF.clauses_removed or DIFF.clauses_reworded)


def test_the_diff_lists_exactly_the_rule_changes():
    assert DIFF.rules_added == () and DIFF.rules_removed == ()
    assert [(c.id, c.fields) for c in DIFF.rules_changed] == [
        ("R-2-2-DOWNLOAD", ("when",)),
        ("R-3.1-UNLISTED", ("when", "message")),
    ]


def test_the_fact_combinations_the_revision_changes():
    effects = {
        (e.old_verdict, e.new_verdict, e.required_added, e.required_removed): e
        for e in DIFF.effects
    }
    worse = DIFF.effects[0]
    # worst first: the tightened R-3.1-UNLISTED
    assert (worse.old_verdict, worse.new_verdict) == ("approval_required", "prohibited")
    assert sum(e.count for e in DIFF.effects if e.worse) == worse.count
    shared = dict(worse.facts)
    assert shared["service.listings"] == ((),)
    assert shared["connection.method"] == ("local_breakout",)
    assert shared["data.confidentiality"] == ("3B", "3C")
    assert "ISMS 認証: あり" in worse.summary and "承認が必要 → 禁止" in worse.summary
    # the tightened R-2-2-DOWNLOAD: a virtual PC download of level 2/1 data now needs 別紙1②
    s2 = [e for e in DIFF.effects if e.required_added and e.required_added[0] == "S2-01"]
    assert len(s2) == 1 and s2[0].exact
    assert dict(s2[0].facts)["connection.internet_virtual_pc"] == (True,)
    assert "S2-01〜S2-22" in s2[0].summary
    # the added SEL-G3 reaches important data, the removed S1-10 leaves everyone
    assert all("S1-10" in e.required_removed for e in DIFF.effects if not e.worse)
    assert any("SEL-G3" in e.required_added for e in DIFF.effects)
    assert effects  # every kind is counted
    assert DIFF.affected == sum(e.count for e in DIFF.effects) < DIFF.combinations


def test_the_counted_combinations_agree_with_judging_one_request():
    before, after = judge(ISMS_ONLY_BREAKOUT, OLD), judge(ISMS_ONLY_BREAKOUT, NEW)
    assert (before["verdict"], after["verdict"]) == ("approval_required", "prohibited")
    assert after["criteria_version"] == "sakai-cloud-usage-criteria@1.1-example"


def test_a_diff_of_a_version_with_itself_changes_nothing():
    same = diff_catalogs(OLD, OLD)
    assert same.effects == () and same.affected == 0 and same.rules_changed == ()


def test_catalog_diff_on_the_command_line(with_revision, capsys):
    assert main(["catalog", "diff", "1.0", "1.1-example"]) == 0
    out = capsys.readouterr().out
    assert "+ SEL-G3 脆弱性情報の通知" in out and "- S1-10 バックアップの頻度" in out
    assert "~ R-3.1-UNLISTED（3.1(1)(イ)）: 条件・理由の文" in out
    assert "承認が必要 → 禁止" in out
    assert main(["catalog", "diff", "1.0", str(REVISION), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (
        data["items"]["added"] == ["SEL-G3"] and data["effects"][0]["new_verdict"] == "prohibited"
    )
    assert main(["catalog", "diff", "1.0", "7.7"]) == 2
    assert "7.7 はインストールされていません" in capsys.readouterr().err
