"""The OpenAPI document, the docs page (no CDN: nothing loaded from outside)
and how the URLs are mounted."""

from __future__ import annotations

import re
import typing

import pytest
from django.contrib.staticfiles import finders
from django.urls import URLPattern, get_resolver

from cloudjudge.engine import Decision
from cloudjudge.web.api import schemas

pytestmark = pytest.mark.django_db

OPENAPI = "/api/v1/openapi.json"
DOCS = "/api/v1/docs"

ENDPOINTS = {
    ("post", "/api/v1/judgements"),
    ("get", "/api/v1/applications"),
    ("post", "/api/v1/applications"),
    ("get", "/api/v1/applications/{application_id}"),
    ("patch", "/api/v1/applications/{application_id}"),
    ("get", "/api/v1/applications/{application_id}/judgements"),
    ("post", "/api/v1/applications/{application_id}/actions"),
    ("post", "/api/v1/applications/{application_id}/conditional-approval"),
    ("get", "/api/v1/applications/{application_id}/checklist"),
    ("get", "/api/v1/applications/{application_id}/assessment-results"),
    ("get", "/api/v1/applications/{application_id}/checklist/{item}"),
    ("patch", "/api/v1/applications/{application_id}/checklist/{item}"),
    ("get", "/api/v1/applications/{application_id}/reviews"),
    ("get", "/api/v1/services"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/registries/entries"),
    ("get", "/api/v1/registries/entries/{pk}"),
    ("get", "/api/v1/registries/snapshots"),
    ("get", "/api/v1/registries/diff"),
    ("get", "/api/v1/registries/check"),
    ("post", "/api/v1/registries/imports"),
}


@pytest.fixture
def document(api, applicant):
    response = api(applicant).get(OPENAPI)
    assert response.status_code == 200
    return response.json()


def test_the_document_lists_the_endpoints(document):
    assert document["info"]["title"] == "cloudjudge API"
    assert document["info"]["version"] == "1"
    found = {(method, path) for path, ops in document["paths"].items() for method in ops}
    assert found == ENDPOINTS


def test_every_operation_needs_a_token_or_a_session(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["BearerTokenAuth"]["scheme"] == "bearer"
    assert schemes["SessionAuth"]["in"] == "cookie"
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            assert op["security"] == [{"BearerTokenAuth": []}, {"SessionAuth": []}], (method, path)
            assert "401" in op["responses"], (method, path)


def test_the_judgement_endpoint_documents_the_engines_request_and_decision(document):
    op = document["paths"]["/api/v1/judgements"]["post"]
    body = op["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/JudgementRequest"}
    components = document["components"]["schemas"]
    request = components["JudgementRequest"]
    assert set(request["properties"]) == {"service", "data", "connection", "exceptions"}
    data = components["JudgementRequestData"]
    assert "confidentiality" in data["required"]
    refs = re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', str(document).replace("'", '"'))
    assert set(refs) <= set(components), set(refs) - set(components)
    ok = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ok.endswith("/DecisionOut")
    assert set(op["responses"]) >= {"200", "400", "401", "422"}


def test_the_documented_decision_is_the_engines():
    assert set(schemas.DecisionOut.model_fields) == set(typing.get_type_hints(Decision))


def test_the_document_needs_authentication(anonymous, login, auditor):
    response = anonymous.get(OPENAPI)
    assert response.status_code == 401
    assert login(auditor).get(OPENAPI).status_code == 200


def test_the_docs_page_works_offline(login, applicant):
    response = login(applicant).get(DOCS)
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources, html
    assert not [s for s in sources if "://" in s or s.startswith("//")]
    assert "https://" not in html and "http://" not in html
    for source in sources:
        assert source.startswith("/static/"), source
        assert finders.find(source.removeprefix("/static/")), source
    assert "/api/v1/openapi.json" in html
    # The page sends the CSRF token with the session's writes.
    assert 'data-api-csrf="true"' in html


def test_the_docs_page_is_for_logged_in_people(anonymous):
    response = anonymous.get(DOCS)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_api_views_are_exempt_from_the_login_page_except_the_docs():
    resolver = get_resolver()
    (api,) = [p for p in resolver.url_patterns if str(p.pattern) == "api/v1/"]
    names = {}
    for pattern in api.url_patterns:
        assert isinstance(pattern, URLPattern)
        names[pattern.name] = getattr(pattern.callback, "login_required", True)
    assert names.pop("openapi-view") is True
    assert names and not any(names.values()), names
