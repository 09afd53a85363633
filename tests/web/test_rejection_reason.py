"""A rejected application shows the reviewer's reason at the top of its page
(issue 11; the returned one, with its edit form: test_state_pages), above
everything the applicant works on, with who rejected it."""

import pytest
from django.urls import reverse

from cloudjudge.web.register import workflow
from cloudjudge.web.register.workflow import Step

pytestmark = pytest.mark.django_db


def test_the_reason_for_a_rejection_is_at_the_top(login, make_application, applicant, security):
    security.last_name, security.first_name = "安全", "守"
    security.save()
    app = make_application()
    workflow.perform(app, Step.SUBMIT, applicant)
    workflow.perform(app, Step.REJECT, security, "3A の情報は外部サービスで扱えません。")
    page = login(applicant).get(reverse("register:detail", args=[app.pk])).content.decode()
    notice = page.index("却下の理由")
    block = page[notice : notice + 600]
    assert "3A の情報は外部サービスで扱えません。" in block and "安全" in block
    assert notice < page.index('id="facts-heading"')
    assert 'class="notice reviewer-comment danger"' in page
