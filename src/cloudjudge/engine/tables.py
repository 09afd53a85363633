"""Rules compiled into lookup tables, once, when a catalog is loaded.

Crossing from Python into CEL costs about a microsecond per fact value, which
for every rule on every request would cap the engine far below its target.
But every fact is a small enumeration (``FACT_DOMAINS``) and each rule reads
only a few of them, so each rule is evaluated by CEL itself over every
combination of the facts it reads, and judging becomes one dict lookup per
rule. The tables are exact, not an approximation: they hold what CEL answered.

Which facts a rule reads is found from its text. A part named without a
field (``data["my_number"]``, a macro variable called ``data``) counts as
reading every field of that part, so the set is never too small; a rule whose
table would be too large is evaluated by CEL on each request instead.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import cel

from cloudjudge.catalog import Catalog, CatalogError
from cloudjudge.catalog.loader import FACT_ROOTS
from cloudjudge.engine.request import FACT_DOMAINS, nested_facts

#: Above this many combinations a rule is evaluated live rather than tabulated.
MAX_TABLE_SIZE = 50_000

_STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_FACT_REFERENCE = re.compile(
    r"\b(" + "|".join(sorted(FACT_ROOTS)) + r")\b(?:\s*\.\s*([A-Za-z_]\w*))?"
)
_NEUTRAL = {name: domain[0] for name, domain in FACT_DOMAINS.items()}


def facts_read_by(condition: str, rule_id: str) -> tuple[str, ...]:
    """The ``part.field`` facts a CEL condition can read (a superset)."""
    text = _STRING_LITERAL.sub('""', condition)
    read: set[str] = set()
    for part, field in _FACT_REFERENCE.findall(text):
        if field:
            name = f"{part}.{field}"
            if name not in FACT_DOMAINS:
                raise CatalogError(f"rules ({rule_id}).when: 未知の項目 {name}")
            read.add(name)
        else:
            read.update(n for n in FACT_DOMAINS if n.startswith(part + "."))
    return tuple(sorted(read))


def _evaluate(program: cel.Program, values: dict[str, Any], rule_id: str) -> bool:
    try:
        result = program.execute(nested_facts(values))
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CatalogError(f"rules ({rule_id}).when: 評価に失敗しました: {exc!r}") from exc
    if type(result) is not bool:
        raise CatalogError(f"rules ({rule_id}).when: 真偽値ではなく {result!r} を返しました")
    return result


def _with(reads: tuple[str, ...], combination: tuple[Any, ...]) -> dict[str, Any]:
    """Neutral facts with the rule's own facts set to one combination."""
    return {**_NEUTRAL, **dict(zip(reads, combination, strict=True))}


@dataclass(frozen=True)
class CompiledCondition:
    """``holds(fact_values)`` answers whether one rule fires."""

    rule_id: str
    reads: tuple[str, ...]
    holds: Callable[[dict[str, Any]], bool]
    tabulated: bool


def compile_condition(program: cel.Program, condition: str, rule_id: str) -> CompiledCondition:
    reads = facts_read_by(condition, rule_id)
    size = 1
    for name in reads:
        size *= len(FACT_DOMAINS[name])
    if size > MAX_TABLE_SIZE:
        return CompiledCondition(
            rule_id, reads, lambda values: _evaluate(program, values, rule_id), False
        )
    table = {
        combination: _evaluate(program, _with(reads, combination), rule_id)
        for combination in itertools.product(*(FACT_DOMAINS[name] for name in reads))
    }
    if not reads:
        constant = table[()]
        return CompiledCondition(rule_id, reads, lambda values: constant, True)
    key_of = itemgetter(*reads)
    if len(reads) == 1:
        return CompiledCondition(rule_id, reads, lambda values: table[(key_of(values),)], True)
    return CompiledCondition(rule_id, reads, lambda values: table[key_of(values)], True)


def compile_conditions(catalog: Catalog) -> tuple[CompiledCondition, ...]:
    return tuple(
        compile_condition(program, condition, rule.id)
        for rule, condition, program in zip(
            catalog.rules, catalog.conditions, catalog.programs, strict=True
        )
    )
