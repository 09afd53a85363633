"""Every step that cannot be undone asks for confirmation first (issue 11).

"Cannot be undone" is read off the workflow's own transition table: after the
step, no step a person may take leads back to where it started. Each such
step must be in ``CONFIRMED_STEPS``; on the page, posted without the
confirmation, it shows 「確認：…」 and 「この操作は取り消せません。」 and changes
nothing. (It found 利用終了の手続を始める, which led to 利用終了手続中 — from
there only to 終了 — without a question.)"""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from cloudjudge.web.register import workflow
from cloudjudge.web.register.models import Application, ItemStatus, Status
from cloudjudge.web.register.workflow import CONFIRMED_STEPS, TRANSITIONS, Step

pytestmark = pytest.mark.django_db


def reachable(start: str) -> set[str]:
    """The states people's steps lead to from ``start`` (itself included)."""
    seen, todo = {start}, [start]
    while todo:
        state = todo.pop()
        for t in TRANSITIONS.values():
            if t.roles and state in t.sources and t.target not in seen:
                seen.add(t.target)
                todo.append(t.target)
    return seen


def irreversible() -> set[str]:
    return {
        t.action
        for t in TRANSITIONS.values()
        if t.roles and t.target not in t.sources and not (reachable(t.target) & t.sources)
    }


def test_every_step_that_cannot_be_undone_asks_first():
    found = irreversible()
    assert {Step.REJECT, Step.START_USE, Step.BEGIN_EXIT, Step.END} <= found
    assert Step.RETURN not in found and Step.SUBMIT not in found  # both can be taken back
    assert found <= CONFIRMED_STEPS, sorted(found - CONFIRMED_STEPS)


def test_beginning_the_exit_asks_first_and_changes_nothing_until_confirmed(
    login, make_application, applicant, security
):
    app = make_application()
    workflow.perform(app, Step.SUBMIT, applicant)
    workflow.perform(app, Step.APPROVE, security, "確認しました")
    app.checklist_items.update(status=ItemStatus.DONE)
    workflow.perform(app, Step.START_USE, applicant)
    client = login(applicant)
    url = reverse("register:action", args=[app.pk])
    asked = client.post(url, {"action": Step.BEGIN_EXIT})
    page = asked.content.decode()
    assert asked.status_code == 200
    assert "確認：利用終了の手続を始める" in page and "この操作は取り消せません。" in page
    assert Application.objects.get(pk=app.pk).status == Status.IN_USE
    client.post(url, {"action": Step.BEGIN_EXIT, "confirmed": "1"})
    assert Application.objects.get(pk=app.pk).status == Status.ENDING


def test_starting_use_asks_first_listing_the_rows_left_open_with_owner_and_due(
    login, make_application, applicant, colleague, security
):
    app = make_application()
    workflow.perform(app, Step.SUBMIT, applicant)
    workflow.perform(app, Step.APPROVE, security, "確認しました")
    rows = list(app.checklist_items.filter(active=True).order_by("position"))
    kept = rows[0]
    app.checklist_items.exclude(pk=kept.pk).update(status=ItemStatus.DONE)
    due = timezone.localdate() + datetime.timedelta(days=30)
    workflow.approve_conditionally(
        app, security, [workflow.Condition(kept, colleague, due)], "年度内に対応"
    )
    colleague.last_name, colleague.first_name = "同僚", "一郎"
    colleague.save()
    asked = login(applicant).post(
        reverse("register:action", args=[app.pk]), {"action": Step.START_USE}
    )
    page = asked.content.decode()
    assert "確認：利用を開始する" in page
    listed = re.search(r'<ul class="open-rows">(.*?)</ul>', page, re.S)
    assert listed and f"{kept.item_id} {kept.title}" in listed.group(1)
    assert "同僚" in listed.group(1) and "条件付き承認" in listed.group(1)
    assert Application.objects.get(pk=app.pk).status == Status.APPROVED


def test_a_prohibited_submission_asks_without_calling_itself_final(login, make_application):
    """It asks (with the remedies, test_state_pages), but does not say it cannot
    be undone: the security office can return it."""
    app = make_application(method="internet_pc", breakout_usage="")
    assert app.verdict == "prohibited"
    asked = login(app.applicant).post(
        reverse("register:action", args=[app.pk]), {"action": Step.SUBMIT}
    )
    page = asked.content.decode()
    assert "確認：" in page and 'class="remedies"' in page
    assert "この操作は取り消せません。" not in page
