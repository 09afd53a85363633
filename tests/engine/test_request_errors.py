"""Invalid requests: a RequestError naming every bad field by its path, in Japanese.

The people who write requests are officials, not programmers, so each error
names the field as written in the request (``data.confidentiality``) and says
what is wrong in Japanese; all errors are reported at once.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

import cloudjudge
from cloudjudge.engine import RequestError, judge, parse_request

_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def errors_of(request: Any) -> dict[str, str]:
    """``{path: message}`` of the RequestError both entry points raise for ``request``."""
    with pytest.raises(RequestError) as parsed:
        parse_request(request)
    with pytest.raises(RequestError) as judged:
        judge(request)
    with pytest.raises(RequestError):
        cloudjudge.judge(request)
    assert parsed.value.as_dicts() == judged.value.as_dicts()
    errors = {e.path: e.message for e in parsed.value.errors}
    assert len(errors) == len(parsed.value.errors)
    for path, message in errors.items():
        assert message.strip() and _JAPANESE.search(message), (path, message)
        # The exception's own text lists every error with its path.
        assert message in str(parsed.value)
        if path:
            assert f"{path}: " in str(parsed.value)
    return errors


def without(request: dict[str, Any], part: str, field: str) -> dict[str, Any]:
    request[part].pop(field)
    return request


def test_missing_service_name(make_request):
    errors = errors_of(without(make_request(), "service", "name"))
    assert errors == {"service.name": "必須項目です"}


def test_blank_service_name(make_request):
    errors = errors_of(make_request(name="   "))
    assert list(errors) == ["service.name"]
    assert "空" in errors["service.name"]


def test_missing_confidentiality(make_request):
    errors = errors_of(without(make_request(), "data", "confidentiality"))
    assert errors == {"data.confidentiality": "必須項目です"}


@pytest.mark.parametrize("level", ["4", "3", "3a", "", 4, True, 2.0, None])
def test_unknown_confidentiality(make_request, level):
    errors = errors_of(make_request(confidentiality=level))
    assert list(errors) == ["data.confidentiality"]
    message = errors["data.confidentiality"]
    assert "3A, 3B, 3C, 2, 1" in message
    assert "次のいずれか" in message


def test_unknown_method(make_request):
    errors = errors_of(make_request(method="vpn"))
    assert list(errors) == ["connection.method"]
    assert "local_breakout, internet_pc, lgwan_asp, government_cloud" in errors["connection.method"]
    assert "'vpn'" in errors["connection.method"]


def test_unknown_listing(make_request):
    errors = errors_of(make_request(listings=["ismap", "ISMAP-LIU"]))
    assert list(errors) == ["service.listings.1"]
    assert "lgwan_asp, ismap, ismap_liu" in errors["service.listings.1"]
    assert "ISMAP-LIU" in errors["service.listings.1"]


def test_unknown_isms_certification(make_request):
    errors = errors_of(make_request(isms_certifications=["iso9001"]))
    assert list(errors) == ["service.isms_certifications.0"]


def test_listings_must_be_a_list(make_request):
    errors = errors_of(make_request(listings="ismap"))
    assert list(errors) == ["service.listings"]
    assert "配列" in errors["service.listings"]


@pytest.mark.parametrize(
    ("part", "typo"),
    [
        ("data", "confidentialty"),
        ("service", "listing"),
        ("connection", "breakout"),
        ("exceptions", "internet_only"),
    ],
)
def test_extra_key_is_a_typo(make_request, part, typo):
    request = make_request()
    request[part][typo] = True
    errors = errors_of(request)
    assert list(errors) == [f"{part}.{typo}"]
    assert "定義されていません" in errors[f"{part}.{typo}"]


def test_misspelt_required_key_reports_both(make_request):
    request = without(make_request(), "data", "confidentiality")
    request["data"]["confidentialty"] = "3B"
    errors = errors_of(request)
    assert set(errors) == {"data.confidentiality", "data.confidentialty"}


def test_unknown_top_level_part(make_request):
    request = make_request()
    request["exception"] = {}
    assert list(errors_of(request)) == ["exception"]


#: Every yes/no field of a request.
FLAGS = [
    ("service", "security_update_service"),
    ("data", "my_number"),
    ("data", "administrative_documents"),
    ("data", "critical_to_citizens"),
    ("connection", "internet_virtual_pc"),
    ("connection", "download_to_internet_terminal"),
    ("connection", "download_by_contractor"),
    ("exceptions", "internet_only_function"),
    ("exceptions", "limited_external_sharing"),
    ("exceptions", "council_approved_legacy"),
]


@pytest.mark.parametrize("value", ["yes", "on", "1", "true", "no", "0", 1, 0, 0.0, 1.0])
@pytest.mark.parametrize(("part", "field"), FLAGS)
def test_booleans_are_strict(make_request, part, field, value):
    """Issue #14: a yes/no fact is JSON true or false (YAML's unquoted yes/no are read as
    such by YAML itself); "yes", "on", "1", 1 and 0.0 are refused, naming the field."""
    request = make_request(download_to_internet_terminal=True)
    request[part][field] = value
    errors = errors_of(request)
    assert list(errors) == [f"{part}.{field}"]
    assert "true または false" in errors[f"{part}.{field}"]


@pytest.mark.parametrize("value", ["maybe", "はい", 2, [], None])
def test_my_number_rejects_non_booleans(make_request, value):
    errors = errors_of(make_request(my_number=value))
    assert list(errors) == ["data.my_number"]
    assert "true または false" in errors["data.my_number"]


def test_service_name_must_be_text(make_request):
    errors = errors_of(make_request(name=5))
    assert list(errors) == ["service.name"]
    assert "文字列" in errors["service.name"]


def test_part_must_be_an_object(make_request):
    request = make_request()
    request["connection"] = "local_breakout"
    errors = errors_of(request)
    assert list(errors) == ["connection"]
    assert "オブジェクト" in errors["connection"]


@pytest.mark.parametrize("request_value", [[], "service: x", 3])
def test_request_must_be_an_object(request_value):
    errors = errors_of(request_value)
    assert list(errors) == [""]


def test_local_breakout_needs_breakout_usage(make_request):
    """3.1(1)(ウ)①: the usage decides the 表1 column, so it is required with local breakout."""
    errors = errors_of(make_request(method="local_breakout"))
    assert list(errors) == ["connection.breakout_usage"]
    message = errors["connection.breakout_usage"]
    assert "ローカルブレイクアウト" in message
    assert "auth_only" in message and "no_file_import" in message and "file_import" in message


def test_local_breakout_with_null_breakout_usage(make_request):
    errors = errors_of(make_request(method="local_breakout", breakout_usage=None))
    assert list(errors) == ["connection.breakout_usage"]


def test_unknown_breakout_usage(make_request):
    errors = errors_of(make_request(method="local_breakout", breakout_usage="C"))
    assert list(errors) == ["connection.breakout_usage"]
    assert "auth_only, no_file_import, file_import" in errors["connection.breakout_usage"]


def test_breakout_usage_is_optional_with_other_methods(make_request):
    for method in ("internet_pc", "lgwan_asp", "government_cloud"):
        assert parse_request(make_request(method=method)).connection.breakout_usage is None


def test_several_errors_are_reported_at_once(make_request):
    request = make_request(
        listings=["ISMAP"],
        confidentiality="4",
        method="local_breakout",
        my_number="maybe",
    )
    request["service"].pop("name")
    request["data"]["confidentialty"] = "3B"
    errors = errors_of(request)
    assert set(errors) == {
        "service.name",
        "service.listings.0",
        "data.confidentiality",
        "data.my_number",
        "data.confidentialty",
        "connection.breakout_usage",
    }


def test_invalid_connection_field_with_local_breakout(make_request):
    """An invalid connection field is reported (the missing usage may only be reported once
    the connection's own fields are valid: pydantic runs the model check afterwards)."""
    request = make_request(method="local_breakout", internet_virtual_pc="maybe")
    assert "connection.internet_virtual_pc" in errors_of(request)


def test_errors_as_dicts(make_request):
    request = without(make_request(), "data", "confidentiality")
    with pytest.raises(RequestError) as info:
        parse_request(request)
    assert info.value.as_dicts() == [{"path": "data.confidentiality", "message": "必須項目です"}]
    assert str(info.value) == "data.confidentiality: 必須項目です"


def test_contractor_download_needs_a_download(make_request):
    """別紙1① No.11 なお書: a contractor's download is a download to an internet terminal."""
    errors = errors_of(make_request(download_by_contractor=True))
    assert list(errors) == ["connection.download_by_contractor"]
    assert "download_to_internet_terminal" in errors["connection.download_by_contractor"]
    parsed = parse_request(
        make_request(download_by_contractor=True, download_to_internet_terminal=True)
    )
    assert parsed.connection.download_by_contractor is True


def test_confidentiality_as_yaml_integer_is_accepted(make_request):
    """YAML reads ``confidentiality: 2`` as an integer; it means level "2"."""
    assert parse_request(make_request(confidentiality=2)).data.confidentiality == "2"
    assert parse_request(make_request(confidentiality=1)).data.confidentiality == "1"
