"""The register through the API: the UI's scope and rules, the UI's functions."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cloudjudge.web.register import workflow
from cloudjudge.web.register.models import Application, Judgement, Service, Status
from cloudjudge.web.register.workflow import Step

pytestmark = pytest.mark.django_db

LIST = "/api/v1/applications"

NEW = {
    "purpose": "Web 会議とファイル共有",
    "confidentiality": "3B",
    "method": "local_breakout",
    "breakout_usage": "file_import",
    "service": {
        "name": "クラウド型グループウェア",
        "provider": "株式会社サンプルクラウド",
        "listings": ["ismap"],
    },
}


def url(app, rest: str = "") -> str:
    return f"{LIST}/{app.pk}{rest}"


def send(client, method: str, path: str, body) -> object:
    return getattr(client, method)(path, json.dumps(body), content_type="application/json")


def paths(response) -> list[str]:
    return [e["path"] for e in response.json()["detail"]]


# --------------------------------------------------------------------------- scope


def test_an_applicant_sees_their_department_only(api, applicant, outsider, make_application):
    mine = make_application()
    theirs = make_application(user=outsider)
    body = api(applicant).get(LIST).json()
    assert [a["id"] for a in body["items"]] == [mine.pk]
    assert body["count"] == 1
    assert [a["id"] for a in api(outsider).get(LIST).json()["items"]] == [theirs.pk]


@pytest.mark.parametrize(
    ("method", "rest", "body"),
    [
        ("get", "", None),
        ("patch", "", {"purpose": "見えないはず"}),
        ("get", "/judgements", None),
        ("get", "/checklist", None),
        ("get", "/checklist/T1-07", None),
        ("patch", "/checklist/T1-07", {"status": "done"}),
        ("get", "/reviews", None),
        ("post", "/actions", {"action": "submit"}),
    ],
)
def test_another_departments_application_is_404(
    method, rest, body, api, outsider, make_application
):
    application = make_application()  # the applicant's department, not the outsider's
    client = api(outsider)
    response = (
        send(client, method, url(application, rest), body)
        if body
        else client.get(url(application, rest))
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "見つかりません。", "code": "not_found"}
    # Exactly what an ID that does not exist gets.
    missing = f"{LIST}/999999{rest}"
    gone = send(client, method, missing, body) if body else client.get(missing)
    assert (gone.status_code, gone.json()) == (404, response.json())
    application.refresh_from_db()
    assert application.status == Status.DRAFT and application.purpose != "見えないはず"


@pytest.mark.parametrize("role", ["security", "ciso", "auditor", "admin"])
def test_the_other_roles_see_every_department(role, api, make_user, outsider, make_application):
    make_application()
    make_application(user=outsider)
    assert api(make_user(role)).get(LIST).json()["count"] == 2


# --------------------------------------------------------------------------- list


def test_filters_sorting_and_pages(api, security, outsider, make_application):
    a = make_application()
    b = make_application(method="lgwan_asp", breakout_usage="", confidentiality="2")
    c = make_application(
        user=outsider, confidentiality="3A", my_number=True, method="internet_pc", breakout_usage=""
    )
    client = api(security)

    def ids(query: str) -> list[int]:
        response = client.get(f"{LIST}?{query}")
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["items"]]

    assert ids("method=lgwan_asp") == [b.pk]
    assert ids("confidentiality=3A") == [c.pk]
    assert ids("department=zeimu") == [c.pk]
    assert ids("department=nowhere") == []
    assert ids(f"verdict={c.verdict}") == [x.pk for x in (a, b, c) if x.verdict == c.verdict][::-1]
    assert ids("status=draft&sort=number") == [a.pk, b.pk, c.pk]
    assert ids("sort=-number") == [c.pk, b.pk, a.pk]
    assert ids(f"q={b.number}") == [b.pk]
    page = client.get(f"{LIST}?sort=number&page=2&page_size=2").json()
    assert (page["count"], page["page"], page["pages"], page["page_size"]) == (3, 2, 2, 2)
    assert [x["id"] for x in page["items"]] == [c.pk]
    assert client.get(f"{LIST}?page=3&page_size=2").status_code == 404


def test_a_row_of_the_list(api, applicant, make_application):
    application = make_application()
    (row,) = api(applicant).get(LIST).json()["items"]
    assert row["number"] == application.number
    assert row["department"] == {"id": applicant.department_id, "code": "shimin", "name": "市民課"}
    assert row["applicant"]["username"] == applicant.username
    assert row["applicant"]["name"] == "申請 花子"
    assert row["service"]["listings"] == ["ismap"]
    assert (row["status"], row["status_label"]) == ("draft", "下書き")
    assert row["verdict"] == application.verdict
    assert row["progress"]["total"] == application.checklist_items.filter(active=True).count()
    assert row["breakout_usage"] == "file_import" and row["network"] == ""


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("status=lost", "status"),
        ("method=fax", "method"),
        ("confidentiality=4", "confidentiality"),
        ("sort=colour", "sort"),
        ("page=0", "page"),
        ("page_size=1000", "page_size"),
        ("page=two", "page"),
    ],
)
def test_invalid_filters_are_422(query, path, api, applicant):
    response = api(applicant).get(f"{LIST}?{query}")
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", path] and error["path"] == path
    assert error["msg"]


def test_the_list_costs_the_same_queries_for_any_number_of_rows(
    api, security, make_application, applicant
):
    client = api(security)
    make_application()
    client.get(LIST)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for _ in range(4):
        app = make_application()
        workflow.perform(app, Step.SUBMIT, applicant)
    assert count() == few


# --------------------------------------------------------------------------- create


def test_creating_an_application_judges_it(api, applicant):
    response = send(api(applicant), "post", LIST, NEW)
    assert response.status_code == 201, response.content
    body = response.json()
    application = Application.objects.get()
    assert body["id"] == application.pk and body["number"] == application.number
    assert (application.status, application.department, application.applicant) == (
        Status.DRAFT,
        applicant.department,
        applicant,
    )
    assert body["decision"] == application.latest_judgement.decision
    assert body["verdict"] == application.verdict == body["decision"]["verdict"]
    assert application.judgements.count() == 1
    assert application.checklist_items.exists()
    assert Service.objects.get().listings == ["ismap"]
    assert body["can_edit"] is True
    assert {a["action"]: a["allowed"] for a in body["actions"]} == {"submit": True}


def test_an_existing_service_by_id(api, applicant, make_service):
    service = make_service(name="LGWAN-ASP 電子申請", listings=("lgwan_asp",))
    body = {**NEW, "method": "lgwan_asp", "breakout_usage": None, "service_id": service.pk}
    del body["service"]
    response = send(api(applicant), "post", LIST, body)
    assert response.status_code == 201, response.content
    assert response.json()["service"]["id"] == service.pk
    assert Application.objects.get().breakout_usage == ""


def test_the_ui_clears_breakout_usage_for_other_methods_and_so_does_the_api(api, applicant):
    body = {**NEW, "method": "internet_pc"}
    response = send(api(applicant), "post", LIST, body)
    assert response.status_code == 201
    assert response.json()["breakout_usage"] == ""


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"breakout_usage": None}, ["breakout_usage"]),
        ({"confidentiality": "4"}, ["confidentiality"]),
        ({"purpose": ""}, ["purpose"]),
        ({"my_number": "perhaps"}, ["my_number"]),
        ({"colour": "blue"}, ["colour"]),
        ({"service": None}, ["service_id"]),
        ({"service_id": 1}, ["service"]),
        ({"service": {"name": ""}}, ["service.name"]),
        ({"service": {"name": "x", "listings": ["iso"]}}, ["service.listings.0"]),
        ({"service_id": 999999, "service": None}, ["service_id"]),
    ],
)
def test_invalid_applications_are_422_with_the_field(change, expected, api, applicant):
    body = {**NEW, **change}
    response = send(api(applicant), "post", LIST, body)
    assert response.status_code == 422, response.content
    assert paths(response) == expected
    assert all(e["msg"] for e in response.json()["detail"])
    assert not Application.objects.exists()


def test_a_service_already_in_the_register_is_not_added_twice(api, applicant, make_service):
    make_service(name=NEW["service"]["name"], provider=NEW["service"]["provider"])
    response = send(api(applicant), "post", LIST, NEW)
    assert response.status_code == 422
    assert paths(response) == ["service"]
    assert Service.objects.count() == 1


def test_a_malformed_body_is_400(api, applicant):
    response = api(applicant).post(LIST, b"{purpose", content_type="application/json")
    assert response.status_code == 400
    assert "JSON として読めません" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize("role", ["security", "ciso", "auditor", "admin"])
def test_only_applicants_create(role, api, make_user):
    response = send(api(make_user(role)), "post", LIST, NEW)
    assert response.status_code == 403
    assert response.json()["code"] == "role"
    assert not Application.objects.exists()


# --------------------------------------------------------------------------- read & change


def test_the_detail_and_the_judgement_history(api, applicant, make_application):
    application = make_application()
    client = api(applicant)
    detail = client.get(url(application)).json()
    assert detail["latest_judgement_id"] == application.latest_judgement_id
    assert detail["decision"]["verdict"] == application.verdict
    assert detail["exit_steps"] == []
    history = client.get(url(application, "/judgements")).json()
    assert [j["id"] for j in history] == [application.latest_judgement_id]
    assert history[0]["request"] == application.latest_judgement.request
    assert history[0]["actor"]["username"] == applicant.username


def test_changing_the_facts_judges_again_and_keeps_the_earlier_judgement(
    api, applicant, make_application
):
    application = make_application()
    first = application.latest_judgement
    client = api(applicant)
    response = send(
        client, "patch", url(application), {"method": "lgwan_asp", "purpose": "電子申請"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    application.refresh_from_db()
    assert (application.method, application.purpose, application.breakout_usage) == (
        "lgwan_asp",
        "電子申請",
        "",
    )
    assert application.confidentiality == "3B"  # not given: unchanged
    assert body["latest_judgement_id"] == application.latest_judgement_id != first.pk
    assert Judgement.objects.filter(pk=first.pk).exists()
    history = client.get(url(application, "/judgements")).json()
    assert [j["id"] for j in history] == [application.latest_judgement_id, first.pk]


def test_changing_the_service(api, applicant, make_application, make_service):
    application = make_application()
    other = make_service(name="別のサービス")
    client = api(applicant)
    assert (
        send(client, "patch", url(application), {"service_id": other.pk}).json()["service"]["id"]
        == other.pk
    )
    response = send(client, "patch", url(application), {"service": {"name": "新サービス"}})
    assert response.json()["service"]["name"] == "新サービス"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"method": None}, ["method"]),
        ({"method": "local_breakout", "breakout_usage": None}, ["breakout_usage"]),
        ({"confidentiality": "9"}, ["confidentiality"]),
        ({"id": 5}, ["id"]),
    ],
)
def test_invalid_changes_are_422(change, expected, api, applicant, make_application):
    application = make_application(method="lgwan_asp", breakout_usage="")
    response = send(api(applicant), "patch", url(application), change)
    assert response.status_code == 422, response.content
    assert paths(response) == expected
    assert application.judgements.count() == 1


def test_the_department_may_change_a_draft_only(api, applicant, colleague, make_application):
    application = make_application()
    assert send(api(colleague), "patch", url(application), {"purpose": "同じ課"}).status_code == 200
    workflow.perform(application, Step.SUBMIT, applicant)
    response = send(api(applicant), "patch", url(application), {"purpose": "提出後"})
    assert response.status_code == 403
    assert response.json()["code"] == "not_editable"
    assert "申請中" in response.json()["detail"]


@pytest.mark.parametrize("role", ["security", "ciso", "auditor", "admin"])
def test_no_other_role_changes_an_application(role, api, make_user, make_application):
    application = make_application()
    response = send(api(make_user(role)), "patch", url(application), {"purpose": "変更"})
    assert response.status_code == 403
    application.refresh_from_db()
    assert application.purpose != "変更"


def test_services_for_picking(api, auditor, make_service):
    make_service(name="クラウド型グループウェア")
    make_service(name="LGWAN-ASP 電子申請", provider="自治体システム株式会社")
    client = api(auditor)
    assert client.get("/api/v1/services").json()["count"] == 2
    (found,) = client.get("/api/v1/services?q=自治体").json()["items"]
    assert found["name"] == "LGWAN-ASP 電子申請"
