"""The dashboard's 「あなたの対応が必要な申請」 (issue 11), beyond what
test_state_pages covers: the applicant's returned application and the
checklist rows assigned to them (overdue ones marked), and for the security
office its own overdue rows — not a colleague's, not one not yet due."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cloudjudge.web.register import workflow
from cloudjudge.web.register.workflow import Step

pytestmark = pytest.mark.django_db


def work(client) -> str:
    page = client.get(reverse("register:dashboard")).content.decode()
    start = page.index("あなたの対応が必要な申請")
    return page[start : page.index("</section>", start)]


def test_returned_assigned_and_overdue_work_is_listed_for_whom_it_is(
    login, make_application, applicant, colleague, security
):
    today = timezone.localdate()
    returned = make_application(purpose="差し戻された申請")
    workflow.perform(returned, Step.SUBMIT, applicant)
    workflow.perform(returned, Step.RETURN, security, "目的を具体的に")
    app = make_application()
    rows = list(app.checklist_items.filter(active=True).order_by("position")[:4])
    late, soon, colleagues, offices = rows
    late.owner, late.due_date = applicant, today - datetime.timedelta(days=3)
    soon.owner, soon.due_date = applicant, today + datetime.timedelta(days=10)
    colleagues.owner, colleagues.due_date = colleague, today - datetime.timedelta(days=3)
    offices.owner, offices.due_date = security, today - datetime.timedelta(days=1)
    for row in rows:
        row.save()

    mine = work(login(applicant))
    assert returned.number in mine and "差戻し・申請者の修正待ち" in mine
    assert f"{app.number} {late.item_id} " in mine and f"{app.number} {soon.item_id} " in mine
    assert f"{app.number} {colleagues.item_id} " not in mine
    late_line = mine[mine.index(f"{app.number} {late.item_id} ") :].split("</li>")[0]
    soon_line = mine[mine.index(f"{app.number} {soon.item_id} ") :].split("</li>")[0]
    assert "期限超過" in late_line and "期限超過" not in soon_line

    office = work(login(security))
    assert f"{app.number} {offices.item_id} " in office
    assert f"{app.number} {late.item_id} " not in office  # the applicant's, not the office's
    assert returned.number not in office  # the applicant acts next
