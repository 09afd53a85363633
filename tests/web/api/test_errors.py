"""Every answer of the API is JSON in one of its two documented shapes, whatever
went wrong: no Django HTML page, no text, no traceback (issue 14)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cloudjudge.web.api.errors import MAX_URL_LENGTH
from cloudjudge.web.registries.models import RegistrySnapshot

pytestmark = pytest.mark.django_db

JUDGE = "/api/v1/judgements"
IMPORT = "/api/v1/registries/imports"
GROUPWARE = '{"service": {"name": "x"}, "data": {"confidentiality": "3B"}}'


def refusal(response, status: int, code: str) -> str:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and isinstance(body["detail"], str) and body["detail"]
    return body["detail"]


def field_errors(response, status: int) -> list[dict]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    detail = response.json()["detail"]
    assert detail and all({"loc", "path", "msg"} <= set(e) for e in detail)
    return detail


@pytest.fixture
def client(api, applicant):
    client = api(applicant)
    client.raise_request_exception = False  # a 500 must be seen as the client sees it
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/applications/abc",
        "/api/v1/applications/1x/checklist",
        "/api/v1/registries/entries/-1",
        "/api/v1/nothing-here",
        "/api/v1/",
    ],
)
def test_a_path_no_operation_has_is_a_json_404(client, path):
    assert refusal(client.get(path), 404, "not_found") == "見つかりません。"


def test_a_write_to_a_path_no_operation_has_is_a_404_not_a_csrf_page(applicant):
    """A program with a token sends no CSRF token; a wrong path is still the API's 404."""
    from django.test import Client

    from cloudjudge.web.api.models import ApiToken

    _, token = ApiToken.issue(applicant, name="t")
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token}"})
    for path in ("/api/v1/applications/-1", "/api/v1/", "/api/v1/nothing"):
        refusal(client.patch(path, "{}", content_type="application/json"), 404, "not_found")


def test_a_json_404_needs_no_token(anonymous):
    refusal(anonymous.get("/api/v1/applications/abc"), 404, "not_found")


def test_a_method_the_path_does_not_have_is_a_json_405_with_allow(client):
    response = client.delete(JUDGE)
    assert "DELETE" in refusal(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"
    assert refusal(client.put("/api/v1/me"), 405, "method_not_allowed")


def test_a_url_over_the_limit_is_a_json_414(client):
    response = client.get("/api/v1/applications?q=" + "x" * MAX_URL_LENGTH)
    assert "2,048" in refusal(response, 414, "uri_too_long")
    assert client.get("/api/v1/applications?q=" + "x" * 50).status_code == 200


@pytest.mark.parametrize("url", [JUDGE, "/api/v1/applications"])
@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("[" * 100_000 + "]" * 100_000, "入れ子が深すぎます"),
        ('{"service": {"name": ' + "9" * 5000 + "}}", "数値が大きすぎます"),
        ('{"purpose": 1' + "0" * 4300 + "}", "数値が大きすぎます"),
        ("{'service': 1}", "JSON として読めません（1 行 2 文字目"),
    ],
    ids=["deep", "huge-int", "huge-int-2", "single-quotes"],
)
def test_an_unreadable_body_is_a_400_in_japanese(client, url, body, words):
    (error,) = field_errors(client.post(url, body, content_type="application/json"), 400)
    assert error["loc"] == ["body"] and error["path"] == ""
    assert words in error["msg"]


def test_a_body_of_the_wrong_content_type_is_a_400(client):
    response = client.post("/api/v1/applications", "purpose=x", content_type="text/plain")
    (error,) = field_errors(response, 400)
    assert "JSON として読めません" in error["msg"]


def test_a_body_over_the_limit_is_a_json_413_on_every_endpoint(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"purpose": "' + "x" * 2000 + '"}'
    for url in (JUDGE, "/api/v1/applications"):
        detail = refusal(client.post(url, body, content_type="application/json"), 413, "too_large")
        assert "1,000" in detail


def test_a_wrong_field_is_a_422_naming_it(client):
    response = client.post(
        "/api/v1/applications", '{"purpose": 12}', content_type="application/json"
    )
    paths = {e["path"] for e in field_errors(response, 422)}
    assert "purpose" in paths


def test_a_multipart_upload_without_a_boundary_is_a_400(api, security):
    client = api(security)
    response = client.post(IMPORT, b"--x\r\n", content_type="multipart/form-data")
    (error,) = field_errors(response, 400)
    assert "multipart/form-data の本文として読めません" in error["msg"]
    assert RegistrySnapshot.objects.count() == 0


@pytest.mark.parametrize("body", [b"--x\r\n", b"not even multipart"])
def test_the_role_is_checked_before_the_upload_is_read(client, auditor, api, body):
    """An applicant or an auditor may not import: 403, whatever the body."""
    for caller in (client, api(auditor)):
        response = caller.post(IMPORT, body, content_type="multipart/form-data")
        assert refusal(response, 403, "") == "登録簿を取り込めるのは情報セキュリティ担当だけです。"


def test_a_missing_or_unknown_upload_field_is_a_422_naming_it(api, security):
    client = api(security)
    body = field_errors(client.post(IMPORT, {"kind": "ismap"}), 422)
    assert [(e["loc"], e["msg"]) for e in body] == [(["body", "file"], "必須項目です")]
    file = SimpleUploadedFile("l.csv", b"x\n")
    unknown = client.post(IMPORT, {"kind": "other", "file": file})
    (error,) = field_errors(unknown, 422)
    assert error["path"] == "kind" and "ismap" in error["msg"]
    assert unknown.json()["status"] == "rejected"
    assert RegistrySnapshot.objects.count() == 0


def test_the_openapi_document_lists_the_refusals_of_every_operation(client):
    document = client.get("/api/v1/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            listed = set(operation["responses"])
            assert {"400", "401", "403", "404", "414", "422"} <= listed, (method, path)
            if "requestBody" in operation:
                assert "413" in listed, (method, path)
    upload = document["paths"]["/api/v1/registries/imports"]["post"]["requestBody"]
    schema = upload["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["kind", "file"]
