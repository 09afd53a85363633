"""What a revision of the criteria changes: text, rules, and judgements.

``diff_catalogs(old, new)`` compares two catalog versions:

* items and clauses added, removed and reworded, each rewording as a
  character diff of the Japanese text (``TextPiece`` runs: kept, removed, added);
* rules added, removed and changed (which of clause, effect, condition,
  message, approvals, requirement, PIA differ);
* **what the change does**: every combination of the facts a request states
  is judged by both versions, and the combinations whose verdict, approvals or
  required items differ are counted and grouped by what changes
  (``Effect``), each group described in words (「取り扱う情報の機密性: …、
  接続方法: … の申請: 承認が必要 → 禁止」).

The combinations are exact, not sampled. Judging every one of the sixteen
facts' values would be some sixteen million requests; but the rules of both
versions are tables (``engine.tables``), and two values of a fact that no rule
of either version tells apart (any two non-empty ISMS certificate sets, when
every rule asks only whether there is one) give the same decision in every
combination. Each fact's values are merged into such classes, found from the
tables, and each class is judged once and counted with its size. The space is
the requests the register can hold: a 表1 usage only with local breakout
(where it is required), a contractor's download only with a download.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cloudjudge.catalog import Catalog
from cloudjudge.catalog.schema import Item, Rule
from cloudjudge.engine.judge import Judge, Verdict, judge_for
from cloudjudge.engine.request import FACT_DOMAINS, FACT_NAMES, POSITION
from cloudjudge.engine.tables import CompiledCondition
from cloudjudge.labels import (
    APPROVER_LABELS,
    FACT_LABELS,
    FACT_VALUE_LABELS,
    NO,
    NONE,
    VERDICT_LABELS,
    YES,
    label,
)

#: From least to most severe, to say whether a change makes a verdict worse.
VERDICT_RANK: dict[str, int] = {"permitted": 0, "approval_required": 1, "prohibited": 2}

TextOp = Literal["same", "removed", "added"]


@dataclass(frozen=True)
class TextPiece:
    op: TextOp
    text: str


def text_diff(old: str, new: str) -> tuple[TextPiece, ...]:
    """The character runs kept, removed and added from ``old`` to ``new``."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    pieces: list[TextPiece] = []
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(TextPiece("same", old[a0:a1]))
            continue
        if a1 > a0:
            pieces.append(TextPiece("removed", old[a0:a1]))
        if b1 > b0:
            pieces.append(TextPiece("added", new[b0:b1]))
    return tuple(pieces)


def marked(pieces: Sequence[TextPiece]) -> str:
    """A diff as one line of text: ``[-removed-]`` and ``{+added+}``."""
    return "".join(
        p.text if p.op == "same" else f"[-{p.text}-]" if p.op == "removed" else f"{{+{p.text}+}}"
        for p in pieces
    )


@dataclass(frozen=True)
class Reworded:
    """An item (or clause) in both versions whose words differ."""

    id: str
    title: str
    fields: tuple[str, ...]
    #: Per changed field (``text``, ``title``…), the character diff.
    diffs: tuple[tuple[str, tuple[TextPiece, ...]], ...]


@dataclass(frozen=True)
class RuleChange:
    id: str
    clause: str
    fields: tuple[str, ...]
    old_when: str
    new_when: str


@dataclass(frozen=True)
class Effect:
    """One kind of change to judgements, and the fact combinations it affects."""

    old_verdict: Verdict
    new_verdict: Verdict
    approvals_added: tuple[str, ...]
    approvals_removed: tuple[str, ...]
    required_added: tuple[str, ...]
    required_removed: tuple[str, ...]
    #: How many stated fact combinations (requests) it affects.
    count: int
    #: The facts all those combinations share: (fact, values) in FACT_NAMES order.
    facts: tuple[tuple[str, tuple[Any, ...]], ...]
    #: Whether every combination with those facts is affected (else only some).
    exact: bool

    @property
    def worse(self) -> bool:
        return VERDICT_RANK[self.new_verdict] > VERDICT_RANK[self.old_verdict]

    @property
    def summary(self) -> str:
        """The change in words, e.g. 「… の申請: 承認が必要 → 禁止（12 通り）」."""
        who = "、".join(describe_fact(name, values) for name, values in self.facts)
        who = f"{who} の申請" if who else "すべての申請"
        if not self.exact:
            who += "の一部"
        return f"{who}: {self.change_words}（{self.count:,} 通り）"

    @property
    def change_words(self) -> str:
        parts = []
        if self.old_verdict != self.new_verdict:
            parts.append(f"{VERDICT_LABELS[self.old_verdict]} → {VERDICT_LABELS[self.new_verdict]}")
        else:
            parts.append(f"{VERDICT_LABELS[self.new_verdict]}のまま")
        if self.approvals_added:
            parts.append(
                f"承認の追加 {'・'.join(label(APPROVER_LABELS, a) for a in self.approvals_added)}"
            )
        if self.approvals_removed:
            parts.append(
                f"承認の削除 {'・'.join(label(APPROVER_LABELS, a) for a in self.approvals_removed)}"
            )
        if self.required_added:
            parts.append(f"必要な対策の追加 {id_runs(self.required_added)}")
        if self.required_removed:
            parts.append(f"必要な対策の削除 {id_runs(self.required_removed)}")
        return "、".join(parts)


@dataclass(frozen=True)
class CatalogDiff:
    old: Catalog
    new: Catalog
    items_added: tuple[Item, ...]
    items_removed: tuple[Item, ...]
    items_reworded: tuple[Reworded, ...]
    clauses_added: tuple[str, ...]
    clauses_removed: tuple[str, ...]
    clauses_reworded: tuple[Reworded, ...]
    rules_added: tuple[Rule, ...]
    rules_removed: tuple[Rule, ...]
    rules_changed: tuple[RuleChange, ...]
    effects: tuple[Effect, ...] = field(default=())
    #: How many stated fact combinations were judged (the whole space).
    combinations: int = 0

    @property
    def affected(self) -> int:
        return sum(e.count for e in self.effects)

    def as_json(self) -> dict[str, Any]:
        def reworded(r: Reworded) -> dict[str, Any]:
            return {
                "id": r.id,
                "title": r.title,
                "fields": list(r.fields),
                "diff": {name: marked(pieces) for name, pieces in r.diffs},
            }

        return {
            "old": self.old.label,
            "new": self.new.label,
            "items": {
                "added": [i.id for i in self.items_added],
                "removed": [i.id for i in self.items_removed],
                "reworded": [reworded(r) for r in self.items_reworded],
            },
            "clauses": {
                "added": list(self.clauses_added),
                "removed": list(self.clauses_removed),
                "reworded": [reworded(r) for r in self.clauses_reworded],
            },
            "rules": {
                "added": [r.id for r in self.rules_added],
                "removed": [r.id for r in self.rules_removed],
                "changed": [
                    {
                        "id": c.id,
                        "fields": list(c.fields),
                        "old_when": c.old_when,
                        "new_when": c.new_when,
                    }
                    for c in self.rules_changed
                ],
            },
            "combinations": self.combinations,
            "affected": self.affected,
            "effects": [
                {
                    "summary": e.summary,
                    "count": e.count,
                    "old_verdict": e.old_verdict,
                    "new_verdict": e.new_verdict,
                    "approvals_added": list(e.approvals_added),
                    "approvals_removed": list(e.approvals_removed),
                    "required_added": list(e.required_added),
                    "required_removed": list(e.required_removed),
                    "facts": {name: [_json_value(v) for v in vs] for name, vs in e.facts},
                    "exact": e.exact,
                }
                for e in self.effects
            ],
        }


def _json_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


# --------------------------------------------------------------------------- words


def describe_fact(name: str, values: Sequence[Any]) -> str:
    """「接続方法: ローカルブレイクアウト方式」: a fact limited to some of its values."""
    label = FACT_LABELS.get(name, name)
    domain = FACT_DOMAINS[name]
    if isinstance(domain[0], bool):
        return f"{label}: {YES if values[0] else NO}"
    if isinstance(domain[0], tuple):
        if list(values) == [()]:
            return f"{label}: {NONE}"
        if () not in values and len(values) == len(domain) - 1:
            return f"{label}: あり"
        names = FACT_VALUE_LABELS.get(name, {})
        return f"{label}: " + "・".join(
            "、".join(names.get(v, v) for v in value) if value else NONE for value in values
        )
    names = FACT_VALUE_LABELS.get(name, {})
    return f"{label}: " + "・".join(names.get(str(v), str(v)) or NONE for v in values)


# --------------------------------------------------------------------------- text and rules


def _reworded(old: Any, new: Any, key: str, title: str, fields: Sequence[str]) -> Reworded | None:
    changed = tuple(f for f in fields if getattr(old, f) != getattr(new, f))
    if not changed:
        return None
    diffs = tuple(
        (f, text_diff(str(getattr(old, f)), str(getattr(new, f))))
        for f in changed
        if isinstance(getattr(old, f), str)
    )
    return Reworded(key, title, changed, diffs)


_ITEM_FIELDS = ("title", "text", "category", "clause", "group", "party", "columns")
_CLAUSE_FIELDS = ("title", "text")
_RULE_FIELDS = ("clause", "effect", "when", "message", "approvals", "require", "pia")


def _rule_changes(old: Catalog, new: Catalog) -> tuple[RuleChange, ...]:
    old_when = dict(zip((r.id for r in old.rules), old.conditions, strict=True))
    new_when = dict(zip((r.id for r in new.rules), new.conditions, strict=True))
    old_rules = {r.id: r for r in old.rules}
    out = []
    for rule in new.rules:
        before = old_rules.get(rule.id)
        if before is None:
            continue
        fields = [
            f
            for f in _RULE_FIELDS
            if (
                old_when[rule.id] != new_when[rule.id]
                if f == "when"
                else getattr(before, f) != getattr(rule, f)
            )
        ]
        if fields:
            out.append(
                RuleChange(
                    rule.id, rule.clause, tuple(fields), old_when[rule.id], new_when[rule.id]
                )
            )
    return tuple(out)


def diff_catalogs(old: Catalog, new: Catalog) -> CatalogDiff:
    old_items = {i.id: i for i in old.items}
    new_items = {i.id: i for i in new.items}
    old_clauses = {c.ref: c for c in old.clauses}
    new_clauses = {c.ref: c for c in new.clauses}
    old_rule_ids = {r.id for r in old.rules}
    new_rule_ids = {r.id for r in new.rules}
    items_reworded = [
        _reworded(old_items[i.id], i, i.id, i.title, _ITEM_FIELDS)
        for i in new.items
        if i.id in old_items
    ]
    clauses_reworded = [
        _reworded(old_clauses[c.ref], c, c.ref, c.title, _CLAUSE_FIELDS)
        for c in new.clauses
        if c.ref in old_clauses
    ]
    effects, combinations = judgement_changes(old, new)
    return CatalogDiff(
        old=old,
        new=new,
        items_added=tuple(i for i in new.items if i.id not in old_items),
        items_removed=tuple(i for i in old.items if i.id not in new_items),
        items_reworded=tuple(r for r in items_reworded if r is not None),
        clauses_added=tuple(c.ref for c in new.clauses if c.ref not in old_clauses),
        clauses_removed=tuple(c.ref for c in old.clauses if c.ref not in new_clauses),
        clauses_reworded=tuple(r for r in clauses_reworded if r is not None),
        rules_added=tuple(r for r in new.rules if r.id not in old_rule_ids),
        rules_removed=tuple(r for r in old.rules if r.id not in new_rule_ids),
        rules_changed=_rule_changes(old, new),
        effects=effects,
        combinations=combinations,
    )


# --------------------------------------------------------------------------- judgements


def _value_classes(conditions: Sequence[CompiledCondition]) -> dict[str, list[list[Any]]]:
    """Each fact's values grouped so that no condition tells two of a group apart."""
    signatures: dict[str, dict[Any, list[Any]]] = {
        name: {value: [] for value in domain} for name, domain in FACT_DOMAINS.items()
    }
    for n, condition in enumerate(conditions):
        for name in condition.reads:
            domain = FACT_DOMAINS[name]
            if condition.answers is None:  # live: every value its own
                for k, value in enumerate(domain):
                    signatures[name][value].append((n, k))
                continue
            position = condition.reads.index(name)
            stride = 1
            for other in condition.reads[position + 1 :]:
                stride *= len(FACT_DOMAINS[other])
            size = len(domain)
            for k, value in enumerate(domain):
                signatures[name][value].append(
                    (
                        n,
                        "".join(
                            condition.answers[i]
                            for i in range(len(condition.answers))
                            if (i // stride) % size == k
                        ),
                    )
                )
    classes: dict[str, list[list[Any]]] = {}
    for name, by_value in signatures.items():
        grouped: dict[tuple[Any, ...], list[Any]] = {}
        for value, signature in by_value.items():
            grouped.setdefault(tuple(signature), []).append(value)
        classes[name] = list(grouped.values())
    return classes


_USAGE = POSITION["connection.breakout_usage"]
_METHOD = POSITION["connection.method"]
_DOWNLOAD = POSITION["connection.download_to_internet_terminal"]
_CONTRACTOR = POSITION["connection.download_by_contractor"]


def _split_usage(classes: dict[str, list[list[Any]]]) -> None:
    """No usage (``""``) in a class of its own: it goes with every method but one."""
    name = "connection.breakout_usage"
    split: list[list[Any]] = [[""]]
    for members in classes[name]:
        stated = [u for u in members if u != ""]
        if stated:
            split.append(stated)
    classes[name] = split


def _admissible(facts: Sequence[Any]) -> bool:
    """A request the register can hold (see the module's docstring)."""
    if (facts[_METHOD] == "local_breakout") != (facts[_USAGE] != ""):
        return False
    return not (facts[_CONTRACTOR] and not facts[_DOWNLOAD])


def _space(
    classes: dict[str, list[list[Any]]], within: Sequence[Sequence[int]] | None = None
) -> Iterator[tuple[tuple[int, ...], tuple[Any, ...], int]]:
    """Each admissible combination of classes (``within``: only these class
    indices per fact): (class indices, representative facts, combinations)."""
    per_fact = [classes[name] for name in FACT_NAMES]
    ranges = within or [range(len(c)) for c in per_fact]
    for choice in itertools.product(*ranges):
        facts = tuple(per_fact[n][k][0] for n, k in enumerate(choice))
        if not _admissible(facts):
            continue
        size = 1
        for n, k in enumerate(choice):
            size *= len(per_fact[n][k])
        yield choice, facts, size


_Outcome = tuple[str, tuple[str, ...], frozenset[str]]


def _outcome(judge: Judge, facts: tuple[Any, ...]) -> _Outcome:
    assembled = judge._assembled(judge.firing.mask(facts))
    return (assembled.verdict, assembled.approvals, frozenset(e["id"] for e in assembled.required))


def _item_order(catalog: Catalog) -> Any:
    order = {item.id: n for n, item in enumerate(catalog.items)}
    return lambda item_id: order.get(item_id, len(order))


def id_runs(ids: Sequence[str]) -> str:
    """``S2-01〜S2-22・SEL-G3``: consecutive IDs of a group as one run."""
    runs: list[list[str]] = []
    for item_id in ids:
        head, _, number = item_id.rpartition("-")
        if runs:
            last_head, _, last_number = runs[-1][-1].rpartition("-")
            if (
                head == last_head
                and number.isdigit()
                and last_number.isdigit()
                and int(number) == int(last_number) + 1
            ):
                runs[-1].append(item_id)
                continue
        runs.append([item_id])
    return "・".join(r[0] if len(r) == 1 else f"{r[0]}〜{r[-1]}" for r in runs)


def judgement_changes(old: Catalog, new: Catalog) -> tuple[tuple[Effect, ...], int]:
    """The kinds of change to judgements, worst first, and the number of combinations."""
    old_judge, new_judge = judge_for(old), judge_for(new)
    classes = _value_classes((*old_judge.conditions, *new_judge.conditions))
    _split_usage(classes)
    groups: dict[tuple[Any, ...], list[tuple[tuple[int, ...], int]]] = {}
    total = 0
    for choice, facts, size in _space(classes):
        total += size
        before = _outcome(old_judge, facts)
        after = _outcome(new_judge, facts)
        if before == after:
            continue
        if before[0] != after[0]:
            # A verdict that changes says it all (a prohibition requires nothing).
            key: tuple[Any, ...] = (before[0], after[0], (), (), (), ())
        else:
            key = (
                before[0],
                after[0],
                tuple(a for a in after[1] if a not in before[1]),
                tuple(a for a in before[1] if a not in after[1]),
                tuple(sorted(after[2] - before[2], key=_item_order(new))),
                tuple(sorted(before[2] - after[2], key=_item_order(old))),
            )
        groups.setdefault(key, []).append((choice, size))
    effects = [_effect(key, members, classes) for key, members in groups.items()]
    effects.sort(
        key=lambda e: (
            -(VERDICT_RANK[e.new_verdict] - VERDICT_RANK[e.old_verdict]),
            -VERDICT_RANK[e.new_verdict],
            -e.count,
        )
    )
    return tuple(effects), total


def _effect(
    key: tuple[Any, ...],
    members: list[tuple[tuple[int, ...], int]],
    classes: dict[str, list[list[Any]]],
) -> Effect:
    per_fact = [classes[name] for name in FACT_NAMES]
    present: list[set[int]] = [set() for _ in FACT_NAMES]
    for choice, _ in members:
        for n, k in enumerate(choice):
            present[n].add(k)
    # Every admissible combination inside the box the shared facts draw.
    region = sum(1 for _ in _space(classes, [sorted(p) for p in present]))
    shared = []
    for n, name in enumerate(FACT_NAMES):
        if len(present[n]) == len(per_fact[n]) or (
            n == _USAGE and present[n] in ({0}, set(range(1, len(per_fact[n]))))
        ):
            continue  # any value (or, for the usage, as the method has it)
        values = [v for k in sorted(present[n]) for v in per_fact[n][k] if v != ""]
        shared.append((name, tuple(sorted(values, key=FACT_DOMAINS[name].index))))
    return Effect(
        old_verdict=key[0],
        new_verdict=key[1],
        approvals_added=key[2],
        approvals_removed=key[3],
        required_added=key[4],
        required_removed=key[5],
        count=sum(size for _, size in members),
        facts=tuple(shared),
        exact=len(members) == region,
    )
