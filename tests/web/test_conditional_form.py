"""The conditional approval through the page (issue 11; the API's is in
api/test_workflow.py, the browser's in e2e/test_application_journey.py):
利用開始 with open required rows is refused, the form asks an owner and a due
date for each row kept open and names the row, and once recorded 利用開始 is
allowed with those rows still open, owned and due — they drive the reminders."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cloudjudge.web.register import workflow
from cloudjudge.web.register.models import Application, ItemStatus, Status
from cloudjudge.web.register.workflow import Step

pytestmark = pytest.mark.django_db


def test_the_page_records_a_conditional_approval_that_lets_use_start(
    login, make_application, applicant, colleague, security
):
    app = make_application()
    workflow.perform(app, Step.SUBMIT, applicant)
    workflow.perform(app, Step.APPROVE, security, "確認しました")
    rows = list(app.checklist_items.filter(active=True).order_by("position"))
    kept = rows[0]
    app.checklist_items.exclude(pk=kept.pk).update(status=ItemStatus.DONE)
    action = reverse("register:action", args=[app.pk])
    refused = login(applicant).post(action, {"action": "start_use", "confirmed": "1"}, follow=True)
    assert "条件付き承認を記録してから利用を開始してください" in refused.content.decode()
    assert Application.objects.get(pk=app.pk).status == Status.APPROVED

    office = login(security)
    url = reverse("register:conditional", args=[app.pk])
    form = office.get(url).content.decode()
    assert f'name="keep_{kept.pk}"' in form and f'name="owner_{kept.pk}"' in form

    incomplete = office.post(url, {f"keep_{kept.pk}": "on", "comment": "年度内に対応"})
    page = incomplete.content.decode()
    assert incomplete.status_code == 200
    assert f"{kept.item_id}：対応する担当者を選んでください。" in page
    assert Application.objects.get(pk=app.pk).checklist_items.get(pk=kept.pk).due_date is None

    due = timezone.localdate() + datetime.timedelta(days=30)
    recorded = office.post(
        url,
        {
            f"keep_{kept.pk}": "on",
            f"owner_{kept.pk}": str(colleague.pk),
            f"due_{kept.pk}": due.isoformat(),
            "comment": "年度内に対応",
        },
        follow=True,
    )
    assert "条件付き承認を記録しました。" in recorded.content.decode()
    row = app.checklist_items.get(pk=kept.pk)
    assert (row.open_under_condition, row.owner_id, row.due_date) == (True, colleague.pk, due)

    started = login(applicant).post(action, {"action": "start_use", "confirmed": "1"}, follow=True)
    assert "サービスの利用を開始しました。" in started.content.decode()
    app.refresh_from_db()
    assert app.status == Status.IN_USE
    assert app.checklist_items.get(pk=kept.pk).status != ItemStatus.DONE  # still open, owned
