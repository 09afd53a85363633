"""The registries router for the HTTP API (mounted by the API app with
``api.add_router("/registries", registries_api.router)``), tested on its own."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from ninja.testing import TestClient

from cloudjudge.web.api.routers.registries import build_router
from cloudjudge.web.registries.models import RegistryEntry, RegistrySnapshot
from web.registries.conftest import ismap_csv


@pytest.fixture(scope="module")
def client():
    return TestClient(build_router())


def post_file(client, user, kind, data, name="list.csv"):
    return client.post(
        "/imports",
        data={"kind": kind},
        FILES={"file": SimpleUploadedFile(name, data)},
        user=user,
    )


def test_import_list_diff_and_refusals(client, security, auditor, fixture_path, today):
    data = fixture_path("ismap_list.xlsx").read_bytes()
    response = post_file(client, security, "ismap", data, "ismap_list.xlsx")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "imported" and body["snapshot"]["row_count"] == 6
    assert len(body["diff"]["added"]) == 6

    again = post_file(client, security, "ismap", data, "ismap_list.xlsx")
    assert again.status_code == 200 and again.json()["message"] == "同じファイルは取り込み済みです"

    broken = post_file(
        client, security, "ismap", fixture_path("broken_bad_date.xlsx").read_bytes(), "b.xlsx"
    )
    assert broken.status_code == 422
    problems = broken.json()["problems"]
    assert [(p["sheet"], p["row"], p["column"]) for p in problems] == [
        ("一覧", 3, "監査対象期間の末日"),
        ("一覧", 4, "登録日"),
    ]
    assert RegistrySnapshot.objects.count() == 1

    assert post_file(client, auditor, "ismap", data).status_code == 403

    listed = client.get("/entries?kind=ismap&status=withdrawn", user=auditor).json()
    assert listed["count"] == 1 and listed["results"][0]["number"] == "C23-0404-1"
    assert listed["results"][0]["status"] == "withdrawn"
    entry = RegistryEntry.objects.get(number="C21-0101-1")
    one = client.get(f"/entries/{entry.pk}", user=auditor).json()
    assert one["expires_on"] == "2025-07-31" and one["on_list"] is True

    diff = client.get("/diff", user=auditor).json()
    assert diff["ismap_liu"] is None and len(diff["ismap"]["diff"]["added"]) == 6
    assert client.get("/diff?kind=other", user=auditor).status_code == 404
    assert len(client.get("/snapshots?kind=ismap", user=auditor).json()["results"]) == 1


def test_applicants_may_not_read_the_registry_but_may_check(client, applicant, load, today):
    load("ismap", ismap_csv(("C21-0001-1", "x", "y", today, 0, 0)))
    assert client.get("/entries", user=applicant).status_code == 403
    report = client.get("/check?days=30", user=applicant).json()
    assert report["ok"] is True and report["days"] == 30 and report["alerts"] == []


def test_check_reports_alerts(
    client, security, load, make_service, make_application, applicant, put_in_use, today
):
    app = put_in_use(
        make_application(
            service=make_service(name="未掲載", listings=("ismap",)),
            confidentiality="2",
            method="internet_pc",
        ),
        applicant,
        security,
    )
    load("ismap", ismap_csv(("C21-0001-1", "別", "別", today, 0, 0)))
    report = client.get("/check", user=security).json()
    assert report["ok"] is False
    (alert,) = report["alerts"]
    assert alert["status"] == "unknown" and alert["applications"][0]["number"] == app.number


def test_registry_lists_page_and_refuse_like_every_other_list(api, auditor, security, load, today):
    """Through the whole API: the common pages, 404 past the end, and 422 in
    the API's one error shape for a bad page size or a refused file."""
    load("ismap", ismap_csv(*[(f"C21-{n:04d}-1", f"s{n}", "p", today, 0, 0) for n in range(3)]))
    client = api(auditor)
    page = client.get("/api/v1/registries/entries?page=2&page_size=2").json()
    assert (page["count"], page["page"], page["pages"], page["page_size"]) == (3, 2, 2, 2)
    assert [e["number"] for e in page["results"]] == ["C21-0002-1"]
    assert client.get("/api/v1/registries/entries?page=3&page_size=2").status_code == 404

    too_big = client.get("/api/v1/registries/entries?page_size=1000")
    assert too_big.status_code == 422
    assert [e["path"] for e in too_big.json()["detail"]] == ["page_size"]

    refused = api(security).post(
        "/api/v1/registries/imports",
        {"kind": "ismap", "file": SimpleUploadedFile("l.csv", "登録番号\nx\n".encode())},
    )
    assert refused.status_code == 422
    body = refused.json()
    assert len(body["detail"]) == len(body["problems"]) > 0
    for error, problem in zip(body["detail"], body["problems"], strict=True):
        assert error["loc"] == ["body", "file"] and problem["message"] in error["msg"]
