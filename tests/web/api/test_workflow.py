"""Approvals through the API: ``workflow.perform`` with its roles and guards;
403 for a role or status, 409 with the guard's code, reviews recorded."""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import timezone

from cloudjudge.web.accounts.models import Role
from cloudjudge.web.register import workflow
from cloudjudge.web.register.models import Status
from cloudjudge.web.register.workflow import Step

pytestmark = pytest.mark.django_db


def act(client, application, action: str, comment: str = ""):
    return client.post(
        f"/api/v1/applications/{application.pk}/actions",
        json.dumps({"action": action, "comment": comment}),
        content_type="application/json",
    )


#: Storage shared with outside parties over internet PCs: the CISO must approve.
NEEDS_CISO = {
    "confidentiality": "3B",
    "method": "internet_pc",
    "breakout_usage": "",
    "limited_external_sharing": True,
}


@pytest.fixture
def submitted(make_application, applicant):
    """An application that needs the CISO's approval, submitted."""
    application = make_application(**NEEDS_CISO)
    assert (application.verdict, application.needs_ciso_approval) == ("approval_required", True)
    workflow.perform(application, Step.SUBMIT, applicant)
    return application


def test_the_applicant_submits_and_the_ciso_approves(api, applicant, ciso, make_application):
    application = make_application(**NEEDS_CISO)
    response = act(api(applicant), application, "submit")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "submitted"
    ciso_client = api(ciso)
    pending = ciso_client.get("/api/v1/applications?status=submitted").json()["items"]
    assert [a["id"] for a in pending] == [application.pk]
    detail = ciso_client.get(f"/api/v1/applications/{application.pk}").json()
    assert {a["action"]: a["allowed"] for a in detail["actions"]}["approve"] is True
    response = act(ciso_client, application, "approve", "問題ありません")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "approved"
    assert body["approved_by"]["username"] == ciso.username
    # The CISO's own approval is the CISO approval the verdict asks for.
    assert body["ciso_approved_by"]["username"] == ciso.username
    (review,) = ciso_client.get(f"/api/v1/applications/{application.pk}/reviews").json()
    assert review["actor"]["username"] == ciso.username
    assert review["comment"] == "問題ありません"
    assert (review["action"], review["action_label"]) == (
        "ciso_approve",
        "統括情報セキュリティ責任者として承認",
    )
    assert review["judgement_id"] == application.latest_judgement_id
    # The department sees the same review.
    reviews = api(applicant).get(f"/api/v1/applications/{application.pk}/reviews").json()
    assert reviews == [review]


def test_nobody_approves_their_own_application(api, make_application, make_user):
    # Someone who applied, then became the CISO, still cannot approve their own.
    person = make_user(Role.APPLICANT)
    application = make_application(user=person)
    workflow.perform(application, Step.SUBMIT, person)
    person.role = Role.CISO
    person.save()
    response = act(api(person), application, "approve")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "not_own_application"
    assert body["detail"] == "自分の申請は承認できません。"
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED


def test_a_prohibited_verdict_cannot_be_approved(api, make_application, applicant, security):
    application = make_application(
        confidentiality="3A", my_number=True, method="internet_pc", breakout_usage=""
    )
    assert application.verdict == "prohibited"
    workflow.perform(application, Step.SUBMIT, applicant)
    response = act(api(security), application, "approve")
    assert response.status_code == 409
    assert response.json()["code"] == "not_prohibited"


def test_return_needs_a_comment(api, submitted, security):
    response = act(api(security), submitted, "return")
    assert (response.status_code, response.json()["code"]) == (409, "comment_required")
    response = act(api(security), submitted, "return", "目的を具体的に")
    assert response.json()["status"] == "returned"


@pytest.mark.parametrize(
    ("role", "action", "code"),
    [
        ("auditor", "approve", "role"),
        ("auditor", "return", "role"),
        ("admin", "approve", "role"),
        ("applicant", "approve", "role"),
        ("security", "submit", "wrong_status"),
        ("security", "mark_review_due", "wrong_status"),
    ],
)
def test_a_role_or_status_that_may_not_is_403(role, action, code, api, make_user, submitted):
    user = make_user(role)
    response = act(api(user), submitted, action, "コメント")
    assert response.status_code == 403
    assert response.json()["code"] == code
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


def test_an_unknown_action_is_422(api, submitted, security):
    response = act(api(security), submitted, "approve_everything")
    assert response.status_code == 422
    assert [e["path"] for e in response.json()["detail"]] == ["action"]


def test_the_auditor_reads_everything_and_changes_nothing(api, auditor, submitted):
    client = api(auditor)
    base = f"/api/v1/applications/{submitted.pk}"
    for path in ("", "/judgements", "/checklist", "/reviews"):
        assert client.get(base + path).status_code == 200, path
    detail = client.get(base).json()
    assert detail["actions"] == [] and detail["can_edit"] is False
    assert detail["can_work_checklist"] is False
    item = submitted.checklist_items.first()
    writes = [
        client.patch(base, json.dumps({"purpose": "x"}), content_type="application/json"),
        client.patch(
            f"{base}/checklist/{item.pk}",
            json.dumps({"status": "done"}),
            content_type="application/json",
        ),
        act(client, submitted, "approve"),
        client.post(
            "/api/v1/applications",
            json.dumps(
                {"purpose": "x", "confidentiality": "2", "method": "lgwan_asp", "service_id": 1}
            ),
            content_type="application/json",
        ),
    ]
    assert [w.status_code for w in writes] == [403, 403, 403, 403]


def test_the_whole_path_to_use_through_the_api(api, submitted, applicant, security, ciso):
    assert act(api(security), submitted, "approve").json()["status"] == "approved"
    blocked = act(api(applicant), submitted, "start_use")
    assert (blocked.status_code, blocked.json()["code"]) == (409, "ciso_approval_given")
    forbidden = act(api(security), submitted, "ciso_approve")  # only the CISO
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "role")
    assert act(api(ciso), submitted, "ciso_approve").status_code == 200
    # Open required rows: 利用開始 is refused until resolved or conditionally approved.
    refused = act(api(applicant), submitted, "start_use")
    assert (refused.status_code, refused.json()["code"]) == (409, "required_rows_resolved")
    assert "条件付き承認" in refused.json()["detail"]
    open_ids = [
        i.item_id for i in submitted.checklist_items.filter(active=True).order_by("position")
    ]
    submitted.checklist_items.exclude(item_id=open_ids[0]).update(status="done")
    url = f"/api/v1/applications/{submitted.pk}/conditional-approval"
    due = (timezone.localdate() + datetime.timedelta(days=14)).isoformat()
    body = {"rows": [{"item_id": open_ids[0], "owner_id": applicant.pk, "due_date": due}]}
    denied = api(applicant).post(url, body, content_type="application/json")
    assert (denied.status_code, denied.json()["code"]) == (403, "role")
    granted = api(security).post(url, body, content_type="application/json")
    assert granted.status_code == 200, granted.content
    assert granted.json()["status_line"].startswith("承認済（統括承認 ")
    assert granted.json()["next_actor"] == "applicant"
    response = act(api(applicant), submitted, "start_use")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "in_use"
    assert response.json()["review_due"]
