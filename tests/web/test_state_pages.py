"""The pages around one state: a prohibited submission warns first with its
remedies, the reviewer's reason sits at the top, the dashboard opens with the
signed-in role's work, and a worse re-judgement shows its red notice."""

import pytest
from django.urls import reverse
from tests.web.test_views import form_data

from cloudjudge.web.register import workflow
from cloudjudge.web.register.models import Application, Status
from cloudjudge.web.register.workflow import Step

pytestmark = pytest.mark.django_db


def test_a_prohibited_submission_warns_first_and_shows_the_remedies(login, applicant):
    client = login(applicant)
    # 3B over the internet PC method without a ground: prohibited.
    data = form_data(save=None, submit="1", method="internet_pc", breakout_usage="")
    response = client.post(reverse("register:create"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "判定は「禁止」です。このままでは承認されません。" in page
    assert 'class="remedies"' in page and "⇒" in page  # what would change the verdict
    app = Application.objects.get()
    assert app.status == Status.DRAFT  # saved, not submitted
    # Submitting anyway is the applicant's explicit choice.
    client.post(reverse("register:action", args=[app.pk]), {"action": "submit", "confirmed": "1"})
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED


def test_the_reviewers_reason_is_at_the_top_of_the_page_and_the_edit_form(
    login, make_application, applicant, security
):
    app = make_application()
    workflow.perform(app, Step.SUBMIT, applicant)
    workflow.perform(app, Step.RETURN, security, "利用目的をもっと具体的に書いてください。")
    client = login(applicant)
    for url in (reverse("register:detail", args=[app.pk]), reverse("register:edit", args=[app.pk])):
        page = client.get(url).content.decode()
        notice = page.index("差戻しの理由")
        assert "利用目的をもっと具体的に書いてください。" in page[notice : notice + 400]
        work = 'id="facts-heading"' if 'id="facts-heading"' in page else 'class="appform"'
        assert notice < page.index(work)  # above everything the user works on
    assert (
        "差戻し・申請者の修正待ち"
        in client.get(reverse("register:detail", args=[app.pk])).content.decode()
    )


def test_the_dashboard_opens_with_the_roles_work(
    login, make_application, applicant, security, ciso
):
    draft = make_application(purpose="下書きのまま")
    submitted = make_application()
    workflow.perform(submitted, Step.SUBMIT, applicant)
    needs_ciso = make_application(
        confidentiality="3B", method="internet_pc", breakout_usage="", limited_external_sharing=True
    )
    workflow.perform(needs_ciso, Step.SUBMIT, applicant)
    workflow.perform(needs_ciso, Step.APPROVE, security, "確認しました")

    def work(user) -> str:
        page = login(user).get(reverse("register:dashboard")).content.decode()
        start = page.index("あなたの対応が必要な申請")
        return page[start : page.index("</section>", start)]

    mine = work(applicant)
    assert draft.number in mine and submitted.number not in mine and needs_ciso.number not in mine
    assert "下書き・申請者" in mine
    office = work(security)
    assert submitted.number in office and draft.number not in office
    assert "申請中・セキュリティ担当の確認待ち" in office
    top = work(ciso)
    assert needs_ciso.number in top and submitted.number not in top
    assert "セキュリティ担当確認済・統括情報セキュリティ責任者の承認待ち" in top


def test_a_worse_verdict_shows_a_red_notice_and_is_on_the_security_dashboard(
    login, make_application, applicant, security
):
    app = make_application()
    workflow.perform(app, Step.SUBMIT, applicant)
    workflow.perform(app, Step.APPROVE, security, "確認しました")
    app.checklist_items.update(status="done")
    workflow.perform(app, Step.START_USE, applicant)
    assert workflow.mark_needs_review_if_worse(app, "permitted", "approval_required", None)
    page = login(applicant).get(reverse("register:detail", args=[app.pk])).content.decode()
    assert 'class="notice danger worse-verdict"' in page
    assert "判定が「利用可」から「承認が必要」に変わりました。" in page
    assert "見直しが必要（判定が変わりました）" in page
    board = login(security).get(reverse("register:dashboard")).content.decode()
    start = board.index("あなたの対応が必要な申請")
    assert app.number in board[start : board.index("</section>", start)]
    # Until someone acts: the security office confirms continued use.
    workflow.perform(app, Step.CONFIRM_USE, security, "影響なしを確認")
    board = login(security).get(reverse("register:dashboard")).content.decode()
    start = board.index("あなたの対応が必要な申請")
    assert app.number not in board[start : board.index("</section>", start)]
