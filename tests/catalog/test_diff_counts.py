"""``catalog diff`` of the example revision says what it does with counts, in
words, the same in the terminal and the JSON (issue 13; the security office's page:
tests/web/test_revision_seen.py): how many fact combinations there are, how many change, and for
each group of them the summary a reader understands with its count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.catalog.test_revisions import DIFF  # computed once for both modules (it takes seconds)

from cloudjudge.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "catalogs"
TOTAL = f"申請の事実の組合せ {DIFF.combinations:,} 通りのうち {DIFF.affected:,} 通りで"


@pytest.fixture
def with_revision(monkeypatch):
    monkeypatch.setenv("CLOUDJUDGE_CATALOG_DIRS", str(FIXTURES))


def test_the_counts_add_up():
    assert len(DIFF.effects) >= 4
    assert DIFF.affected == sum(e.count for e in DIFF.effects)
    assert 0 < DIFF.affected < DIFF.combinations
    for effect in DIFF.effects:
        assert effect.summary.endswith(f"（{effect.count:,} 通り）"), effect.summary


def test_the_terminal_and_the_json_give_every_count_in_words(with_revision, capsys):
    assert main(["catalog", "diff", "1.0", "1.1-example"]) == 0
    out = capsys.readouterr().out
    assert TOTAL in out
    effects = [line.strip() for line in out.splitlines() if line.strip().startswith("・")]
    assert effects == [f"・{e.summary}" for e in DIFF.effects]

    assert main(["catalog", "diff", "1.0", "1.1-example", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["combinations"], data["affected"]) == (DIFF.combinations, DIFF.affected)
    assert [(e["summary"], e["count"]) for e in data["effects"]] == [
        (e.summary, e.count) for e in DIFF.effects
    ]
    assert data["effects"][0]["old_verdict"] == "approval_required"
