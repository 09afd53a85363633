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


def _combinations(reads: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    return itertools.product(*(FACT_DOMAINS[name] for name in reads))


@dataclass(frozen=True)
class CompiledCondition:
    """One rule's condition: ``holds(fact_values)`` answers whether it fires.

    A tabulated condition carries CEL's ``answers`` over every combination of
    the facts it ``reads`` (in ``itertools.product`` order); a live one asks
    CEL each time."""

    rule_id: str
    reads: tuple[str, ...]
    answers: tuple[bool, ...] | None
    program: Callable[[], cel.Program] = field(repr=False, compare=False)

    @property
    def tabulated(self) -> bool:
        return self.answers is not None

    @cached_property
    def _table(self) -> dict[tuple[Any, ...], bool]:
        assert self.answers is not None
        return dict(zip(_combinations(self.reads), self.answers, strict=True))

    def holds(self, values: Mapping[str, Any]) -> bool:
        if self.answers is None:
            return _evaluate(self.program(), values, self.rule_id)
        return self._table[tuple(values[name] for name in self.reads)]


def _tabulate(program: cel.Program, reads: tuple[str, ...], rule_id: str) -> tuple[bool, ...]:
    """CEL's answer for each combination: neutral facts with the rule's own set."""
    return tuple(
        _evaluate(program, {**_NEUTRAL, **dict(zip(reads, combination, strict=True))}, rule_id)
        for combination in _combinations(reads)
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
    answers: list[tuple[bool, ...] | None]
    if isinstance(kept, list) and _usable(kept, reads):
        answers = [None if a is None else tuple(c == "1" for c in a) for a in kept]
    else:
        answers = [
            _tabulate(program, read, rule.id) if _size(read) <= MAX_TABLE_SIZE else None
            for rule, read, program in zip(catalog.rules, reads, catalog.programs, strict=True)
        ]
        disk.write(
            "tables",
            key,
            [None if a is None else "".join("1" if b else "0" for b in a) for a in answers],
        )
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


@dataclass(frozen=True)
class _SharedTable:
    key_of: Callable[[tuple[Any, ...]], Any]
    masks: dict[Any, int]


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
            self._shared(reads, [(n, conditions[n]) for n in members]) for reads, members in groups
        )
        self._live = tuple(
            (n, c) for n, c in enumerate(conditions) if n in wanted and not c.tabulated
        )

    @staticmethod
    def _shared(reads: list[str], members: list[tuple[int, CompiledCondition]]) -> _SharedTable:
        masks: dict[Any, int] = {}
        for combination in _combinations(reads):
            values = dict(zip(reads, combination, strict=True))
            mask = 0
            for n, condition in members:
                if condition.holds(values):
                    mask |= 1 << n
            masks[combination if len(reads) != 1 else combination[0]] = mask
        positions = [POSITION[name] for name in reads]
        if not positions:
            constant = masks.pop(())
            return _SharedTable(lambda facts: None, {None: constant})
        return _SharedTable(itemgetter(*positions), masks)

    def mask(self, facts: tuple[Any, ...]) -> int:
        fired = 0
        for table in self._tables:
            fired |= table.masks[table.key_of(facts)]
        if self._live:
            values = dict(zip(FACT_NAMES, facts, strict=True))
            for n, condition in self._live:
                if condition.holds(values):
                    fired |= 1 << n
        return fired
