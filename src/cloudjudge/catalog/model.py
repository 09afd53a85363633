"""The loaded catalog: the criteria as one immutable, queryable object."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from cloudjudge.catalog.schema import Clause, Item, Rule

if TYPE_CHECKING:
    import cel


@dataclass(frozen=True, eq=False)
class Catalog:
    id: str
    title: str
    version: str
    publisher: str
    clauses: tuple[Clause, ...]
    items: tuple[Item, ...]
    rules: tuple[Rule, ...]
    #: Each rule's condition with ``${name}`` definitions expanded.
    conditions: tuple[str, ...] = field(repr=False)
    #: Identifies the file's content (and the loader's version): what derived work is kept under.
    digest: str = field(repr=False)
    #: The document the catalog transcribes (``source:`` in the file).
    source: str = ""
    #: The day this version takes effect; ``None``: in force from the start.
    effective: datetime.date | None = None
    _items_by_id: dict[str, Item] = field(init=False, repr=False, compare=False)
    _clauses_by_ref: dict[str, Clause] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_items_by_id", {i.id: i for i in self.items})
        object.__setattr__(self, "_clauses_by_ref", {c.ref: c for c in self.clauses})

    @cached_property
    def programs(self) -> tuple[cel.Program, ...]:
        """Each condition compiled by CEL, on first use: judging reads tables
        (``engine.tables``), so most runs never need CEL at all."""
        from cloudjudge.catalog.loader import compile_expression

        return tuple(
            compile_expression(condition, f"{self.label}: rules ({rule.id}).when")
            for rule, condition in zip(self.rules, self.conditions, strict=True)
        )

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
