"""The pages: creating and judging, the live verdict, the register list and
the dashboard (with query counts that do not grow with the rows)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cloudjudge.web.register import checklist, workflow
from cloudjudge.web.register.models import Application, ItemStatus, Service, Status
from cloudjudge.web.register.workflow import Step

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {
        "purpose": "Web 会議とファイル共有",
        "confidentiality": "3B",
        "method": "local_breakout",
        "breakout_usage": "file_import",
        "network": "",
        "new_service-name": "クラウド型グループウェア",
        "new_service-provider": "株式会社サンプルクラウド",
        "new_service-listings": ["ismap"],
        "save": "1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_creating_an_application_judges_it_and_builds_its_checklist(login, applicant):
    client = login(applicant)
    response = client.post(reverse("register:create"), form_data())
    app = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("register:detail", args=[app.pk])
    assert (app.status, app.verdict, app.department, app.applicant) == (
        Status.DRAFT,
        "permitted",
        applicant.department,
        applicant,
    )
    assert app.service.listings == ["ismap"]
    assert app.judgements.count() == 1
    assert app.checklist_items.filter(item_id="T1-07").exists()
    page = client.get(response["Location"]).content.decode()
    assert app.number in page and "T1-07" in page


def test_submitting_from_the_form(login, applicant):
    client = login(applicant)
    client.post(reverse("register:create"), form_data(save=None, submit="1"))
    assert Application.objects.get().status == Status.SUBMITTED


def test_an_existing_service_can_be_picked(login, applicant, make_service):
    service = make_service(name="LGWAN-ASP 電子申請", listings=("lgwan_asp",))
    data = form_data(service=str(service.pk), method="lgwan_asp", breakout_usage="file_import")
    for key in ("new_service-name", "new_service-provider", "new_service-listings"):
        data.pop(key)
    response = login(applicant).post(reverse("register:create"), data)
    assert response.status_code == 302
    app = Application.objects.get()
    assert app.service == service and Service.objects.count() == 1
    assert app.breakout_usage == ""  # only meaningful for local breakout


def test_the_engine_names_missing_facts_on_the_form(login, applicant):
    data = form_data(breakout_usage="", save=None, submit="1")
    response = login(applicant).post(reverse("register:create"), data)
    assert response.status_code == 200
    assert Application.objects.count() == 0
    assert response.context["form"].errors["breakout_usage"]
    data = form_data(**{"new_service-name": ""})
    response = login(applicant).post(reverse("register:create"), data)
    assert response.context["service_form"].errors["name"]


def test_the_live_preview_shows_the_verdict_and_follows_the_method(login, applicant):
    client = login(applicant)
    url = reverse("register:preview")
    storage = form_data(
        **{
            "new_service-name": "オンラインストレージ",
            "new_service-listings": None,
            "new_service-isms_certifications": ["iso27001"],
        },
        breakout_usage="no_file_import",
    )
    storage.pop("new_service-listings", None)
    by_breakout = client.post(url, storage, HTTP_HX_REQUEST="true")
    assert by_breakout.status_code == 200
    text = by_breakout.content.decode()
    assert "<html" not in text  # a partial
    assert by_breakout.context["decision"]["verdict"] == "approval_required"
    assert "3.1(1)(イ)" in text

    by_internet_pc = client.post(url, {**storage, "method": "internet_pc"})
    assert by_internet_pc.context["decision"]["verdict"] == "prohibited"
    assert "3.1(1)(ウ)②" in by_internet_pc.content.decode()

    with_ground = {**storage, "method": "internet_pc", "limited_external_sharing": "on"}
    assert client.post(url, with_ground).context["decision"]["verdict"] == "approval_required"
    assert Application.objects.count() == 0  # nothing kept


def test_the_preview_lists_what_is_missing(login, applicant):
    response = login(applicant).post(reverse("register:preview"), {"method": "local_breakout"})
    assert response.context["decision"] is None
    labels = [label for label, _ in response.context["missing"]]
    assert len(labels) == 3  # service name, confidentiality, breakout usage


def test_the_form_page_wires_htmx_and_still_works_without_it(login, applicant):
    page = login(applicant).get(reverse("register:create")).content.decode()
    assert f'hx-post="{reverse("register:preview")}"' in page
    assert 'hx-trigger="change"' in page
    assert '<form method="post"' in page  # a plain form: submitting judges without JS
    assert "htmx.min.js" in page
    for field in ("id_purpose", "id_network", "id_new_service-name"):
        assert f'for="{field}"' in page


def test_editing_rejudges(login, applicant, make_application):
    app = make_application()
    client = login(applicant)
    response = client.post(
        reverse("register:edit", args=[app.pk]),
        form_data(service=str(app.service_id), confidentiality="3A"),
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.verdict == "prohibited" and app.judgements.count() == 2


def test_checklist_item_form_requires_a_reason_for_not_applicable(
    login, applicant, make_application
):
    app = make_application()
    row = app.checklist_items.first()
    url = reverse("register:checklist_item", args=[app.pk, row.pk])
    client = login(applicant)
    response = client.post(url, {"status": "not_applicable", "na_reason": ""})
    assert response.status_code == 200 and response.context["form"].errors
    response = client.post(url, {"status": "not_applicable", "na_reason": "該当機器なし"})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == ItemStatus.NOT_APPLICABLE


def test_review_queue_and_actions(login, make_application, applicant, security, ciso):
    app = make_application(
        confidentiality="3B", method="internet_pc", breakout_usage="", limited_external_sharing=True
    )
    workflow.perform(app, Step.SUBMIT, applicant)
    assert app.number in login(security).get(reverse("register:reviews")).content.decode()
    url = reverse("register:action", args=[app.pk])
    # Approving asks first, listing the checklist rows still open.
    asked = login(security).post(url, {"action": "approve", "comment": "OK"})
    assert asked.status_code == 200
    page = asked.content.decode()
    assert "確認：承認" in page and "件未完了です" not in page
    assert (
        f"{app.checklist_items.filter(active=True).count()} 件のチェックリスト項目が未完了です"
        in page
    )
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED  # nothing done yet
    response = login(security).post(url, {"action": "approve", "comment": "OK", "confirmed": "1"})
    assert response.status_code == 302
    # approved, but still waiting in the CISO's queue
    assert app.number not in login(security).get(reverse("register:reviews")).content.decode()
    assert app.number in login(ciso).get(reverse("register:reviews")).content.decode()
    page = login(applicant).get(reverse("register:detail", args=[app.pk])).content.decode()
    assert "disabled" in page  # start use is blocked until the CISO approves
    login(ciso).post(url, {"action": "ciso_approve", "confirmed": "1"})
    refused = login(applicant).post(url, {"action": "start_use", "confirmed": "1"}, follow=True)
    assert "条件付き承認を記録してから利用を開始してください" in refused.content.decode()
    app.refresh_from_db()
    assert app.status == Status.APPROVED  # open required rows: refused
    app.checklist_items.update(status="done")
    login(applicant).post(url, {"action": "start_use", "confirmed": "1"})
    app.refresh_from_db()
    assert app.status == Status.IN_USE


def test_a_failed_guard_is_a_message_not_an_error(login, make_application, applicant, security):
    app = make_application(confidentiality="3A")
    workflow.perform(app, Step.SUBMIT, applicant)
    response = login(security).post(
        reverse("register:action", args=[app.pk]), {"action": "approve"}, follow=True
    )
    assert response.status_code == 200
    assert "判定が「禁止」のため、この申請は承認できません。" in response.content.decode()
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED


def test_catalog_browser_lists_every_item(login, auditor):
    from cloudjudge.catalog import default_catalog

    page = login(auditor).get(reverse("register:catalog")).content.decode()
    for item in default_catalog().items:
        assert f'id="item-{item.id}"' in page


def test_japanese_by_default_and_english_on_request(login, applicant):
    client = login(applicant)
    page = client.get(reverse("register:dashboard")).content.decode()
    assert 'lang="ja"' in page and "ダッシュボード" in page
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("register:dashboard"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert 'lang="en"' in page and "Dashboard" in page


# --------------------------------------------------------------------------- list and dashboard


def populate(make_application, applicant, security, n):
    for i in range(n):
        app = make_application(
            confidentiality=["3B", "3C", "2"][i % 3],
            method="local_breakout",
            breakout_usage=["auth_only", "no_file_import", "file_import"][i % 3],
        )
        row = app.checklist_items.first()
        checklist.update_item(
            row, applicant, status=ItemStatus.IN_PROGRESS, owner=security, due_date="2020-01-01"
        )
        if i % 2:
            workflow.perform(app, Step.SUBMIT, applicant)


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/applications/",
        "/applications/?sort=-service&status=submitted",
        "/applications/?q=サービス&confidentiality=3B&method=local_breakout",
        "/reviews/",
    ],
)
def test_query_count_does_not_grow_with_rows(login, make_application, applicant, security, url):
    client = login(security)
    populate(make_application, applicant, security, 5)
    few, _ = count_queries(client, url)
    populate(make_application, applicant, security, 45)
    many, response = count_queries(client, url)
    assert many == few, (few, many)
    if url == "/":
        assert response.context["board"].total == 50
        assert response.context["board"].overdue_count == 50


def test_register_filters_and_sorting(login, make_application, applicant, security):
    a = make_application(confidentiality="3C", method="lgwan_asp", breakout_usage="")
    b = make_application(confidentiality="3A")
    c = make_application(confidentiality="2", purpose="電子契約の締結")
    workflow.perform(c, Step.SUBMIT, applicant)
    client = login(security)

    def numbers(query):
        page = client.get("/applications/" + query).context["page"]
        return [app.number for app in page.object_list]

    assert numbers("?verdict=prohibited") == [b.number]
    assert numbers("?status=submitted") == [c.number]
    assert numbers("?method=lgwan_asp") == [a.number]
    assert numbers("?confidentiality=2") == [c.number]
    assert numbers(f"?department={applicant.department_id}&sort=number") == [
        a.number,
        b.number,
        c.number,
    ]
    assert numbers("?sort=-number") == [c.number, b.number, a.number]
    assert numbers("?q=電子契約") == [c.number]
    assert numbers("?verdict=nonsense") == numbers("")  # bad filters are ignored


def test_register_paginates(login, make_application, applicant, security):
    for _ in range(27):
        make_application()
    client = login(security)
    first = client.get("/applications/?sort=number")
    assert len(first.context["page"].object_list) == 25
    html = first.content.decode()
    assert re.search(r'href="\?sort=number&amp;page=2"', html)
    second = client.get("/applications/?sort=number&page=2")
    assert len(second.context["page"].object_list) == 2


def test_static_files_are_served_by_whitenoise(client):
    for path in ("/static/cloudjudge/app.css", "/static/cloudjudge/htmx.min.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert b"".join(response.streaming_content)
