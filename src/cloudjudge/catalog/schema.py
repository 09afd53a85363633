"""The typed shape of a criteria catalog file.

A catalog is data written by a catalog author, not by a programmer, so every
model forbids unknown keys: a misspelt key is an error naming the entry, not a
silently ignored rule.
"""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

ItemGroup = Literal["T1", "S1", "S2", "SEL", "EXIT", "PROC", "SU", "RISK"]
Effect = Literal["prohibit", "approve", "require", "info"]
Verdict = Literal["prohibited", "approval_required", "permitted"]
Approver = Literal["ciso"]
UsageColumn = Literal["A", "B", "C"]
#: Who carries out an item, as the document's wording says: the provider (事業者),
#: the city (本市: its network, terminals and procedures), or both.
Party = Literal["provider", "city", "both"]

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
ItemId = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]*-[A-Z0-9]+$")]

#: Which IDs each group may hold, so a typo such as ``S1-1`` is caught on load.
ITEM_ID_PATTERNS: dict[str, re.Pattern[str]] = {
    "T1": re.compile(r"^T1-\d{2}$"),
    # S1-11N: the なお書 of 別紙1① No.11, which the rules require on its own.
    "S1": re.compile(r"^S1-\d{2}N?$"),
    "S2": re.compile(r"^S2-\d{2}$"),
    "SEL": re.compile(r"^SEL-[A-G]\d$"),
    "EXIT": re.compile(r"^EXIT-\d$"),
    "PROC": re.compile(r"^PROC-\d$"),
    "SU": re.compile(r"^SU-\d$"),
    "RISK": re.compile(r"^RISK-[A-E]$"),
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Clause(Strict):
    """A heading of the document: the thing a finding cites."""

    ref: NonEmpty = Field(description="Clause reference as numbered in the document: 3.1(1)(イ)")
    title: NonEmpty
    text: str = Field(default="", description="Verbatim body text of the clause, if any")


class Item(Strict):
    """A numbered requirement, measure, condition or risk of the document."""

    id: ItemId
    group: ItemGroup
    clause: NonEmpty = Field(description="Ref of the clause the item belongs to")
    party: Party = Field(description="Who carries it out, read from the wording")
    title: str = Field(default="", description="Short name: 表1's measure, a phrase of the text")
    category: str = Field(default="", description="別紙1 only: the 区分 column")
    text: NonEmpty = Field(description="Verbatim Japanese text of the item")
    columns: tuple[UsageColumn, ...] = Field(
        default=(), description="表1 only: the usage columns (A/B/C) marked ○"
    )

    @model_validator(mode="after")
    def _id_fits_group(self) -> Item:
        if not ITEM_ID_PATTERNS[self.group].match(self.id):
            raise ValueError(f"ID {self.id} はグループ {self.group} の ID の形式に合いません")
        if self.columns and self.group != "T1":
            raise ValueError("columns は表1（グループ T1）の項目だけに指定できます")
        return self


class Requirement(Strict):
    """Which catalog items a rule makes required: whole groups, single IDs, or
    the 表1 rows marked in one usage column."""

    groups: tuple[ItemGroup, ...] = ()
    items: tuple[ItemId, ...] = ()
    except_items: tuple[ItemId, ...] = ()
    column: UsageColumn | None = None


class Rule(Strict):
    """One declarative rule: when the CEL condition holds, the effect applies."""

    id: NonEmpty
    clause: NonEmpty
    effect: Effect
    when: NonEmpty = Field(description="CEL expression over the request facts")
    message: NonEmpty = Field(description="Why, in Japanese, shown as the finding or reason")
    approvals: tuple[Approver, ...] = ()
    require: Requirement | None = None
    pia: bool = Field(default=False, description="Sets pia_required (3.1(1)(ア))")

    @model_validator(mode="after")
    def _effect_fits(self) -> Rule:
        if self.effect == "approve" and not self.approvals:
            raise ValueError("effect: approve のルールには approvals が必要です")
        if self.effect != "approve" and self.approvals:
            raise ValueError("approvals は effect: approve のルールだけに指定できます")
        if self.require is not None and self.effect != "require":
            raise ValueError("require は effect: require のルールだけに指定できます")
        if self.effect == "require" and self.require is None and not self.pia:
            raise ValueError("effect: require のルールには require か pia: true が必要です")
        return self


class Expectation(Strict):
    """What an example's request must come out as: the verdict, and optionally
    the rules that fire (and do not), the required items, approvals and PIA."""

    verdict: Verdict
    fires: tuple[NonEmpty, ...] = Field(default=(), description="Rule IDs that must fire")
    not_fires: tuple[NonEmpty, ...] = Field(default=(), description="Rule IDs that must not fire")
    required: tuple[ItemId, ...] | None = Field(
        default=None, description="Exactly the item IDs required (in any order)"
    )
    approvals: tuple[Approver, ...] | None = None
    pia: bool | None = None


class Example(Strict):
    """A request written in the catalog with the decision it must get: the
    catalog's own test, run by ``cloudjudge catalog check`` (like OPA policy tests).
    The request is validated by the engine when the example runs."""

    name: NonEmpty
    request: dict[str, Any]
    expect: Expectation


class CatalogFile(Strict):
    """The whole file as written by the author."""

    id: NonEmpty
    title: NonEmpty
    version: NonEmpty
    publisher: NonEmpty
    source: NonEmpty
    effective: datetime.date | None = Field(
        default=None,
        description="The day this version takes effect (施行日); none: in force from the start",
    )
    clauses: tuple[Clause, ...]
    items: tuple[Item, ...]
    definitions: dict[Annotated[str, StringConstraints(pattern=r"^[a-z_]+$")], NonEmpty] = Field(
        default_factory=dict,
        description="Named CEL sub-expressions a rule writes as ${name}",
    )
    rules: tuple[Rule, ...]
    informative_groups: tuple[ItemGroup, ...] = Field(
        default=(),
        description="Groups whose items describe (the risks of 2(3)) and no rule requires",
    )
    examples: tuple[Example, ...] = Field(
        default=(), description="Requests with the decision each must get (catalog check)"
    )
