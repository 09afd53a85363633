"""The loaded catalog: the criteria as one immutable, queryable object."""

from __future__ import annotations

from dataclasses import dataclass, field

import cel

from cloudjudge.catalog.schema import Clause, Item, Rule


@dataclass(frozen=True, eq=False)
class Catalog:
    id: str
    title: str
    version: str
    publisher: str
    clauses: tuple[Clause, ...]
    items: tuple[Item, ...]
    rules: tuple[Rule, ...]
    #: Each rule's condition with ``${name}`` definitions expanded, and compiled.
    conditions: tuple[str, ...] = field(repr=False)
    programs: tuple[cel.Program, ...] = field(repr=False)
    _items_by_id: dict[str, Item] = field(init=False, repr=False, compare=False)
    _clauses_by_ref: dict[str, Clause] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_items_by_id", {i.id: i for i in self.items})
        object.__setattr__(self, "_clauses_by_ref", {c.ref: c for c in self.clauses})

    @property
    def label(self) -> str:
        return f"{self.id}@{self.version}"

    def item(self, item_id: str) -> Item:
        return self._items_by_id[item_id]

    def has_item(self, item_id: str) -> bool:
        return item_id in self._items_by_id

    def clause(self, ref: str) -> Clause:
        return self._clauses_by_ref[ref]

    def has_clause(self, ref: str) -> bool:
        return ref in self._clauses_by_ref

    def items_with_prefix(self, prefix: str) -> tuple[Item, ...]:
        wanted = prefix.upper()
        return tuple(i for i in self.items if i.id.startswith(wanted))
