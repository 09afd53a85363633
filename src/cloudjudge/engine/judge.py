"""The judgement: request facts in, verdict with reasons out.

Pure: no I/O, no clock, no global state beyond the immutable catalog, so the
same request and catalog always give the same decision, and the CLI, the
Python API and the web layer cannot disagree.

The decision depends only on the facts, and all but its remedies only on which
rules fire, so both are kept in bounded caches: a batch of many requests
judges each distinct situation once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, TypedDict

from pydantic import ValidationError

from cloudjudge.catalog import Catalog, CatalogError, default_catalog
from cloudjudge.catalog.schema import Effect, Item, Rule
from cloudjudge.catalog.schema import Verdict as Verdict  # one definition, used by remedies
from cloudjudge.engine.errors import request_error_from
from cloudjudge.engine.request import Request, derive
from cloudjudge.engine.tables import CompiledCondition, FiringTables, compile_conditions

#: Findings come out by weight, then in catalog order.
EFFECT_ORDER: tuple[Effect, ...] = ("prohibit", "approve", "require", "info")

#: How many decisions (by stated facts), fired-rule sets and situations for
#: remedies are kept: bounded, so memory stays flat however many lines are judged.
DECISION_CACHE_SIZE = 4_096
ASSEMBLED_CACHE_SIZE = 4_096
REMEDY_CACHE_SIZE = 4_096


class Finding(TypedDict):
    rule: str
    clause: str
    effect: Effect
    message: str


class RequiredItem(TypedDict):
    id: str
    clause: str
    title: str
    reason: str


Change = TypedDict("Change", {"field": str, "from": Any, "to": Any})


class Remedy(TypedDict):
    changes: list[Change]
    verdict: Verdict
    clause: str
    message: str


class Decision(TypedDict):
    criteria_version: str
    verdict: Verdict
    approvals: list[str]
    pia_required: bool
    findings: list[Finding]
    required: list[RequiredItem]
    remedies: list[Remedy]


def items_required_by(rule: Rule, catalog: Catalog) -> tuple[Item, ...]:
    """The catalog's items a rule requires when it fires, in catalog order."""
    req = rule.require
    if req is None:
        return ()
    chosen = {
        item.id
        for item in catalog.items
        if (item.group in req.groups and (req.column is None or req.column in item.columns))
        or item.id in req.items
    }
    chosen -= set(req.except_items)
    return tuple(item for item in catalog.items if item.id in chosen)


_to_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass(frozen=True)
class _Outcome:
    """What one rule contributes when it fires, prepared once at load, both as
    data and as the JSON text it serialises to."""

    effect: Effect
    finding: Finding
    finding_json: str
    approvals: tuple[str, ...]
    pia: bool
    required: tuple[tuple[int, RequiredItem, str], ...]


@dataclass(frozen=True)
class _Assembled:
    """Everything of a decision that follows from which rules fired."""

    verdict: Verdict
    approvals: tuple[str, ...]
    pia: bool
    findings: tuple[Finding, ...]
    required: tuple[RequiredItem, ...]
    #: The decision's JSON text up to the remedies: ``{...,"required":[...]``.
    head_json: str


def bits(mask: int) -> list[int]:
    """The rule indices set in a fired-rules mask, ascending."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


class Judge:
    """A catalog made ready to judge: every rule tabulated, every outcome
    prepared. Build one per catalog (``judge_for``) and reuse it."""

    def __init__(self, catalog: Catalog):
        from cloudjudge.engine.remedies import RemedySearch

        self.catalog = catalog
        try:
            self.conditions: tuple[CompiledCondition, ...] = compile_conditions(catalog)
        except CatalogError as exc:
            raise CatalogError(f"{catalog.label}: {exc}") from exc
        self.firing = FiringTables(self.conditions)
        order = {item.id: n for n, item in enumerate(catalog.items)}
        outcomes = []
        for rule in catalog.rules:
            finding: Finding = {
                "rule": rule.id,
                "clause": rule.clause,
                "effect": rule.effect,
                "message": rule.message,
            }
            required = []
            for item in items_required_by(rule, catalog):
                entry: RequiredItem = {
                    "id": item.id,
                    "clause": item.clause,
                    "title": item.title,
                    "reason": rule.message,
                }
                required.append((order[item.id], entry, _to_json(entry)))
            outcomes.append(
                _Outcome(
                    rule.effect,
                    finding,
                    _to_json(finding),
                    rule.approvals,
                    rule.pia,
                    tuple(required),
                )
            )
        self._outcomes = tuple(outcomes)
        self.prohibiting = self._mask_of("prohibit")
        self.approving = self._mask_of("approve")
        #: Rule indices in the order findings are shown: by effect, then catalog order.
        self._finding_order = tuple(
            sorted(range(len(outcomes)), key=lambda n: (EFFECT_ORDER.index(outcomes[n].effect), n))
        )
        self._version_json = _to_json(catalog.label)
        self._assembled = lru_cache(maxsize=ASSEMBLED_CACHE_SIZE)(self._assemble)
        self._by_facts = lru_cache(maxsize=DECISION_CACHE_SIZE)(self._line_for)
        self.remedies = RemedySearch(self)

    def _mask_of(self, effect: Effect) -> int:
        return sum(1 << n for n, o in enumerate(self._outcomes) if o.effect == effect)

    def verdict_of(self, fired: int) -> Verdict:
        if fired & self.prohibiting:
            return "prohibited"
        return "approval_required" if fired & self.approving else "permitted"

    def _assemble(self, fired: int) -> _Assembled:
        verdict = self.verdict_of(fired)
        if verdict == "prohibited":
            # A forbidden use needs nothing else: the findings are its prohibitions.
            forbidding = fired & self.prohibiting
            shown = [n for n in self._finding_order if forbidding >> n & 1]
            approvals: tuple[str, ...] = ()
            pia = False
            required: list[tuple[int, RequiredItem, str]] = []
        else:
            shown = [n for n in self._finding_order if fired >> n & 1]
            chosen: dict[str, tuple[int, RequiredItem, str]] = {}
            names: list[str] = []
            for n in bits(fired):
                outcome = self._outcomes[n]
                names.extend(a for a in outcome.approvals if a not in names)
                for entry in outcome.required:
                    chosen.setdefault(entry[1]["id"], entry)
            approvals = tuple(names)
            pia = any(self._outcomes[n].pia for n in bits(fired))
            required = sorted(chosen.values(), key=_first)
        findings = tuple(self._outcomes[n].finding for n in shown)
        head = (
            f'{{"criteria_version":{self._version_json},"verdict":"{verdict}",'
            f'"approvals":{_to_json(list(approvals))},'
            f'"pia_required":{"true" if pia else "false"},'
            f'"findings":[{",".join(self._outcomes[n].finding_json for n in shown)}],'
            f'"required":[{",".join(text for _, _, text in required)}]'
        )
        return _Assembled(verdict, approvals, pia, findings, tuple(e for _, e, _ in required), head)

    def fired(self, request: Request) -> int:
        return self.firing.mask(request.facts())

    def decide(self, request: Request) -> Decision:
        """The decision as fresh data (the caller may change it)."""
        assembled = self._assembled(self.fired(request))
        remedies: list[Remedy] = (
            json.loads(self.remedies.json_for(request.stated()))
            if assembled.verdict == "prohibited"
            else []
        )
        return {
            "criteria_version": self.catalog.label,
            "verdict": assembled.verdict,
            "approvals": list(assembled.approvals),
            "pia_required": assembled.pia,
            "findings": [dict(f) for f in assembled.findings],  # type: ignore[misc]
            "required": [dict(e) for e in assembled.required],  # type: ignore[misc]
            "remedies": remedies,
        }

    def decide_json(self, request: Request) -> str:
        """The decision as compact JSON, identical to encoding ``decide``'s
        result, built from the fragments prepared at load, and kept by the
        stated facts, on which alone it depends."""
        return self._by_facts(request.stated())[:-1].decode()

    def decide_line(self, request: Request) -> bytes:
        """``decide_json`` as a UTF-8 line, newline included, for a stream: a
        decision is kilobytes of Japanese, and encoding it is most of the cost of
        writing it, so it is kept encoded."""
        return self._by_facts(request.stated())

    def _line_for(self, stated: tuple[Any, ...]) -> bytes:
        return f"{self._json_for(stated)}\n".encode()

    def _json_for(self, stated: tuple[Any, ...]) -> str:
        assembled = self._assembled(self.firing.mask(derive(stated)))
        if assembled.verdict != "prohibited":
            return assembled.head_json + ',"remedies":[]}'
        return f'{assembled.head_json},"remedies":{self.remedies.json_for(stated)}}}'


def _first(entry: tuple[int, RequiredItem, str]) -> int:
    return entry[0]


@cache
def judge_for(catalog: Catalog) -> Judge:
    return Judge(catalog)


def parse_request(data: Mapping[str, Any]) -> Request:
    """Validate a request; :class:`RequestError` names every bad field."""
    try:
        return Request.model_validate(data)
    except ValidationError as exc:
        raise request_error_from(exc) from None


def parse_request_json(text: str | bytes) -> Request:
    """Read and validate a request from JSON text in one step (pydantic's own
    parser, which bounds nesting and number size); errors as ``parse_request``."""
    try:
        return Request.model_validate_json(text)
    except ValidationError as exc:
        raise request_error_from(exc) from None


def judge(data: Mapping[str, Any] | Request, catalog: Catalog | None = None) -> Decision:
    """Judge one request (a mapping as in YAML/JSON, or a parsed Request)."""
    request = data if isinstance(data, Request) else parse_request(data)
    return judge_for(catalog or default_catalog()).decide(request)
