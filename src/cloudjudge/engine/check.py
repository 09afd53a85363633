"""``cloudjudge catalog check``: everything a catalog author can get wrong, found
before the catalog judges anyone.

Three stages, each only when the one before passed:

1. **loading** — the schema, unique IDs, every reference defined, every rule's
   CEL compiled and every fact it reads known (``errors``: the file cannot be
   used; each rule's error is reported, not only the first);
2. **analysis** over the engine's tables (``engine.tables``), which hold CEL's
   answer for every combination of the facts each rule reads: a rule no request
   can fire (unreachable), a rule every request fires (always true), a rule that
   fires only where a prohibition does and so never shows (shadowed), an item no
   rule requires in a decision that is not prohibited (``problems``);
3. **examples** — the requests written in the catalog itself, each judged and
   compared with the decision it declares (``problems``), like OPA's policy tests.

A rule no example fires is a ``note``: worth knowing, not wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cloudjudge.catalog import CatalogError
from cloudjudge.catalog import cache as disk
from cloudjudge.catalog.loader import (
    MAX_CATALOG_BYTES,
    catalog_of,
    compile_expression,
    expand,
    parse_checked,
)
from cloudjudge.catalog.scaffold import MARKER, marked_texts
from cloudjudge.catalog.schema import CatalogFile, Example
from cloudjudge.engine.errors import RequestError
from cloudjudge.engine.judge import Judge, bits, items_required_by, parse_request
from cloudjudge.engine.request import CONSISTENCY, FACT_DOMAINS
from cloudjudge.engine.tables import CompiledCondition, combinations, facts_read_by
from cloudjudge.labels import APPROVER_LABELS, VERDICT_LABELS

Kind = Literal["error", "unreachable", "always_true", "shadowed", "unrequired", "example", "note"]

#: How each kind of finding is headed in the report.
KIND_LABELS: dict[Kind, str] = {
    "error": "誤り",
    "unreachable": "到達しないルール",
    "always_true": "常に成り立つルール",
    "shadowed": "禁止に隠れるルール",
    "unrequired": "どのルールも求めない項目",
    "example": "例の不一致",
    "note": "注意",
}

EXIT_CLEAN, EXIT_PROBLEMS, EXIT_UNUSABLE = 0, 1, 2


@dataclass(frozen=True)
class Finding:
    kind: Kind
    #: The entry it is about, as the loader names entries: ``rules (R-2-3A)``.
    entry: str
    message: str

    def __str__(self) -> str:
        return f"{self.entry}: {self.message}" if self.entry else self.message


@dataclass
class Report:
    path: str
    findings: list[Finding] = field(default_factory=list)
    rules: int = 0
    items: int = 0
    examples: int = 0

    def add(self, kind: Kind, entry: str, message: str) -> None:
        self.findings.append(Finding(kind, entry, message))

    def of(self, *kinds: Kind) -> list[Finding]:
        return [f for f in self.findings if f.kind in kinds]

    @property
    def status(self) -> int:
        """0 clean (notes allowed), 1 problems found, 2 the file cannot be used."""
        if self.of("error"):
            return EXIT_UNUSABLE
        if self.of("unreachable", "always_true", "shadowed", "unrequired", "example"):
            return EXIT_PROBLEMS
        return EXIT_CLEAN

    def lines(self) -> list[str]:
        """The report, one finding a line (``path: 種類: entry: message``)."""
        return [f"{self.path}: {KIND_LABELS[f.kind]}: {f}" for f in self.findings]

    def summary(self) -> str:
        counts = f"ルール {self.rules} 件・項目 {self.items} 件・例 {self.examples} 件"
        if self.status == EXIT_UNUSABLE:
            return f"{self.path}: カタログとして使えません（誤り {len(self.of('error'))} 件）"
        problems = len(self.findings) - len(self.of("note"))
        if problems:
            return f"{self.path}: {counts}を検査し、問題が {problems} 件見つかりました"
        return f"{self.path}: {counts}を検査しました。問題はありません"


def check_catalog(path: Path | str) -> Report:
    """Check the catalog file at ``path``; never raises for what is in the file."""
    path = Path(path)
    report = Report(str(path))
    try:
        with path.open("rb") as stream:  # no more than the loader would accept
            content = stream.read(MAX_CATALOG_BYTES + 1)
    except OSError as exc:
        report.add("error", "", f"カタログを読めません: {exc.strerror}")
        return report
    try:
        doc = parse_checked(path, content)
    except CatalogError as exc:
        report.add("error", "", _without_path(str(exc), path))
        return report
    report.rules, report.items, report.examples = len(doc.rules), len(doc.items), len(doc.examples)
    conditions = _compiled_conditions(doc, path, report)
    if conditions is None:
        return report
    catalog = catalog_of(doc, conditions, disk.key_for("catalog", content))
    try:
        judge = Judge(catalog)
    except CatalogError as exc:  # CEL answered something other than true or false
        report.add("error", "", _without_path(str(exc), catalog.label))
        return report
    reachable = _check_reachability(doc, judge, report)
    shown = _check_shadowed(doc, judge, reachable, report)
    _check_requirable(doc, judge, shown, report)
    for example in doc.examples:
        _run_example(example, judge, report)
    _note_untested_rules(doc, report)
    if left := marked_texts(doc):
        report.add("note", "", f"「{MARKER}」の付いた題目・本文・説明文が {left} 件残っています")
    return report


def _without_path(message: str, path: Path | str) -> str:
    return message.removeprefix(f"{path}: ")


def _compiled_conditions(doc: CatalogFile, path: Path, report: Report) -> tuple[str, ...] | None:
    """Each rule's expanded condition, or ``None`` after reporting every rule that fails."""
    conditions: list[str] = []
    for rule in doc.rules:
        where = f"rules ({rule.id}).when"
        try:
            condition = expand(rule, doc.definitions, path)
            compile_expression(condition, where)
            facts_read_by(condition, rule.id)
        except CatalogError as exc:
            report.add("error", "", _without_path(str(exc), path))
            continue
        conditions.append(condition)
    return tuple(conditions) if len(conditions) == len(doc.rules) else None


# --------------------------------------------------------------------------- analysis


def _possible(reads: Sequence[str], combination: Sequence[Any]) -> bool:
    """Whether some request has these values: a combination the request model
    refuses (``CONSISTENCY``: a local breakout without its usage, a contractor's
    download that is no download) is never judged."""
    values = dict(zip(reads, combination, strict=True))
    for rule in CONSISTENCY:
        if rule.field in values and rule.other in values:
            stated = [_as_stated(name, values[name]) for name in (rule.field, rule.other)]
            if rule.broken(*stated):
                return False
    return True


def _as_stated(name: str, value: Any) -> Any:
    """A fact's value as the applicant states it: ``""`` is a usage left out."""
    return None if name == "connection.breakout_usage" and value == "" else value


def _answers(condition: CompiledCondition) -> set[str]:
    """CEL's answers ("0", "1") over every possible combination of the facts read."""
    assert condition.answers is not None
    return {
        answer
        for combination, answer in zip(
            combinations(condition.reads), condition.answers, strict=True
        )
        if _possible(condition.reads, combination)
    }


def _check_reachability(doc: CatalogFile, judge: Judge, report: Report) -> set[int]:
    """The indices of the rules some request fires; unreachable and always-true
    rules reported."""
    reachable: set[int] = set()
    for n, (rule, condition) in enumerate(zip(doc.rules, judge.conditions, strict=True)):
        entry = f"rules ({rule.id})"
        if not condition.tabulated:
            reachable.add(n)
            report.add("note", entry, "読む事実の組合せが多すぎるため、到達性を検査していません")
            continue
        answers = _answers(condition)
        if "1" not in answers:
            report.add(
                "unreachable",
                entry,
                "どの申請でも条件が成り立たないため、このルールは適用されません"
                "（when を見直してください）",
            )
            continue
        reachable.add(n)
        if "0" not in answers:
            report.add(
                "always_true",
                entry,
                "どの申請でも条件が成り立ちます（when を見直してください。"
                "常に示す内容なら、そう意図したことを確認してください）",
            )
    return reachable


#: How many partial combinations the search below may try for one rule before
#: it gives up (and counts the rule as shown, so nothing is reported wrongly).
SEARCH_BUDGET = 200_000


def _holds_somewhere(
    wanted: Sequence[tuple[CompiledCondition, bool]], budget: int = SEARCH_BUDGET
) -> bool | None:
    """Whether some request makes each condition hold (``True``) or not (``False``)
    as wanted: a search over the facts they read, each condition checked as soon
    as its facts are set. ``None`` when the budget ran out first."""
    order: list[str] = []
    for condition, _ in wanted:
        order.extend(name for name in condition.reads if name not in order)
    # Each condition is checked at the position of the last fact it reads.
    due: dict[int, list[tuple[CompiledCondition, bool]]] = {}
    for condition, value in wanted:
        last = max((order.index(name) for name in condition.reads), default=-1)
        due.setdefault(last, []).append((condition, value))
    if any(c.holds({}) != v for c, v in due.get(-1, [])):
        return False
    assigned: dict[str, Any] = {}
    tries = 0

    def extend(position: int) -> bool | None:
        nonlocal tries
        if position == len(order):
            return True
        name = order[position]
        gave_up = False
        for value in FACT_DOMAINS[name]:
            tries += 1
            if tries > budget:
                return None
            assigned[name] = value
            if not _possible(list(assigned), list(assigned.values())):
                continue
            if all(c.holds(assigned) == v for c, v in due.get(position, [])):
                found = extend(position + 1)
                if found is None:
                    gave_up = True
                    break
                if found:
                    return True
        del assigned[name]
        return None if gave_up else False

    return extend(0)


def _check_shadowed(
    doc: CatalogFile, judge: Judge, reachable: set[int], report: Report
) -> set[int]:
    """The reachable rules some request fires without a prohibition; a rule that
    fires only where a prohibition does never shows (a prohibited decision lists
    its prohibitions alone, and requires nothing), and is reported."""
    prohibitions = [
        (judge.conditions[n], False) for n, r in enumerate(doc.rules) if r.effect == "prohibit"
    ]
    shown: set[int] = set()
    for n in sorted(reachable):
        rule, condition = doc.rules[n], judge.conditions[n]
        if rule.effect == "prohibit":
            shown.add(n)
            continue
        if not condition.tabulated or not all(c.tabulated for c, _ in prohibitions):
            shown.add(n)
            continue
        found = _holds_somewhere([(condition, True), *prohibitions])
        if found is False:
            report.add(
                "shadowed",
                f"rules ({rule.id})",
                "条件が成り立つ申請では必ず禁止のルールも成り立つため、このルールは判定に現れません"
                "（禁止の判定は禁止の理由だけを示します。when を見直してください）",
            )
            continue
        if found is None:
            report.add(
                "note",
                f"rules ({rule.id})",
                "組合せが多すぎるため、禁止との重なりを検査していません",
            )
        shown.add(n)
    return shown


def _check_requirable(doc: CatalogFile, judge: Judge, shown: set[int], report: Report) -> None:
    requirable = {item.id for n in shown for item in items_required_by(doc.rules[n], judge.catalog)}
    for item in doc.items:
        if item.id not in requirable and item.group not in doc.informative_groups:
            report.add(
                "unrequired",
                f"items ({item.id})",
                "この項目を求めるルールがありません（require に加えるか、"
                f"説明だけの項目ならグループ {item.group} を informative_groups に加えてください）",
            )


# --------------------------------------------------------------------------- examples


def _names(values: Iterable[str], labels: Mapping[str, str] | None = None) -> str:
    shown = [labels.get(v, v) if labels else v for v in values]
    return "、".join(shown) if shown else "なし"


def _run_example(example: Example, judge: Judge, report: Report) -> None:
    entry = f"examples ({example.name})"
    try:
        request = parse_request(example.request)
    except RequestError as exc:
        for err in exc.errors:
            where = f"{entry}.request.{err.path}" if err.path else f"{entry}.request"
            report.add("example", where, f"申請として読めません: {err.message}")
        return
    decision = judge.decide(request)
    fired = {judge.catalog.rules[n].id for n in bits(judge.fired(request))}
    expect = example.expect
    if decision["verdict"] != expect.verdict:
        report.add(
            "example",
            f"{entry}.expect.verdict",
            f"判定は「{VERDICT_LABELS[expect.verdict]}」のはずが"
            f"「{VERDICT_LABELS[decision['verdict']]}」でした"
            f"（適用されたルール: {_names(r.id for r in judge.catalog.rules if r.id in fired)}）",
        )
    for rule_id in expect.fires:
        if rule_id not in fired:
            report.add(
                "example", f"{entry}.expect.fires", f"ルール {rule_id} が適用されませんでした"
            )
    for rule_id in expect.not_fires:
        if rule_id in fired:
            report.add("example", f"{entry}.expect.not_fires", f"ルール {rule_id} が適用されました")
    if expect.required is not None:
        got = [r["id"] for r in decision["required"]]
        missing = [i for i in expect.required if i not in got]
        extra = [i for i in got if i not in expect.required]
        if missing or extra:
            report.add(
                "example",
                f"{entry}.expect.required",
                f"必要な対策が違います（足りない: {_names(missing)}／余分: {_names(extra)}）",
            )
    if expect.approvals is not None and list(expect.approvals) != decision["approvals"]:
        report.add(
            "example",
            f"{entry}.expect.approvals",
            f"承認者は「{_names(expect.approvals, APPROVER_LABELS)}」のはずが"
            f"「{_names(decision['approvals'], APPROVER_LABELS)}」でした",
        )
    if expect.pia is not None and expect.pia != decision["pia_required"]:
        want, got_pia = (
            ("要" if expect.pia else "不要"),
            ("要" if decision["pia_required"] else "不要"),
        )
        report.add("example", f"{entry}.expect.pia", f"PIA は「{want}」のはずが「{got_pia}」でした")


def _note_untested_rules(doc: CatalogFile, report: Report) -> None:
    tested = {rule_id for example in doc.examples for rule_id in example.expect.fires}
    for rule in doc.rules:
        if rule.id not in tested:
            report.add(
                "note",
                f"rules ({rule.id})",
                "このルールが適用される例がありません（examples の expect.fires に加えてください）",
            )


__all__ = ["KIND_LABELS", "Finding", "Report", "check_catalog"]
