"""Rules compiled into lookup tables, once per catalog file.

Crossing from Python into CEL costs about a microsecond per fact value, which
for every rule on every request would cap the engine far below its target.
But every fact is a small enumeration (``FACT_DOMAINS``) and each rule reads
only a few of them, so each rule is evaluated by CEL itself over every
combination of the facts it reads, and judging becomes a lookup. The tables
are exact, not an approximation: they hold what CEL answered.

Which facts a rule reads is found from its text. A part named without a
field (``data["my_number"]``, a macro variable called ``data``) counts as
reading every field of that part, so the set is never too small; a rule whose
table would be too large is evaluated by CEL on each request instead.

Rules that read few facts are then merged into shared tables whose entries are
bit masks of the rules that fire (:class:`FiringTables`), so a request costs a
handful of lookups whatever the number of rules. CEL's answers are kept in the
catalog cache (``catalog.cache``), so a second run does not start CEL at all.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from cloudjudge.catalog import Catalog, CatalogError
from cloudjudge.catalog import cache as disk
from cloudjudge.catalog.loader import FACT_ROOTS
from cloudjudge.engine.request import FACT_DOMAINS, FACT_NAMES, POSITION, nested_facts

if TYPE_CHECKING:
    import cel

#: Above this many combinations a rule is evaluated live rather than tabulated.
MAX_TABLE_SIZE = 50_000
#: Tabulated rules share one table while the facts they read together have at
#: most this many combinations.
MAX_SHARED_TABLE_SIZE = 4_096

_STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_FACT_REFERENCE = re.compile(
    r"\b(" + "|".join(sorted(FACT_ROOTS)) + r")\b(?:\s*\.\s*([A-Za-z_]\w*))?"
)
_NEUTRAL = {name: domain[0] for name, domain in FACT_DOMAINS.items()}


def facts_read_by(condition: str, rule_id: str) -> tuple[str, ...]:
    """The ``part.field`` facts a CEL condition can read (a superset)."""
    text = _STRING_LITERAL.sub('""', condition)
    read: set[str] = set()
    for part, name in _FACT_REFERENCE.findall(text):
        if name:
            fact = f"{part}.{name}"
            if fact not in FACT_DOMAINS:
                raise CatalogError(f"rules ({rule_id}).when: 未知の項目 {fact}")
            read.add(fact)
        else:
            read.update(n for n in FACT_DOMAINS if n.startswith(part + "."))
    return tuple(sorted(read))


def _evaluate(program: cel.Program, values: Mapping[str, Any], rule_id: str) -> bool:
    try:
        result = program.execute(nested_facts(values))
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CatalogError(f"rules ({rule_id}).when: 評価に失敗しました: {exc!r}") from exc
    if type(result) is not bool:
        raise CatalogError(f"rules ({rule_id}).when: 真偽値ではなく {result!r} を返しました")
    return result


def _size(reads: Sequence[str]) -> int:
    size = 1
    for name in reads:
        size *= len(FACT_DOMAINS[name])
    return size


def combinations(reads: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """Every combination of the facts' values, in the order of a table's answers."""
    return itertools.product(*(FACT_DOMAINS[name] for name in reads))


#: Each fact's values by position in its domain, to index CEL's answers.
_VALUE_INDEX: dict[str, dict[Any, int]] = {
    name: {value: n for n, value in enumerate(domain)} for name, domain in FACT_DOMAINS.items()
}


@dataclass(frozen=True)
class CompiledCondition:
    """One rule's condition: ``holds(fact_values)`` answers whether it fires.

    A tabulated condition carries CEL's ``answers`` over every combination of
    the facts it ``reads`` (in ``itertools.product`` order, ``"1"`` where it
    holds); a live one asks CEL each time."""

    rule_id: str
    reads: tuple[str, ...]
    answers: str | None
    program: Callable[[], cel.Program] = field(repr=False, compare=False)

    @property
    def tabulated(self) -> bool:
        return self.answers is not None

    @cached_property
    def _strides(self) -> tuple[tuple[str, int], ...]:
        strides = []
        stride = 1
        for name in reversed(self.reads):
            strides.append((name, stride))
            stride *= len(FACT_DOMAINS[name])
        return tuple(reversed(strides))

    def holds(self, values: Mapping[str, Any]) -> bool:
        if self.answers is None:
            return _evaluate(self.program(), values, self.rule_id)
        index = 0
        for name, stride in self._strides:
            index += _VALUE_INDEX[name][values[name]] * stride
        return self.answers[index] == "1"


def _tabulate(program: cel.Program, reads: tuple[str, ...], rule_id: str) -> str:
    """CEL's answer for each combination: neutral facts with the rule's own set."""
    return "".join(
        "1"
        if _evaluate(program, {**_NEUTRAL, **dict(zip(reads, combination, strict=True))}, rule_id)
        else "0"
        for combination in combinations(reads)
    )


def compile_conditions(catalog: Catalog) -> tuple[CompiledCondition, ...]:
    """Every rule's condition, tabulated where small enough; CEL's answers are
    taken from the catalog cache when this catalog file was tabulated before."""
    reads = tuple(
        facts_read_by(condition, rule.id)
        for rule, condition in zip(catalog.rules, catalog.conditions, strict=True)
    )
    key = disk.key_for("tables", catalog.digest, repr(FACT_DOMAINS), str(MAX_TABLE_SIZE))
    kept = disk.read("tables", key)
    answers: list[str | None]
    if isinstance(kept, list) and _usable(kept, reads):
        answers = kept
    else:
        answers = [
            _tabulate(program, read, rule.id) if _size(read) <= MAX_TABLE_SIZE else None
            for rule, read, program in zip(catalog.rules, reads, catalog.programs, strict=True)
        ]
        disk.write("tables", key, answers)
    return tuple(
        CompiledCondition(rule.id, read, answer, _program_getter(catalog, n))
        for n, (rule, read, answer) in enumerate(zip(catalog.rules, reads, answers, strict=True))
    )


def _usable(kept: list[Any], reads: tuple[tuple[str, ...], ...]) -> bool:
    if len(kept) != len(reads):
        return False
    return all(
        (entry is None and _size(read) > MAX_TABLE_SIZE)
        or (isinstance(entry, str) and len(entry) == _size(read) and set(entry) <= {"0", "1"})
        for entry, read in zip(kept, reads, strict=True)
    )


def _program_getter(catalog: Catalog, index: int) -> Callable[[], cel.Program]:
    return lambda: catalog.programs[index]


# --------------------------------------------------------------------------- shared tables


class _SharedTable:
    """Rules reading few facts, answered together: the fired-rules mask of each
    combination of the facts they read, worked out the first time it is met, so
    building costs nothing and memory is bounded by the facts' domains."""

    def __init__(self, reads: Sequence[str], members: Sequence[tuple[int, CompiledCondition]]):
        self.reads = tuple(reads)
        self.members = tuple(members)
        self.masks: dict[Any, int] = {}
        positions = [POSITION[name] for name in reads]
        self.key_of: Callable[[tuple[Any, ...]], Any] = (
            itemgetter(*positions) if positions else (lambda facts: None)
        )

    def work_out(self, key: Any) -> int:
        """The mask for ``key`` (the values of ``reads``), kept for next time."""
        values = dict(zip(self.reads, key if len(self.reads) != 1 else (key,), strict=True))
        mask = 0
        for n, condition in self.members:
            if condition.holds(values):
                mask |= 1 << n
        self.masks[key] = mask
        return mask


class FiringTables:
    """Which rules fire, as one bit mask (bit ``n``: the catalog's ``n``-th rule),
    from a request's facts in ``FACT_NAMES`` order."""

    def __init__(
        self, conditions: Sequence[CompiledCondition], only: Collection[int] | None = None
    ):
        """``only``: the indices of the rules to answer for (all by default)."""
        wanted = range(len(conditions)) if only is None else only
        groups: list[tuple[list[str], list[int]]] = []
        for n, condition in enumerate(conditions):
            if n not in wanted or not condition.tabulated:
                continue
            for reads, members in groups:
                union = sorted(set(reads) | set(condition.reads))
                if _size(union) <= MAX_SHARED_TABLE_SIZE:
                    reads[:] = union
                    members.append(n)
                    break
            else:
                groups.append((list(condition.reads), [n]))
        self._tables = tuple(
            _SharedTable(reads, [(n, conditions[n]) for n in members]) for reads, members in groups
        )
        self._lookups = tuple((t.key_of, t.masks, t.work_out) for t in self._tables)
        self._live = tuple(
            (n, c) for n, c in enumerate(conditions) if n in wanted and not c.tabulated
        )

    def mask(self, facts: tuple[Any, ...]) -> int:
        fired = 0
        for key_of, masks, work_out in self._lookups:
            key = key_of(facts)
            found = masks.get(key)
            fired |= work_out(key) if found is None else found
        if self._live:
            values = dict(zip(FACT_NAMES, facts, strict=True))
            for n, condition in self._live:
                if condition.holds(values):
                    fired |= 1 << n
        return fired
