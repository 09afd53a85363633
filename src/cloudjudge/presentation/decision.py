"""How a decision is presented: the one place that decides order, grouping and words.

``present(decision, catalog)`` turns the engine's decision into plain, frozen
data with every code already in Japanese (from ``cloudjudge.labels``, the only
vocabulary): the verdict and what decides it, the findings by weight, the
required measures grouped by where they come from (表1, 別紙1①, 別紙1②,
3.1(2), 3.2, 3.3, 3.1(1)(イ) ただし書) and, within a group, under each distinct
reason, with each measure's full text and who carries it out, and the remedies
of a prohibited decision. The terminal report and the PDF reports render this;
a Django template reads its attributes, and ``as_dict()`` gives an export row.

Nothing here knows a file format or a framework.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cloudjudge.catalog import Catalog
from cloudjudge.labels import (
    APPROVER_LABELS,
    EFFECT_LABELS,
    FACT_LABELS,
    GROUP_LABELS,
    GROUP_SOURCES,
    PARTY_LABELS,
    VERDICT_LABELS,
    fact_value_label,
    label,
)

#: The order groups of measures are shown in (the order of ``GROUP_LABELS``).
GROUP_ORDER: tuple[str, ...] = tuple(GROUP_LABELS)
#: Findings by weight (the engine already orders them; a stored decision may not).
EFFECT_ORDER: tuple[str, ...] = ("prohibit", "approve", "require", "info")
#: The effect whose findings decide each verdict.
DECISIVE_EFFECT: dict[str, str] = {"prohibited": "prohibit", "approval_required": "approve"}

#: Said for a prohibited decision that has no remedy.
NO_REMEDY = (
    "申請者が変えられる事項（サービスの掲載・認証、接続方法・回線、端末、根拠）を"
    "変えても禁止は解けません。禁止の理由は取り扱う情報そのものにあります。"
)
#: Said instead of measures for a prohibited decision.
NOTHING_REQUIRED_WHEN_PROHIBITED = "禁止のため、対策は求めません。"


@dataclass(frozen=True)
class FindingView:
    rule: str
    clause: str
    effect: str
    effect_label: str
    message: str


@dataclass(frozen=True)
class MeasureView:
    id: str
    group: str
    clause: str
    title: str
    #: The item's verbatim text, e.g. S2-14's 「(複数台でネットワークを組む際は)…」.
    text: str
    party: str
    party_label: str
    reason: str


@dataclass(frozen=True)
class ReasonView:
    """The measures of a group that one reason requires, in catalog order."""

    reason: str
    measures: tuple[MeasureView, ...]


@dataclass(frozen=True)
class MeasureGroup:
    group: str
    #: Where the measures come from, as cited: 表1, 別紙1①, 3.1(2), …
    source: str
    label: str
    measures: tuple[MeasureView, ...]
    by_reason: tuple[ReasonView, ...]

    @property
    def count(self) -> int:
        return len(self.measures)


@dataclass(frozen=True)
class ChangeView:
    field: str
    field_label: str
    before: str
    after: str


@dataclass(frozen=True)
class RemedyView:
    changes: tuple[ChangeView, ...]
    verdict: str
    verdict_label: str
    clause: str
    message: str


@dataclass(frozen=True)
class DecisionView:
    criteria_version: str
    verdict: str
    verdict_label: str
    #: The clauses whose findings decide the verdict (none for 利用可).
    grounds: tuple[str, ...]
    approvals: tuple[str, ...]
    approval_labels: tuple[str, ...]
    #: 「統括情報セキュリティ責任者の承認が必要」, 「不要」, or 「なし」 when prohibited.
    approval_text: str
    pia_required: bool
    pia_text: str
    findings: tuple[FindingView, ...]
    groups: tuple[MeasureGroup, ...]
    required_count: int
    #: Instead of measures: why there are none (a prohibited decision), else "".
    measures_note: str
    remedies: tuple[RemedyView, ...]
    #: For a prohibited decision without remedies: why there is no way out, else "".
    remedy_note: str

    @property
    def prohibited(self) -> bool:
        return self.verdict == "prohibited"

    def as_dict(self) -> dict[str, Any]:
        """Plain dicts and lists, for an export row or JSON."""
        return dataclasses.asdict(self)


def group_of(item_id: str, catalog: Catalog) -> str:
    if catalog.has_item(item_id):
        return catalog.item(item_id).group
    return item_id.split("-", 1)[0]


def _measure(entry: Mapping[str, Any], catalog: Catalog) -> MeasureView:
    item_id = str(entry["id"])
    item = catalog.item(item_id) if catalog.has_item(item_id) else None
    party = item.party if item is not None else ""
    return MeasureView(
        id=item_id,
        group=group_of(item_id, catalog),
        clause=str(entry.get("clause", item.clause if item else "")),
        title=str(entry.get("title", item.title if item else "")),
        text=item.text if item is not None else "",
        party=party,
        party_label=label(PARTY_LABELS, party),
        reason=str(entry.get("reason", "")),
    )


def measure_groups(
    required: Sequence[Mapping[str, Any]], catalog: Catalog
) -> tuple[MeasureGroup, ...]:
    """Required entries grouped by source, known groups in ``GROUP_ORDER`` first."""
    by_group: dict[str, list[MeasureView]] = {}
    for entry in required:
        measure = _measure(entry, catalog)
        by_group.setdefault(measure.group, []).append(measure)
    known = [g for g in GROUP_ORDER if g in by_group]
    others = [g for g in by_group if g not in GROUP_LABELS]
    groups = []
    for group in (*known, *others):
        measures = by_group[group]
        runs: dict[str, list[MeasureView]] = {}
        for measure in measures:
            runs.setdefault(measure.reason, []).append(measure)
        groups.append(
            MeasureGroup(
                group=group,
                source=label(GROUP_SOURCES, group),
                label=label(GROUP_LABELS, group),
                measures=tuple(measures),
                by_reason=tuple(ReasonView(r, tuple(m)) for r, m in runs.items()),
            )
        )
    return tuple(groups)


def _finding(finding: Mapping[str, Any]) -> FindingView:
    effect = str(finding.get("effect", ""))
    return FindingView(
        rule=str(finding.get("rule", "")),
        clause=str(finding.get("clause", "")),
        effect=effect,
        effect_label=label(EFFECT_LABELS, effect),
        message=str(finding.get("message", "")),
    )


def _weight(finding: FindingView) -> int:
    return EFFECT_ORDER.index(finding.effect) if finding.effect in EFFECT_ORDER else 9


def _value_words(key: str, value: Any) -> str:
    if value is None or value == "":
        return "（指定なし）"
    return fact_value_label(key, value)


def _remedy(remedy: Mapping[str, Any]) -> RemedyView:
    verdict = str(remedy.get("verdict", ""))
    return RemedyView(
        changes=tuple(
            ChangeView(
                field=str(change["field"]),
                field_label=label(FACT_LABELS, change["field"]),
                before=_value_words(str(change["field"]), change.get("from")),
                after=_value_words(str(change["field"]), change.get("to")),
            )
            for change in remedy.get("changes", ())
        ),
        verdict=verdict,
        verdict_label=label(VERDICT_LABELS, verdict),
        clause=str(remedy.get("clause", "")),
        message=str(remedy.get("message", "")),
    )


def approval_text(approvals: Sequence[str], verdict: str) -> str:
    """「統括情報セキュリティ責任者の承認が必要」 for the approvers, else 「不要」
    (「なし」 for a prohibited decision): the one way an approval is said."""
    if approvals:
        return "、".join(f"{label(APPROVER_LABELS, a)}の承認が必要" for a in approvals)
    return "なし" if verdict == "prohibited" else "不要"


def present(decision: Mapping[str, Any], catalog: Catalog) -> DecisionView:
    """The decision as it is shown everywhere (see the module)."""
    verdict = str(decision.get("verdict", ""))
    findings = tuple(sorted((_finding(f) for f in decision.get("findings", ())), key=_weight))
    decisive = DECISIVE_EFFECT.get(verdict)
    grounds = tuple(dict.fromkeys(f.clause for f in findings if f.effect == decisive))
    approvals = tuple(str(a) for a in decision.get("approvals", ()))
    approval_labels = tuple(label(APPROVER_LABELS, a) for a in approvals)
    required = decision.get("required", ())
    remedies = tuple(_remedy(r) for r in decision.get("remedies", ()) or ())
    prohibited = verdict == "prohibited"
    pia = bool(decision.get("pia_required"))
    return DecisionView(
        criteria_version=str(decision.get("criteria_version", "")),
        verdict=verdict,
        verdict_label=label(VERDICT_LABELS, verdict),
        grounds=grounds,
        approvals=approvals,
        approval_labels=approval_labels,
        approval_text=approval_text(approvals, verdict),
        pia_required=pia,
        pia_text="対象外（禁止のため）"
        if prohibited
        else f"{'必要' if pia else '不要'}（特定個人情報保護評価）",
        findings=findings,
        groups=measure_groups(required, catalog),
        required_count=len(required),
        measures_note=NOTHING_REQUIRED_WHEN_PROHIBITED if prohibited and not required else "",
        remedies=remedies,
        remedy_note=NO_REMEDY if prohibited and not remedies else "",
    )
