"""The lifecycle and every guard, through ``workflow.perform`` as the UI and
the API use it."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cloudjudge.web.accounts.models import Role
from cloudjudge.web.register import checklist, evidence, workflow
from cloudjudge.web.register.models import ItemStatus, Review, Status
from cloudjudge.web.register.workflow import GuardFailed, NotAllowed, Step

pytestmark = pytest.mark.django_db

STORAGE_OVER_INTERNET_PC = {
    "confidentiality": "3B",
    "method": "internet_pc",
    "breakout_usage": "",
    "limited_external_sharing": True,
}


@pytest.fixture
def submitted(make_application, applicant):
    def make(**facts):
        app = make_application(**facts)
        workflow.perform(app, Step.SUBMIT, applicant)
        return app

    return make


def test_the_whole_lifecycle(submitted, applicant, security, settings):
    settings.CLOUDJUDGE_REVIEW_INTERVAL_DAYS = 200
    app = submitted()
    assert app.status == Status.SUBMITTED and app.submitted_at
    workflow.perform(app, Step.APPROVE, security, "確認しました")
    assert (app.status, app.approved_by) == (Status.APPROVED, security)
    app.checklist_items.update(status="done")  # 利用開始 needs them resolved
    workflow.perform(app, Step.START_USE, applicant)
    today = timezone.localdate()
    assert app.status == Status.IN_USE
    assert app.review_due == today + datetime.timedelta(days=200)

    assert workflow.mark_reviews_due(today + datetime.timedelta(days=199)) == 0
    assert workflow.mark_reviews_due(today + datetime.timedelta(days=200)) == 1
    app.refresh_from_db()
    assert app.status == Status.REVIEW_DUE
    workflow.perform(app, Step.REVIEW_DONE, applicant, "年次見直し完了")
    assert app.status == Status.IN_USE

    workflow.perform(app, Step.BEGIN_EXIT, applicant)
    assert app.status == Status.ENDING
    assert sorted(app.exit_steps.values_list("step", flat=True)) == ["EXIT-1", "EXIT-2", "EXIT-3"]
    workflow.complete_exit_step(app, "EXIT-1", applicant, "CSV 出力")
    cert = SimpleUploadedFile("証明書.pdf", b"%PDF-1.4 certificate")
    evidence.store(app, cert, applicant, exit_step="EXIT-2")
    workflow.complete_exit_step(app, "EXIT-2", applicant)
    workflow.complete_exit_step(app, "EXIT-3", security, "廃棄確認")
    workflow.perform(app, Step.END, applicant)
    assert app.status == Status.ENDED and app.ended_at
    trail = list(app.status_changes.values_list("from_status", "to_status"))
    assert trail == [
        ("draft", "submitted"),
        ("submitted", "approved"),
        ("approved", "in_use"),
        ("in_use", "review_due"),
        ("review_due", "in_use"),
        ("in_use", "ending"),
        ("ending", "ended"),
    ]
    assert list(Review.objects.filter(application=app).values_list("action", flat=True)) == [
        "approve"
    ]


def test_a_prohibited_application_cannot_be_approved(submitted, security, ciso):
    app = submitted(confidentiality="3A")
    assert app.verdict == "prohibited"
    for reviewer in (security, ciso):
        with pytest.raises(GuardFailed) as refused:
            workflow.perform(app, Step.APPROVE, reviewer)
        assert refused.value.code == "not_prohibited"
        assert "禁止" in str(refused.value.message)  # Japanese first
    workflow.perform(app, Step.REJECT, security, "3A は外部サービスで扱えません")
    assert app.status == Status.REJECTED


def test_approval_required_needs_the_ciso_before_use(submitted, applicant, security, ciso):
    app = submitted(**STORAGE_OVER_INTERNET_PC)
    assert (app.verdict, app.needs_ciso_approval) == ("approval_required", True)
    workflow.perform(app, Step.APPROVE, security)
    with pytest.raises(GuardFailed) as refused:
        workflow.perform(app, Step.START_USE, applicant)
    assert refused.value.code == "ciso_approval_given"
    with pytest.raises(NotAllowed):
        workflow.perform(app, Step.CISO_APPROVE, security)  # only the CISO
    workflow.perform(app, Step.CISO_APPROVE, ciso, "承認")
    assert app.ciso_approved_by == ciso
    app.checklist_items.update(status="done")  # 利用開始 needs them resolved
    workflow.perform(app, Step.START_USE, applicant)
    assert app.status == Status.IN_USE


def test_the_cisos_own_approval_is_the_ciso_approval(submitted, applicant, ciso):
    app = submitted(**STORAGE_OVER_INTERNET_PC)
    with pytest.raises(NotAllowed):
        workflow.perform(app, Step.CISO_APPROVE, ciso)  # from 申請中 the CISO approves
    workflow.perform(app, Step.APPROVE, ciso, "承認")
    assert (app.status, app.approved_by, app.ciso_approved_by) == (Status.APPROVED, ciso, ciso)
    assert app.reviews.get().action == "ciso_approve"
    with pytest.raises(GuardFailed) as refused:
        workflow.perform(app, Step.CISO_APPROVE, ciso)  # once is enough
    assert refused.value.code == "needs_ciso"
    app.checklist_items.update(status="done")  # 利用開始 needs them resolved
    workflow.perform(app, Step.START_USE, applicant)
    assert app.status == Status.IN_USE


def test_ciso_approval_is_only_for_applications_that_need_it(submitted, security, ciso):
    app = submitted()
    workflow.perform(app, Step.APPROVE, security)
    with pytest.raises(GuardFailed) as refused:
        workflow.perform(app, Step.CISO_APPROVE, ciso)
    assert refused.value.code == "needs_ciso"


def test_resubmitting_clears_earlier_approvals(submitted, applicant, security, ciso):
    app = submitted(**STORAGE_OVER_INTERNET_PC)
    workflow.perform(app, Step.APPROVE, ciso)
    workflow.perform(app, Step.RETURN, security, "証明資料を添付してください")
    workflow.perform(app, Step.SUBMIT, applicant)
    assert app.ciso_approved_at is None and app.approved_at is None


def test_nobody_approves_their_own_application(make_application, make_user, security):
    # Someone who applied, then became a reviewer, still cannot approve their own.
    author = make_user(Role.APPLICANT)
    app = make_application(user=author, **STORAGE_OVER_INTERNET_PC)
    workflow.perform(app, Step.SUBMIT, author)
    author.role = Role.SECURITY
    author.save()
    with pytest.raises(GuardFailed) as refused:
        workflow.perform(app, Step.APPROVE, author)
    assert refused.value.code == "not_own_application"
    blocked = {t.action: reason for t, reason in workflow.available_actions(app, author)}
    assert blocked[Step.APPROVE] == refused.value.message
    workflow.perform(app, Step.APPROVE, security)
    author.role = Role.CISO
    author.save()
    with pytest.raises(GuardFailed) as refused:
        workflow.perform(app, Step.CISO_APPROVE, author)
    assert refused.value.code == "not_own_application"


@pytest.mark.parametrize("action", [Step.RETURN, Step.REJECT])
def test_return_and_reject_need_a_comment(submitted, security, action):
    app = submitted()
    with pytest.raises(GuardFailed) as refused:
        workflow.perform(app, action, security, "   ")
    assert refused.value.code == "comment_required"
    assert app.status == Status.SUBMITTED


def test_roles_and_statuses_are_enforced(
    submitted, make_application, applicant, colleague, outsider, security, auditor, admin_user
):
    draft = make_application()
    for actor in (security, auditor, admin_user, outsider):
        with pytest.raises(NotAllowed):
            workflow.perform(draft, Step.SUBMIT, actor)
    workflow.perform(draft, Step.SUBMIT, colleague)  # same department
    with pytest.raises(NotAllowed):
        workflow.perform(draft, Step.SUBMIT, applicant)  # not from submitted
    for actor in (applicant, auditor, admin_user):
        with pytest.raises(NotAllowed):
            workflow.perform(draft, Step.APPROVE, actor)
    with pytest.raises(NotAllowed):
        workflow.perform(draft, Step.START_USE, applicant)  # not approved yet
    with pytest.raises(NotAllowed):
        workflow.perform(draft, Step.MARK_REVIEW_DUE, security)  # the system's
    assert [t.action for t, _ in workflow.available_actions(draft, auditor)] == []
    assert {t.action for t, _ in workflow.available_actions(draft, security)} == {
        Step.APPROVE,
        Step.RETURN,
        Step.REJECT,
    }


def test_ending_needs_exit_1_to_3(submitted, applicant, security):
    app = submitted()
    workflow.perform(app, Step.APPROVE, security)
    app.checklist_items.update(status="done")  # 利用開始 needs them resolved
    workflow.perform(app, Step.START_USE, applicant)
    with pytest.raises(NotAllowed):
        workflow.complete_exit_step(app, "EXIT-1", applicant)  # not ending yet
    workflow.perform(app, Step.BEGIN_EXIT, applicant)
    with pytest.raises(GuardFailed, match="EXIT-1, EXIT-2, EXIT-3") as refused:
        workflow.perform(app, Step.END, applicant)
    assert refused.value.code == "exit_complete"
    workflow.complete_exit_step(app, "EXIT-1", applicant)
    workflow.complete_exit_step(app, "EXIT-3", applicant)
    with pytest.raises(GuardFailed) as refused:
        workflow.complete_exit_step(app, "EXIT-2", applicant)
    assert refused.value.code == "certificate_missing"
    with pytest.raises(GuardFailed, match="EXIT-2"):
        workflow.perform(app, Step.END, applicant)
    evidence.store(app, SimpleUploadedFile("cert.pdf", b"%PDF-1.4"), applicant, exit_step="EXIT-2")
    workflow.complete_exit_step(app, "EXIT-2", applicant)
    with pytest.raises(GuardFailed):
        workflow.complete_exit_step(app, "EXIT-2", applicant)  # already done
    workflow.perform(app, Step.END, applicant)
    assert app.status == Status.ENDED


def test_not_applicable_needs_a_reason(make_application, applicant):
    row = make_application().checklist_items.first()
    with pytest.raises(ValidationError) as excinfo:
        checklist.update_item(row, applicant, status=ItemStatus.NOT_APPLICABLE, na_reason="  ")
    assert "na_reason" in excinfo.value.message_dict
    row.refresh_from_db()
    assert row.status == ItemStatus.TODO
    checklist.update_item(
        row, applicant, status=ItemStatus.NOT_APPLICABLE, na_reason="対象機器なし"
    )
    row.refresh_from_db()
    assert (row.status, row.na_reason) == (ItemStatus.NOT_APPLICABLE, "対象機器なし")
    checklist.update_item(row, applicant, status=ItemStatus.DONE)
    row.refresh_from_db()
    assert row.na_reason == ""
