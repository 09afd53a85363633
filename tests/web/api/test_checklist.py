"""Checklist rows through the API: the UI's form and ``checklist.update_item``,
under ``permissions.can_work_checklist``."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cloudjudge.web.accounts.models import Role
from cloudjudge.web.register import evidence, workflow
from cloudjudge.web.register.models import ItemStatus
from cloudjudge.web.register.workflow import Step

pytestmark = pytest.mark.django_db


def base(application) -> str:
    return f"/api/v1/applications/{application.pk}/checklist"


def patch(client, path: str, body):
    return client.patch(path, json.dumps(body), content_type="application/json")


def test_the_checklist_with_progress_and_evidence(api, applicant, make_application):
    application = make_application()
    item = application.checklist_items.get(item_id="T1-07")
    evidence.store(
        application,
        SimpleUploadedFile("規約.pdf", b"%PDF-1.4 terms", content_type="application/pdf"),
        applicant,
        checklist_item=item,
    )
    body = api(applicant).get(base(application)).json()
    rows = {row["item_id"]: row for row in body["items"]}
    assert set(rows) == set(application.checklist_items.values_list("item_id", flat=True))
    assert body["progress"] == {"resolved": 0, "total": len(rows), "percent": 0}
    row = rows["T1-07"]
    assert (row["id"], row["status"], row["status_label"], row["active"]) == (
        item.pk,
        "todo",
        "未対応",
        True,
    )
    (file,) = row["evidence"]
    assert file["original_name"] == "規約.pdf" and len(file["sha256"]) == 64


def test_updating_a_row(api, applicant, colleague, make_application):
    application = make_application()
    item = application.checklist_items.get(item_id="T1-07")
    client = api(applicant)
    response = patch(
        client,
        f"{base(application)}/{item.pk}",
        {
            "status": "in_progress",
            "owner_id": colleague.pk,
            "due_date": "2030-04-01",
            "note": "確認中",
        },
    )
    assert response.status_code == 200, response.content
    row = response.json()
    assert (row["status"], row["owner"]["id"], row["due_date"], row["note"]) == (
        "in_progress",
        colleague.pk,
        "2030-04-01",
        "確認中",
    )
    assert row["updated_by"]["username"] == applicant.username
    item.refresh_from_db()
    assert (item.status, item.owner, item.due_date) == (
        ItemStatus.IN_PROGRESS,
        colleague,
        datetime.date(2030, 4, 1),
    )
    # By the catalog's ID too; only what is given changes.
    response = patch(client, f"{base(application)}/T1-07", {"status": "done"})
    assert response.json()["status"] == "done" and response.json()["note"] == "確認中"
    # null clears the owner and the due date.
    response = patch(client, f"{base(application)}/T1-07", {"owner_id": None, "due_date": None})
    assert (response.json()["owner"], response.json()["due_date"]) == (None, None)
    progress = client.get(base(application)).json()["progress"]
    assert progress["resolved"] == 1


def test_not_applicable_needs_a_reason(api, applicant, make_application):
    application = make_application()
    path = f"{base(application)}/T1-07"
    response = patch(api(applicant), path, {"status": "not_applicable"})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["path"] == "na_reason" and error["msg"]
    response = patch(api(applicant), path, {"status": "not_applicable", "na_reason": "利用しない"})
    assert response.status_code == 200
    assert response.json()["na_reason"] == "利用しない"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"status": "finished"}, "status"),
        ({"status": None}, "status"),
        ({"due_date": "next week"}, "due_date"),
        ({"owner_id": "me"}, "owner_id"),
        ({"title": "別の対策"}, "title"),
    ],
)
def test_invalid_changes_are_422(body, path, api, applicant, make_application):
    application = make_application()
    response = patch(api(applicant), f"{base(application)}/T1-07", body)
    assert response.status_code == 422, response.content
    assert [e["path"] for e in response.json()["detail"]] == [path]


def test_the_owner_is_someone_the_ui_would_offer(
    api, applicant, outsider, auditor, security, make_application
):
    application = make_application()
    path = f"{base(application)}/T1-07"
    for stranger in (outsider, auditor):
        response = patch(api(applicant), path, {"owner_id": stranger.pk})
        assert response.status_code == 422
        assert [e["path"] for e in response.json()["detail"]] == ["owner_id"]
    assert patch(api(applicant), path, {"owner_id": security.pk}).status_code == 200


def test_who_may_work_the_checklist(api, make_user, applicant, make_application):
    application = make_application()
    path = f"{base(application)}/T1-07"
    assert (
        patch(api(make_user(Role.SECURITY)), path, {"note": "セキュリティ担当"}).status_code == 200
    )
    for role in (Role.CISO, Role.AUDITOR, Role.ADMIN):
        response = patch(api(make_user(role)), path, {"note": role})
        assert response.status_code == 403, role
    workflow.perform(application, Step.SUBMIT, applicant)
    workflow.perform(application, Step.REJECT, make_user(Role.SECURITY), "対象外")
    response = patch(api(applicant), path, {"note": "却下後"})
    assert response.status_code == 403


def test_a_row_of_another_application_is_404(api, applicant, make_application):
    first, second = make_application(), make_application()
    item = second.checklist_items.first()
    response = patch(api(applicant), f"{base(first)}/{item.pk}", {"status": "done"})
    assert response.status_code == 404
    assert api(applicant).get(f"{base(first)}/NO-SUCH").status_code == 404
    item.refresh_from_db()
    assert item.status == ItemStatus.TODO
