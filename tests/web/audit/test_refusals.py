"""Every refused request leaves an アクセス拒否 entry in the audit trail —
who, from where, which URL and method, and why — and one log line, never a
traceback: a 403 anywhere in the site, a workflow guard that failed in the
UI, and the API's 401, 403 and 409."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client
from django.urls import reverse

from cloudjudge.web.api.models import ApiToken
from cloudjudge.web.audit.models import Action, AuditEntry
from cloudjudge.web.register import workflow
from cloudjudge.web.register.workflow import Step

pytestmark = pytest.mark.django_db


def refusals():
    return list(AuditEntry.objects.filter(action=Action.ACCESS_DENIED).order_by("sequence"))


def no_tracebacks(caplog):
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


def api(user):
    _, token = ApiToken.issue(user, name="test")
    return Client(headers={"Authorization": f"Bearer {token}"}, REMOTE_ADDR="192.0.2.7")


def test_a_refused_post_is_recorded_with_its_reason(login, make_application, auditor, caplog):
    application = make_application()
    client = login(auditor)
    with caplog.at_level(logging.INFO):
        response = client.post(
            reverse("register:action", args=[application.pk]),
            {"action": "submit"},
            REMOTE_ADDR="192.0.2.10",
        )
    assert response.status_code == 403
    # the user reads the real reason, not only "not allowed"
    assert "あなたの役割ではこの申請にこの操作はできません。" in response.content.decode()
    [entry] = refusals()
    assert entry.actor_username == auditor.username
    assert entry.source_ip == "192.0.2.10"
    assert entry.extra["method"] == "POST"
    assert entry.extra["url"] == f"/applications/{application.pk}/action/"
    assert entry.extra["status"] == 403
    assert entry.extra["reason"] == "あなたの役割ではこの申請にこの操作はできません。"
    # the audit page names what it kept in Japanese, not by its stored keys
    assert entry.extra_rows() == [
        ("メソッド", "POST"),
        ("理由", "あなたの役割ではこの申請にこの操作はできません。"),
        ("応答コード", "403"),
        ("URL", f"/applications/{application.pk}/action/"),
    ]
    no_tracebacks(caplog)
    lines = [r.getMessage() for r in caplog.records if r.name == "cloudjudge.refusals"]
    assert len(lines) == 1 and "403 POST" in lines[0] and auditor.username in lines[0]
    # Django's own "Forbidden" line is not written on top of ours
    assert not [r for r in caplog.records if r.name == "django.request"]


def test_a_403_on_a_get_page_is_recorded(login, applicant, caplog):
    with caplog.at_level(logging.INFO):
        assert login(applicant).get("/audit/").status_code == 403
    [entry] = refusals()
    assert (entry.extra["method"], entry.extra["url"]) == ("GET", "/audit/")
    assert entry.extra["reason"]  # a reason even when the view gave none
    no_tracebacks(caplog)


def test_a_failed_guard_in_the_ui_is_recorded_and_explained(
    login, make_application, applicant, security
):
    application = make_application(confidentiality="3A")
    assert application.verdict == "prohibited"
    workflow.perform(application, Step.SUBMIT, applicant)
    client = login(security)
    response = client.post(
        reverse("register:action", args=[application.pk]),
        {"action": "approve", "confirmed": "1"},
        follow=True,
    )
    assert "判定が「禁止」のため、この申請は承認できません。" in response.content.decode()
    [entry] = refusals()
    assert entry.actor_username == security.username
    assert entry.extra["code"] == "not_prohibited" and entry.extra["status"] == 409
    assert entry.object_type == "register.application" and entry.object_id == str(application.pk)
    application.refresh_from_db()
    assert application.status == "submitted"


def test_api_401_without_a_token_is_recorded(caplog):
    with caplog.at_level(logging.INFO):
        response = Client(REMOTE_ADDR="192.0.2.9").get("/api/v1/applications")
    assert response.status_code == 401
    [entry] = refusals()
    assert entry.actor is None and entry.actor_username == ""
    assert entry.source_ip == "192.0.2.9"
    assert entry.extra["status"] == 401 and entry.extra["code"] == "not_authenticated"
    no_tracebacks(caplog)


def test_api_403_and_409_are_recorded(make_application, applicant, auditor, security):
    application = make_application()
    item = application.checklist_items.first()
    response = api(auditor).patch(
        f"/api/v1/applications/{application.pk}/checklist/{item.pk}",
        json.dumps({"status": "done"}),
        content_type="application/json",
    )
    assert response.status_code == 403
    prohibited = make_application(confidentiality="3A")
    workflow.perform(prohibited, Step.SUBMIT, applicant)
    response = api(security).post(
        f"/api/v1/applications/{prohibited.pk}/actions",
        json.dumps({"action": "approve"}),
        content_type="application/json",
    )
    assert response.status_code == 409
    first, second = refusals()
    assert first.actor_username == auditor.username and first.extra["method"] == "PATCH"
    assert first.extra["status"] == 403
    assert second.extra["status"] == 409 and second.extra["code"] == "not_prohibited"
    assert second.source_ip == "192.0.2.7"


def test_the_audit_filter_finds_refusals(login, applicant, auditor):
    login(applicant).get("/audit/")
    page = login(auditor).get("/audit/", {"action": "access_denied"}).content.decode()
    assert "アクセス拒否" in page and applicant.username in page and "/audit/" in page


def test_a_form_sent_without_its_csrf_token_is_recorded(applicant, make_application, caplog):
    application = make_application()
    client = Client(enforce_csrf_checks=True)
    client.force_login(applicant)
    with caplog.at_level(logging.INFO):
        response = client.post(
            reverse("register:action", args=[application.pk]), {"action": "submit"}
        )
    assert response.status_code == 403
    [entry] = refusals()
    assert entry.actor_username == applicant.username and entry.extra["code"] == "csrf"
    assert entry.extra["method"] == "POST" and entry.extra["reason"].startswith("CSRF: ")
    application.refresh_from_db()
    assert application.status == "draft"
    no_tracebacks(caplog)
