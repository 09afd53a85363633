"""Shared helpers for the engine tests: a request builder, a hypothesis strategy
of valid requests, and the bundled judge.

``make_request(**overrides)`` builds a valid request dict from a neutral base
(an ISMAP-listed service, 3B data, ガバメントクラウド方式). Every request field
has a unique name across the four parts, so an override is written by field
name alone (``confidentiality="3A"``, ``method="internet_pc"``); the value
``...`` (Ellipsis) leaves a field out, so that its default applies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import strategies as st

from cloudjudge.catalog import Catalog, default_catalog
from cloudjudge.engine import Decision, Judge, judge_for, parse_request

#: Which part of the request each field belongs to.
PART_OF: dict[str, str] = {
    "name": "service",
    "provider": "service",
    "listings": "service",
    "isms_certifications": "service",
    "security_update_service": "service",
    "confidentiality": "data",
    "my_number": "data",
    "administrative_documents": "data",
    "critical_to_citizens": "data",
    "method": "connection",
    "breakout_usage": "connection",
    "internet_virtual_pc": "connection",
    "network": "connection",
    "download_to_internet_terminal": "connection",
    "download_by_contractor": "connection",
    "internet_only_function": "exceptions",
    "limited_external_sharing": "exceptions",
    "council_approved_legacy": "exceptions",
}

_BASE: dict[str, Any] = {
    "name": "テストサービス",
    "provider": "株式会社テスト",
    "listings": ["ismap"],
    "isms_certifications": [],
    "security_update_service": False,
    "confidentiality": "3B",
    "my_number": False,
    "administrative_documents": True,
    "critical_to_citizens": False,
    "method": "government_cloud",
    "internet_virtual_pc": False,
    "download_to_internet_terminal": False,
    "internet_only_function": False,
    "limited_external_sharing": False,
    "council_approved_legacy": False,
}


def build_request(**overrides: Any) -> dict[str, Any]:
    unknown = set(overrides) - set(PART_OF)
    if unknown:
        raise TypeError(f"unknown request fields: {sorted(unknown)}")
    values = {**_BASE, **overrides}
    request: dict[str, Any] = {"service": {}, "data": {}, "connection": {}, "exceptions": {}}
    for field, value in values.items():
        if value is not ...:
            request[PART_OF[field]][field] = value
    return request


@pytest.fixture(scope="session")
def make_request() -> Callable[..., dict[str, Any]]:
    return build_request


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return default_catalog()


@pytest.fixture(scope="session")
def judge(catalog: Catalog) -> Judge:
    return judge_for(catalog)


@pytest.fixture(scope="session")
def decide(judge: Judge) -> Callable[..., Decision]:
    """``decide(**overrides)``: judge ``make_request(**overrides)``."""

    def run(**overrides: Any) -> Decision:
        return judge.decide(parse_request(build_request(**overrides)))

    return run


# ------------------------------------------------------------------ generated requests

LISTINGS = ["lgwan_asp", "ismap", "ismap_liu"]
ISMS = ["iso27001", "iso27017", "iso27018"]
LEVELS = ["3A", "3B", "3C", "2", "1", 2, 1]
METHODS = ["local_breakout", "internet_pc", "lgwan_asp", "government_cloud"]
USAGES = ["auth_only", "no_file_import", "file_import"]
NETWORKS = ["lgwan", "government_cloud_line", "internet"]


def _subset_list(options: list[str]) -> st.SearchStrategy[list[str]]:
    """Any subset, in any order, sometimes with a repeat."""
    return st.lists(st.sampled_from(options), max_size=len(options) + 1)


@st.composite
def valid_requests(draw: st.DrawFn) -> dict[str, Any]:
    """Every valid request shape: each field over all its values, optional fields and the
    optional ``exceptions`` part left out, confidentiality also as the YAML integers 2 and 1,
    ``network`` / ``breakout_usage`` also as explicit nulls, a contractor's download only
    with a download."""
    flag = st.booleans()
    service = draw(
        st.fixed_dictionaries(
            {"name": st.sampled_from(["グループウェア", "Storage", " 配信サービス "])},
            optional={
                "provider": st.sampled_from(["", "株式会社サンプル"]),
                "listings": _subset_list(LISTINGS),
                "isms_certifications": _subset_list(ISMS),
                "security_update_service": flag,
            },
        )
    )
    data = draw(
        st.fixed_dictionaries(
            {"confidentiality": st.sampled_from(LEVELS)},
            optional={
                "my_number": flag,
                "administrative_documents": flag,
                "critical_to_citizens": flag,
            },
        )
    )
    method = draw(st.sampled_from(METHODS))
    connection = draw(
        st.fixed_dictionaries(
            {"method": st.just(method)},
            optional={
                "internet_virtual_pc": flag,
                "network": st.none() | st.sampled_from(NETWORKS),
                "download_to_internet_terminal": flag,
            },
        )
    )
    if connection.get("download_to_internet_terminal") and draw(flag):
        # 別紙1① No.11 なお書: only with a download to an internet terminal.
        connection["download_by_contractor"] = draw(flag)
    usage = st.sampled_from(USAGES)
    if method == "local_breakout":
        connection["breakout_usage"] = draw(usage)
    elif draw(flag):
        connection["breakout_usage"] = draw(st.none() | usage)
    request: dict[str, Any] = {"service": service, "data": data, "connection": connection}
    if draw(flag):
        request["exceptions"] = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "internet_only_function": flag,
                    "limited_external_sharing": flag,
                    "council_approved_legacy": flag,
                },
            )
        )
    return request


@pytest.fixture(scope="session")
def request_dicts() -> st.SearchStrategy[dict[str, Any]]:
    """The strategy of valid request dicts, for ``data.draw(request_dicts)``."""
    return valid_requests()
