"""The one presenter of a decision: order, groups and words, and the renderers that
use it saying the same words (issue #9)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import cloudjudge
from cloudjudge import labels
from cloudjudge.catalog import default_catalog
from cloudjudge.documents import ApplicationSummary, application_report_pdf
from cloudjudge.engine import parse_request
from cloudjudge.presentation import present
from cloudjudge.presentation.terminal import format_decision

CATALOG = default_catalog()

CASES = {
    "approval": {
        "service": {"name": "ストレージ", "isms_certifications": ["iso27001"]},
        "data": {"confidentiality": "3B"},
        "connection": {"method": "internet_pc", "download_to_internet_terminal": True},
        "exceptions": {"limited_external_sharing": True},
    },
    "prohibited": {
        "service": {"name": "給付金", "listings": []},
        "data": {"confidentiality": "3B", "my_number": True},
        "connection": {"method": "local_breakout", "breakout_usage": "file_import"},
    },
    "contractor": {
        "service": {"name": "集計", "listings": ["ismap"]},
        "data": {"confidentiality": "2"},
        "connection": {
            "method": "local_breakout",
            "breakout_usage": "auth_only",
            "download_to_internet_terminal": True,
            "download_by_contractor": True,
        },
    },
}


@pytest.mark.parametrize("case", CASES)
def test_the_view_holds_the_decision_in_words(case: str):
    decision = cloudjudge.judge(CASES[case])
    view = present(decision, CATALOG)
    assert view.verdict_label == labels.VERDICT_LABELS[decision["verdict"]]
    assert [f.rule for f in view.findings] == [f["rule"] for f in decision["findings"]]
    assert all(f.effect_label == labels.EFFECT_LABELS[f.effect] for f in view.findings)
    # Grouped by source in the documents' order, each measure once, with its full text.
    order = list(labels.GROUP_LABELS)
    assert [g.group for g in view.groups] == sorted({g.group for g in view.groups}, key=order.index)
    ids = [m.id for g in view.groups for m in g.measures]
    assert sorted(ids) == sorted(r["id"] for r in decision["required"])
    for group in view.groups:
        assert group.label == labels.GROUP_LABELS[group.group]
        assert group.source == labels.GROUP_SOURCES[group.group]
        assert [m for block in group.by_reason for m in block.measures] == list(group.measures)
        for measure in group.measures:
            item = CATALOG.item(measure.id)
            assert (measure.text, measure.party) == (item.text, item.party)
            assert measure.party_label == labels.PARTY_LABELS[item.party]
    # An export row: plain data that JSON can carry.
    row = view.as_dict()
    assert json.loads(json.dumps(row, ensure_ascii=False))["verdict_label"] == view.verdict_label


def test_a_prohibited_view_has_remedies_and_no_measures():
    view = present(cloudjudge.judge(CASES["prohibited"]), CATALOG)
    assert view.prohibited and view.groups == () and view.measures_note
    assert view.approval_text == "なし" and view.remedy_note == ""
    assert view.remedies and all(r.verdict_label in ("利用可", "承認が必要") for r in view.remedies)
    first = view.remedies[0].changes[0]
    assert first.field_label == labels.FACT_LABELS[first.field]


def test_a_stored_decision_of_an_older_contract_is_still_presented():
    """Judgements kept in the register before 1.1 have no rule, remedies or order."""
    old = {
        "criteria_version": "sakai-cloud-usage-criteria@1.0",
        "verdict": "approval_required",
        "approvals": ["ciso"],
        "pia_required": False,
        "findings": [
            {"clause": "2(1)", "effect": "info", "message": "参考"},
            {"clause": "3.1(1)(イ)", "effect": "approve", "message": "承認"},
        ],
        "required": [{"id": "S1-02", "clause": "別紙1①", "title": "時刻の同期", "reason": "r"}],
    }
    view = present(old, CATALOG)
    assert [f.effect for f in view.findings] == ["approve", "info"]
    assert view.grounds == ("3.1(1)(イ)",) and view.remedies == ()
    assert view.approval_text == "統括情報セキュリティ責任者の承認が必要"


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("case", CASES)
def test_the_terminal_and_the_pdf_say_the_same_words(case: str, poppler, tmp_path: Path):
    """One decision through every presenter of this package: the same Japanese words for
    the verdict, the effects and the groups (the web panel, CSV and e-mails follow)."""
    facts = CASES[case]
    decision = cloudjudge.judge(facts)
    view = present(decision, CATALOG)
    text = _squeeze(format_decision(parse_request(facts), decision, CATALOG))
    path = tmp_path / "report.pdf"
    summary = ApplicationSummary(
        number="2026-0001",
        service_name=facts["service"]["name"],
        provider="",
        department="情報政策課",
        applicant="堺 太郎",
        purpose="",
        facts=facts,
        decision=decision,
    )
    path.write_bytes(application_report_pdf(summary))
    pdf = _squeeze(poppler.text(path))
    words = [view.verdict_label, *(f.effect_label for f in view.findings)]
    words += [g.label for g in view.groups] + [r.verdict_label for r in view.remedies]
    for word in words:
        assert _squeeze(word) in text, word
        assert _squeeze(word) in pdf, word
