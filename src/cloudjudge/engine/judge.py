"""The judgement: request facts in, verdict with reasons out.

Pure: no I/O, no clock, no global state beyond the immutable catalog, so the
same request and catalog always give the same decision, and the CLI, the
Python API and the web layer cannot disagree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, TypedDict

from pydantic import ValidationError

from cloudjudge.catalog import Catalog, CatalogError, default_catalog
from cloudjudge.catalog.schema import Item, Rule
from cloudjudge.engine.errors import request_error_from
from cloudjudge.engine.request import Request
from cloudjudge.engine.tables import compile_conditions

Verdict = Literal["prohibited", "approval_required", "permitted"]


class Finding(TypedDict):
    clause: str
    effect: Literal["prohibit", "approve", "require", "info"]
    message: str


class RequiredItem(TypedDict):
    id: str
    clause: str
    title: str
    reason: str


class Decision(TypedDict):
    criteria_version: str
    verdict: Verdict
    approvals: list[str]
    pia_required: bool
    findings: list[Finding]
    required: list[RequiredItem]


def _items_required_by(rule: Rule, catalog: Catalog) -> tuple[Item, ...]:
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


@dataclass(frozen=True)
class _Outcome:
    """What one rule contributes when it fires, prepared once at load, both as
    data and as the JSON text it serialises to."""

    finding: Finding
    finding_json: str
    approvals: tuple[str, ...]
    pia: bool
    required: tuple[tuple[int, RequiredItem, str], ...]


_to_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Judge:
    """A catalog made ready to judge: every rule tabulated, every outcome
    prepared. Build one per catalog (``judge_for``) and reuse it."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        try:
            self.conditions = compile_conditions(catalog)
        except CatalogError as exc:
            raise CatalogError(f"{catalog.label}: {exc}") from exc
        order = {item.id: n for n, item in enumerate(catalog.items)}
        outcomes = []
        for rule in catalog.rules:
            finding: Finding = {
                "clause": rule.clause,
                "effect": rule.effect,
                "message": rule.message,
            }
            required = []
            for item in _items_required_by(rule, catalog):
                entry: RequiredItem = {
                    "id": item.id,
                    "clause": item.clause,
                    "title": item.title,
                    "reason": rule.message,
                }
                required.append((order[item.id], entry, _to_json(entry)))
            outcomes.append(
                _Outcome(finding, _to_json(finding), rule.approvals, rule.pia, tuple(required))
            )
        self._outcomes = tuple(outcomes)
        self._version_json = _to_json(catalog.label)

    def _evaluate(self, request: Request) -> tuple[list[_Outcome], list[str], Verdict, list[Any]]:
        values = request.fact_values()
        fired = [
            outcome
            for outcome, condition in zip(self._outcomes, self.conditions, strict=True)
            if condition.holds(values)
        ]
        approvals: list[str] = []
        required: dict[str, tuple[int, RequiredItem, str]] = {}
        for outcome in fired:
            approvals.extend(a for a in outcome.approvals if a not in approvals)
            for entry in outcome.required:
                required.setdefault(entry[1]["id"], entry)
        if any(o.finding["effect"] == "prohibit" for o in fired):
            verdict: Verdict = "prohibited"
        elif approvals:
            verdict = "approval_required"
        else:
            verdict = "permitted"
        return fired, approvals, verdict, sorted(required.values(), key=_first)

    def decide(self, request: Request) -> Decision:
        fired, approvals, verdict, required = self._evaluate(request)
        return {
            "criteria_version": self.catalog.label,
            "verdict": verdict,
            "approvals": approvals,
            "pia_required": any(o.pia for o in fired),
            "findings": [dict(o.finding) for o in fired],  # type: ignore[misc]
            "required": [dict(entry) for _, entry, _ in required],  # type: ignore[misc]
        }

    def decide_json(self, request: Request) -> str:
        """The decision as compact JSON, identical to encoding ``decide``'s
        result, built from the fragments prepared at load."""
        fired, approvals, verdict, required = self._evaluate(request)
        return (
            f'{{"criteria_version":{self._version_json},"verdict":"{verdict}",'
            f'"approvals":{_to_json(approvals)},'
            f'"pia_required":{"true" if any(o.pia for o in fired) else "false"},'
            f'"findings":[{",".join(o.finding_json for o in fired)}],'
            f'"required":[{",".join(text for _, _, text in required)}]}}'
        )


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


def judge(data: Mapping[str, Any] | Request, catalog: Catalog | None = None) -> Decision:
    """Judge one request (a mapping as in YAML/JSON, or a parsed Request)."""
    request = data if isinstance(data, Request) else parse_request(data)
    return judge_for(catalog or default_catalog()).decide(request)
