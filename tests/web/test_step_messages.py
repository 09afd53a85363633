"""After each step taken on the page the user reads what was done, as a
clerk writes it (issue 11): 「利用申請を承認しました。」, never 「「承認」を実行しました。」
or the step's code. Walked through the UI for every step a person takes;
the steps the system takes by itself (見直し期限, 判定が悪化) have their
sentence too."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from cloudjudge.web.register import workflow
from cloudjudge.web.register.models import Application, ItemStatus, Status
from cloudjudge.web.register.views import DONE
from cloudjudge.web.register.workflow import Step

pytestmark = pytest.mark.django_db

MECHANICAL = re.compile(r"を実行しました|完了しました|[a-z]+_[a-z]+|「[^」]*」を")


def japanese(step: Step) -> str:
    with translation.override("ja"):
        return str(DONE[step])


def test_every_step_has_a_sentence_of_its_own():
    assert set(DONE) == set(Step)
    sentences = {step: japanese(step) for step in Step}
    for step, sentence in sentences.items():
        assert sentence.endswith("。"), (step, sentence)
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", sentence), (step, sentence)
        assert not MECHANICAL.search(sentence), (step, sentence)


def flash(response) -> list[str]:
    page = response.content.decode()
    return [
        re.sub(r"<[^>]+>|\s+", "", m)
        for m in re.findall(r'<li class="[^"]*success[^"]*"[^>]*>(.*?)</li>', page, re.S)
    ]


def step(client, app, action, **data):
    response = client.post(
        reverse("register:action", args=[app.pk]),
        {"action": action, "confirmed": "1", "comment": "確認しました", **data},
        follow=True,
    )
    assert response.status_code == 200
    return flash(response)


def test_each_step_through_the_page_says_what_was_done(
    login, make_application, make_service, applicant, security, ciso
):
    applicant_client, office, chief = login(applicant), login(security), login(ciso)
    isms = make_service(name="ISMS のみのストレージ", listings=(), certs=("iso27001",))
    app = make_application(service=isms)  # 承認が必要, the CISO included
    walked = [
        (applicant_client, Step.SUBMIT),
        (office, Step.APPROVE),
        (chief, Step.CISO_APPROVE),
    ]
    for client, action in walked:
        assert step(client, app, action) == [japanese(action)], action
    app.checklist_items.update(status=ItemStatus.DONE)
    for client, action in [
        (applicant_client, Step.START_USE),
        (applicant_client, Step.BEGIN_EXIT),
    ]:
        assert step(client, app, action) == [japanese(action)], action
    app.refresh_from_db()
    assert app.status == Status.ENDING

    returned = make_application()
    workflow.perform(returned, Step.SUBMIT, applicant)
    assert step(office, returned, Step.RETURN) == [japanese(Step.RETURN)]
    rejected = make_application()
    workflow.perform(rejected, Step.SUBMIT, applicant)
    assert step(office, rejected, Step.REJECT) == [japanese(Step.REJECT)]
    assert Application.objects.get(pk=rejected.pk).status == Status.REJECTED
    for sentence in (japanese(Step.RETURN), japanese(Step.REJECT)):
        assert not MECHANICAL.search(sentence)
