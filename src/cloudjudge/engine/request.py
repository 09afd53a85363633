"""The judgement request: the facts an applicant states about a cloud service.

The models are the documentation of the request format (README, ``docs/``):
every field, its allowed values and its default live here and nowhere else.
"""

from __future__ import annotations

from itertools import combinations
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
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

#: 表1's columns A/B/C, keyed by the request's usage names.
USAGE_COLUMN: dict[str, str] = {"auth_only": "A", "no_file_import": "B", "file_import": "C"}

#: The line each connection method travels over unless the applicant says otherwise.
DEFAULT_NETWORK: dict[str, str] = {
    "local_breakout": "internet",
    "internet_pc": "internet",
    "lgwan_asp": "lgwan",
    "government_cloud": "government_cloud_line",
}


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Service(_Part):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    provider: str = ""
    listings: frozenset[Listing] = frozenset()
    isms_certifications: frozenset[IsmsCertification] = frozenset()
    security_update_service: bool = Field(
        default=False,
        description="Only delivers virus definitions, IP address or URL lists (3.1(1)(イ))",
    )


class Data(_Part):
    confidentiality: Confidentiality
    my_number: bool = Field(default=False, description="特定個人情報")
    administrative_documents: bool = Field(
        default=True, description="行政文書又はそれに相当する情報"
    )
    critical_to_citizens: bool = Field(
        default=False, description="停止により市民サービスに多大な影響"
    )


class Connection(_Part):
    method: Method
    breakout_usage: BreakoutUsage | None = None
    internet_virtual_pc: bool = False
    network: Network | None = None
    download_to_internet_terminal: bool = False

    @model_validator(mode="after")
    def _usage_with_breakout(self) -> Connection:
        if self.method == "local_breakout" and self.breakout_usage is None:
            raise PydanticCustomError(
                "breakout_usage_required", "breakout_usage is required with local_breakout"
            )
        return self


class Exceptions(_Part):
    internet_only_function: bool = False
    limited_external_sharing: bool = False
    council_approved_legacy: bool = False


class Request(_Part):
    service: Service
    data: Data
    connection: Connection
    exceptions: Exceptions = Exceptions()

    def fact_values(self) -> dict[str, Any]:
        """The request's facts as a flat map keyed ``part.field`` (see FACT_DOMAINS).

        Defaults are filled in (the network a method implies), so a rule never
        has to test for an absent value.
        """
        s, d, c, e = self.service, self.data, self.connection, self.exceptions
        return {
            "service.listings": tuple(sorted(s.listings)),
            "service.isms_certifications": tuple(sorted(s.isms_certifications)),
            "service.security_update_service": s.security_update_service,
            "data.confidentiality": d.confidentiality,
            "data.my_number": d.my_number,
            "data.administrative_documents": d.administrative_documents,
            "data.critical_to_citizens": d.critical_to_citizens,
            "connection.method": c.method,
            "connection.breakout_usage": c.breakout_usage or "",
            "connection.internet_virtual_pc": c.internet_virtual_pc,
            "connection.network": c.network or DEFAULT_NETWORK[c.method],
            "connection.download_to_internet_terminal": c.download_to_internet_terminal,
            "exceptions.internet_only_function": e.internet_only_function,
            "exceptions.limited_external_sharing": e.limited_external_sharing,
            "exceptions.council_approved_legacy": e.council_approved_legacy,
        }


def nested_facts(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
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
    "exceptions.internet_only_function": _BOOL,
    "exceptions.limited_external_sharing": _BOOL,
    "exceptions.council_approved_legacy": _BOOL,
}
