"""The judgement request: the facts an applicant states about a cloud service.

The models are the documentation of the request format (README, ``docs/``):
every field, its allowed values and its default live here and nowhere else.

A request is seen three ways. The *model* (:class:`Request`) validates what was
written. Its *stated* facts are the values as written, flat and in
``FACT_NAMES`` order, ``None`` where an optional field was left out; the
remedies search changes these, as an applicant would. Its *facts* are the
stated facts with the defaults filled in (:func:`derive`), which is what the
rules read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

Listing = Literal["lgwan_asp", "ismap", "ismap_liu"]
IsmsCertification = Literal["iso27001", "iso27017", "iso27018"]
Method = Literal["local_breakout", "internet_pc", "lgwan_asp", "government_cloud"]
BreakoutUsage = Literal["auth_only", "no_file_import", "file_import"]
Network = Literal["lgwan", "government_cloud_line", "internet"]


def _level_as_text(value: Any) -> Any:
    """YAML reads ``confidentiality: 2`` as a number; the level is a label."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Confidentiality = Annotated[Literal["3A", "3B", "3C", "2", "1"], BeforeValidator(_level_as_text)]

#: The line each connection method travels over unless the applicant says otherwise.
DEFAULT_NETWORK: dict[str, str] = {
    "local_breakout": "internet",
    "internet_pc": "internet",
    "lgwan_asp": "lgwan",
    "government_cloud": "government_cloud_line",
}


@dataclass(frozen=True)
class Consistency:
    """A combination of stated facts that cannot be judged: ``field`` is named in
    the error, ``other`` is the fact it depends on."""

    code: str
    field: str
    other: str
    broken: Callable[[Any, Any], bool]


#: 3.1(1)(ウ)①: the usage decides the 表1 column; 別紙1① No.11 なお書: a contractor's
#: download is a download to a terminal outside the city's networks.
CONSISTENCY: tuple[Consistency, ...] = (
    Consistency(
        "breakout_usage_required",
        "connection.breakout_usage",
        "connection.method",
        lambda usage, method: method == "local_breakout" and usage is None,
    ),
    Consistency(
        "contractor_download_required",
        "connection.download_by_contractor",
        "connection.download_to_internet_terminal",
        lambda contractor, download: contractor is True and download is not True,
    ),
)

#: Each check with the two ``Connection`` attributes it compares.
_CONNECTION_CHECKS = tuple(
    (c, c.field.split(".", 1)[1], c.other.split(".", 1)[1]) for c in CONSISTENCY
)

#: The request field each consistency error is reported on, by error code.
CONSISTENCY_FIELD: dict[str, str] = {c.code: c.field.split(".", 1)[1] for c in CONSISTENCY}


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Service(_Part):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    provider: str = ""
    listings: frozenset[Listing] = frozenset()
    isms_certifications: frozenset[IsmsCertification] = frozenset()
    security_update_service: StrictBool = Field(
        default=False,
        description="Only delivers virus definitions, IP address or URL lists (3.1(1)(イ))",
    )


class Data(_Part):
    confidentiality: Confidentiality
    my_number: StrictBool = Field(default=False, description="特定個人情報")
    administrative_documents: StrictBool = Field(
        default=True, description="行政文書又はそれに相当する情報"
    )
    critical_to_citizens: StrictBool = Field(
        default=False, description="停止により市民サービスに多大な影響"
    )


class Connection(_Part):
    method: Method
    breakout_usage: BreakoutUsage | None = None
    internet_virtual_pc: StrictBool = False
    network: Network | None = None
    download_to_internet_terminal: StrictBool = False
    download_by_contractor: StrictBool = Field(
        default=False,
        description="指定管理者・委託事業者がデータをダウンロードする（別紙1① No.11 なお書）",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Connection:
        for rule, field, other in _CONNECTION_CHECKS:
            if rule.broken(getattr(self, field), getattr(self, other)):
                raise PydanticCustomError(rule.code, f"{rule.field} needs {rule.other}")
        return self


class Exceptions(_Part):
    internet_only_function: StrictBool = False
    limited_external_sharing: StrictBool = False
    council_approved_legacy: StrictBool = False


class Request(_Part):
    service: Service
    data: Data
    connection: Connection
    exceptions: Exceptions = Exceptions()

    def stated(self) -> tuple[Any, ...]:
        """The facts as written, in ``FACT_NAMES`` order; ``None`` where left out."""
        s, d, c, e = self.service, self.data, self.connection, self.exceptions
        return (
            tuple(sorted(s.listings)) if s.listings else (),
            tuple(sorted(s.isms_certifications)) if s.isms_certifications else (),
            s.security_update_service,
            d.confidentiality,
            d.my_number,
            d.administrative_documents,
            d.critical_to_citizens,
            c.method,
            c.breakout_usage,
            c.internet_virtual_pc,
            c.network,
            c.download_to_internet_terminal,
            c.download_by_contractor,
            e.internet_only_function,
            e.limited_external_sharing,
            e.council_approved_legacy,
        )

    def facts(self) -> tuple[Any, ...]:
        """The facts the rules read, in ``FACT_NAMES`` order, defaults filled in."""
        return derive(self.stated())

    def fact_values(self) -> dict[str, Any]:
        """The request's facts as a flat map keyed ``part.field`` (see FACT_DOMAINS).

        Defaults are filled in (the network a method implies), so a rule never
        has to test for an absent value.
        """
        return dict(zip(FACT_NAMES, self.facts(), strict=True))


#: Every fact, keyed ``part.field``, in the order of ``Request.stated``.
FACT_NAMES: tuple[str, ...] = (
    "service.listings",
    "service.isms_certifications",
    "service.security_update_service",
    "data.confidentiality",
    "data.my_number",
    "data.administrative_documents",
    "data.critical_to_citizens",
    "connection.method",
    "connection.breakout_usage",
    "connection.internet_virtual_pc",
    "connection.network",
    "connection.download_to_internet_terminal",
    "connection.download_by_contractor",
    "exceptions.internet_only_function",
    "exceptions.limited_external_sharing",
    "exceptions.council_approved_legacy",
)
POSITION: dict[str, int] = {name: n for n, name in enumerate(FACT_NAMES)}
_METHOD = POSITION["connection.method"]
_USAGE = POSITION["connection.breakout_usage"]
_NETWORK = POSITION["connection.network"]


def derive(stated: tuple[Any, ...]) -> tuple[Any, ...]:
    """Stated facts → the facts the rules read: a left-out network is the one the
    method implies (別紙1① No.12), a left-out usage is ``""``."""
    if stated[_USAGE] is not None and stated[_NETWORK] is not None:
        return stated
    facts = list(stated)
    if facts[_USAGE] is None:
        facts[_USAGE] = ""
    if facts[_NETWORK] is None:
        facts[_NETWORK] = DEFAULT_NETWORK[facts[_METHOD]]
    return tuple(facts)


#: The stated facts each fact the rules read is derived from (itself, unless listed).
DERIVED_FROM: dict[str, tuple[str, ...]] = {
    "connection.network": ("connection.network", "connection.method"),
}

_CHECKS = tuple((c, POSITION[c.field], POSITION[c.other]) for c in CONSISTENCY)


def inconsistent(stated: tuple[Any, ...]) -> tuple[str, ...]:
    """The stated facts involved in a broken :data:`CONSISTENCY` rule, if any."""
    for rule, field, other in _CHECKS:
        if rule.broken(stated[field], stated[other]):
            return (rule.field, rule.other)
    return ()


def nested_facts(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Flat ``part.field`` facts as the CEL variables ``part`` with ``field``s."""
    nested: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        part, field = key.split(".", 1)
        nested.setdefault(part, {})[field] = value
    return nested


def _subsets(options: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    ordered = sorted(options)
    return tuple(c for r in range(len(ordered) + 1) for c in combinations(ordered, r))


_BOOL = (False, True)

#: Every value each fact can take. The facts are all small enumerations, which
#: is what lets the engine turn each rule into a lookup table once, at load.
FACT_DOMAINS: dict[str, tuple[Any, ...]] = {
    "service.listings": _subsets(get_args(Listing)),
    "service.isms_certifications": _subsets(get_args(IsmsCertification)),
    "service.security_update_service": _BOOL,
    "data.confidentiality": get_args(get_args(Confidentiality)[0]),
    "data.my_number": _BOOL,
    "data.administrative_documents": _BOOL,
    "data.critical_to_citizens": _BOOL,
    "connection.method": get_args(Method),
    "connection.breakout_usage": ("", *get_args(BreakoutUsage)),
    "connection.internet_virtual_pc": _BOOL,
    "connection.network": get_args(Network),
    "connection.download_to_internet_terminal": _BOOL,
    "connection.download_by_contractor": _BOOL,
    "exceptions.internet_only_function": _BOOL,
    "exceptions.limited_external_sharing": _BOOL,
    "exceptions.council_approved_legacy": _BOOL,
}

#: The facts an applicant can change by choosing another service, connection or
#: way of working, or by showing a ground: what a remedy may change. The data's
#: own facts (its level, 特定個人情報, 行政文書, its weight for citizens), what the
#: service is (a security update feed) and history (the council's approval) are
#: never changed (docs/interpretation.md, remedies).
CONTROLLABLE: tuple[str, ...] = (
    "service.listings",
    "service.isms_certifications",
    "connection.method",
    "connection.network",
    "connection.breakout_usage",
    "connection.internet_virtual_pc",
    "connection.download_to_internet_terminal",
    "connection.download_by_contractor",
    "exceptions.internet_only_function",
    "exceptions.limited_external_sharing",
)

#: Facts that are sets of codes; a remedy adds one code to them.
SET_FACTS: frozenset[str] = frozenset({"service.listings", "service.isms_certifications"})
