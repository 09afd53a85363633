"""Remedies: the smallest changes an applicant can make that lift every prohibition.

Computed from the catalog's rules, never written per rule: a breadth-first
search over the facts the applicant controls (``request.CONTROLLABLE``),
changing one fact at a time, and only a fact that a standing prohibition reads
(or that a combination of facts needs: a usage for local breakout, a download
for a contractor's download). The facts of the data itself are never changed.

- A remedy is *minimal*: no part of its changes would do on its own.
- Remedies come smallest first and end one fact after the smallest size found,
  at most ``MAX_REMEDIES`` and never more than ``MAX_CHANGES`` facts each.
- Of remedies of one size, those that change other facts or lead to another
  verdict come first, and other values for the same facts (ISMAP-LIU after
  ISMAP) only fill the room left, so the list shows different ways out; each
  in a fixed order: permitted before approval required, then ``CONTROLLABLE``
  order, then each fact's own order of values.

Each remedy says the verdict judging the changed request gives, and cites the
clauses of the prohibitions and approvals its changes turn off or on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any, get_args

from cloudjudge.engine.judge import REMEDY_CACHE_SIZE, bits
from cloudjudge.engine.request import (
    CONSISTENCY,
    CONTROLLABLE,
    DERIVED_FROM,
    FACT_DOMAINS,
    FACT_NAMES,
    POSITION,
    SET_FACTS,
    IsmsCertification,
    Listing,
    derive,
    inconsistent,
)
from cloudjudge.engine.tables import FiringTables
from cloudjudge.labels import VERDICT_LABELS, change_phrase

if TYPE_CHECKING:
    from cloudjudge.engine.judge import Judge, Remedy, Verdict

MAX_REMEDIES = 5
MAX_CHANGES = 4

#: The codes a set fact can gain, in their own order.
_SET_CODES: dict[str, tuple[str, ...]] = {
    "service.listings": get_args(Listing),
    "service.isms_certifications": get_args(IsmsCertification),
}
_CONTROLLABLE_AT = {POSITION[name]: rank for rank, name in enumerate(CONTROLLABLE)}
_VERDICT_RANK = {"permitted": 0, "approval_required": 1}
#: Stated facts no remedy depends on take these values in the cached search.
_NEUTRAL = tuple(FACT_DOMAINS[name][0] for name in FACT_NAMES)

#: One change: the position of a stated fact and its new value.
Changes = tuple[tuple[int, Any], ...]


def _alternatives(position: int, current: Any) -> Iterator[tuple[int, Any]]:
    """(rank, value) of each value a fact may be changed to, in the fact's order."""
    name = FACT_NAMES[position]
    if name in SET_FACTS:
        for rank, code in enumerate(_SET_CODES[name]):
            if code not in current:
                yield rank, tuple(sorted((*current, code)))
        return
    for rank, value in enumerate(FACT_DOMAINS[name]):
        if value != current and value != "":  # "" is a left-out usage, never a choice
            yield rank, value


def _json_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


class RemedySearch:
    """The remedies of one judge's catalog, kept per situation (bounded)."""

    def __init__(self, judge: Judge):
        self._judge = judge
        weighing = judge.prohibiting | judge.approving
        self._verdicts = FiringTables(judge.conditions, only=set(bits(weighing)))
        self._weighing = weighing
        #: For each rule, the controllable stated facts that can change its answer.
        self._levers: dict[int, tuple[int, ...]] = {}
        for n in bits(weighing):
            stated = {
                source
                for read in judge.conditions[n].reads
                for source in DERIVED_FROM.get(read, (read,))
            }
            self._levers[n] = tuple(
                sorted(POSITION[s] for s in stated if POSITION[s] in _CONTROLLABLE_AT)
            )
        # The remedies depend on the stated facts the weighing rules and the
        # consistency checks read, and on nothing else: the cache key.
        relevant = {p for levers in self._levers.values() for p in levers}
        relevant |= {
            POSITION[source]
            for n in bits(weighing)
            for read in judge.conditions[n].reads
            for source in DERIVED_FROM.get(read, (read,))
        }
        relevant |= {POSITION[name] for c in CONSISTENCY for name in (c.field, c.other)}
        self._key_positions = tuple(sorted(relevant))
        self._by_key = lru_cache(maxsize=REMEDY_CACHE_SIZE)(self._search_json)

    # ------------------------------------------------------------------ public

    def json_for(self, stated: tuple[Any, ...]) -> str:
        """The remedies for a prohibited request, as the JSON of a list."""
        return self._by_key(tuple(stated[p] for p in self._key_positions))

    # ------------------------------------------------------------------ search

    def _weigh(self, stated: tuple[Any, ...]) -> int:
        return self._verdicts.mask(derive(stated))

    def _search_json(self, key: tuple[Any, ...]) -> str:
        """The search for the situation ``key`` (the stated facts that matter), with
        every other fact at a neutral value."""
        stated = list(_NEUTRAL)
        for position, value in zip(self._key_positions, key, strict=True):
            stated[position] = value
        remedies = self._search(tuple(stated))
        return json.dumps(remedies, ensure_ascii=False, separators=(",", ":"))

    def _search(self, stated: tuple[Any, ...]) -> list[Remedy]:
        start = self._weigh(stated)
        if not start & self._judge.prohibiting or inconsistent(stated):
            return []
        options = {p: tuple(_alternatives(p, stated[p])) for p in _CONTROLLABLE_AT}
        rank = {(p, value): r for p, choices in options.items() for r, value in choices}
        found: list[tuple[Changes, int]] = []
        shown: list[tuple[Changes, int]] = []
        #: Change sets still prohibited (or inconsistent), with the facts to pull next.
        frontier: list[tuple[Changes, frozenset[int]]] = [((), self._levers_of(stated, start))]
        seen: set[Changes] = set()
        smallest = None
        for size in range(1, MAX_CHANGES + 1):
            if smallest is not None and size > smallest + 1:
                break
            level: list[tuple[tuple[Any, ...], Changes, int]] = []
            following: list[tuple[Changes, frozenset[int]]] = []
            for changes, levers in frontier:
                for candidate in _extensions(changes, levers, options):
                    if candidate in seen:
                        continue
                    seen.add(candidate)
                    if any(_contains(candidate, earlier) for earlier, _ in found):
                        continue  # not minimal
                    changed = _apply(stated, candidate)
                    fired = self._weigh(changed)
                    if inconsistent(changed) or fired & self._judge.prohibiting:
                        following.append((candidate, self._levers_of(changed, fired)))
                    else:
                        order = tuple((_CONTROLLABLE_AT[p], rank[p, v]) for p, v in candidate)
                        level.append((order, candidate, fired))
            level.sort(key=lambda entry: (_VERDICT_RANK[self._verdict(entry[2])], entry[0]))
            kinds = {(frozenset(p for p, _ in c), self._verdict(f)) for c, f in shown}
            alternatives = []
            for _, candidate, fired in level:
                found.append((candidate, fired))
                kind = (frozenset(p for p, _ in candidate), self._verdict(fired))
                if kind in kinds:
                    alternatives.append((candidate, fired))
                else:
                    kinds.add(kind)
                    shown.append((candidate, fired))
            shown = (shown + alternatives)[:MAX_REMEDIES]
            if level and smallest is None:
                smallest = size
            if len(shown) >= MAX_REMEDIES or not following:
                break
            frontier = following
        return [self._remedy(stated, start, changes, fired) for changes, fired in shown]

    def _verdict(self, fired: int) -> Verdict:
        return self._judge.verdict_of(fired)

    def _levers_of(self, state: tuple[Any, ...], fired: int) -> frozenset[int]:
        """The controllable facts that could lift a prohibition standing in ``state``
        or mend its inconsistency."""
        levers: set[int] = set()
        for n in bits(fired & self._judge.prohibiting):
            levers.update(self._levers[n])
        levers.update(POSITION[name] for name in inconsistent(state))
        return frozenset(p for p in levers if p in _CONTROLLABLE_AT)

    def _remedy(self, stated: tuple[Any, ...], start: int, changes: Changes, fired: int) -> Remedy:
        verdict = self._verdict(fired)
        changed = {p for p, _ in changes}
        flipped = (start ^ fired) & self._weighing
        clauses: list[str] = []
        for n in bits(flipped):
            if set(self._levers[n]) & changed:
                clause = self._judge.catalog.rules[n].clause
                if clause not in clauses:
                    clauses.append(clause)
        phrases = [
            change_phrase(FACT_NAMES[p], _added(stated[p], v) if FACT_NAMES[p] in SET_FACTS else v)
            for p, v in changes
        ]
        clause = "、".join(clauses)
        return {
            "changes": [
                {"field": FACT_NAMES[p], "from": _json_value(stated[p]), "to": _json_value(v)}
                for p, v in changes
            ],
            "verdict": verdict,
            "clause": clause,
            "message": "、".join(phrases)
            + (f"（{clause}）" if clause else "")
            + f"→ {VERDICT_LABELS[verdict]}",
        }


def _extensions(
    changes: Changes, levers: frozenset[int], options: dict[int, tuple[tuple[int, Any], ...]]
) -> Iterator[Changes]:
    """Each way to change one more fact that could matter, in ``CONTROLLABLE`` order."""
    touched = {p for p, _ in changes}
    for position in sorted(levers - touched, key=_CONTROLLABLE_AT.__getitem__):
        for _, value in options[position]:
            yield tuple(sorted((*changes, (position, value)), key=_first))


def _first(change: tuple[int, Any]) -> int:
    return change[0]


def _apply(stated: tuple[Any, ...], changes: Changes) -> tuple[Any, ...]:
    if not changes:
        return stated
    values = list(stated)
    for position, value in changes:
        values[position] = value
    return tuple(values)


def _contains(changes: Changes, part: Changes) -> bool:
    return set(part) <= set(changes)


def _added(before: tuple[str, ...], after: tuple[str, ...]) -> str:
    return next(code for code in after if code not in before)
