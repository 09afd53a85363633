"""One status line and one next actor per application (``workflow.state_of``),
the 見直しが必要 state a worse re-judgement leads to, and the conditional
approval that lets 利用開始 leave checklist rows open."""

import datetime
import itertools

import pytest
from django.utils import timezone

from cloudjudge.web.register import judging, workflow
from cloudjudge.web.register.models import Application, ItemStatus, Status, Verdict
from cloudjudge.web.register.workflow import Condition, GuardFailed, NotAllowed, Party, Step

pytestmark = pytest.mark.django_db

#: Words that each say a different stage; a line may carry at most one of them.
STAGE_WORDS = [
    "下書き",
    "差戻し",
    "申請中",
    "承認済",
    "確認済",
    "利用中",
    "見直し",
    "終了",
    "却下",
    "禁止",
]
APPROVAL_STATES = ["none", "security", "security+ciso", "ciso_only"]


def _application(status, verdict, approvals, needs_ciso, security, ciso, conditional=False):
    app = Application(status=status, verdict=verdict, needs_ciso_approval=needs_ciso)
    at = timezone.make_aware(datetime.datetime(2026, 12, 3, 10, 0))
    if conditional:
        app.conditionally_approved_at = at + datetime.timedelta(hours=2)
        app.conditionally_approved_by = security
    if approvals in ("security", "security+ciso"):
        app.approved_at, app.approved_by = at, security
    if approvals == "security+ciso":
        app.ciso_approved_at, app.ciso_approved_by = at + datetime.timedelta(hours=1), ciso
    if approvals == "ciso_only":
        app.approved_at, app.approved_by = at, ciso
        app.ciso_approved_at, app.ciso_approved_by = at, ciso
    return app


def test_every_state_verdict_and_approval_has_exactly_one_consistent_line(security, ciso):
    security.last_name, security.first_name = "鈴木", "一郎"
    ciso.last_name, ciso.first_name = "堺", "太郎"
    seen = 0
    for status, verdict, approvals, needs_ciso, conditional in itertools.product(
        Status.values, [*Verdict.values, ""], APPROVAL_STATES, [False, True], [False, True]
    ):
        app = _application(status, verdict, approvals, needs_ciso, security, ciso, conditional)
        state = workflow.state_of(app)
        line = str(state.line)
        word = str(workflow.verdict_word(app))  # the verdict badge beside the line
        case = (status, verdict, approvals, needs_ciso, conditional, line, word)
        assert line and "\n" not in line, case
        assert state.next_actor in Party.values, case
        stages = [w for w in STAGE_WORDS if w in line]
        assert len(stages) == 1, case  # one stage, never two that contradict
        if "承認済" in line:  # the badge beside it does not say the approval is needed
            assert "必要" not in word and "待ち" not in word, case
        if line.startswith("禁止"):
            assert word == "禁止", case
        if "承認待ち" in line or status in workflow.UNAPPROVED:
            assert "承認を得て" not in word, case  # no approval claimed before it is given
        if verdict == Verdict.PROHIBITED and status in (Status.SUBMITTED, Status.APPROVED):
            assert line == "禁止（承認できません）" and state.next_actor == Party.SECURITY, case
        if "承認済" in line:
            assert "待ち" not in line and "必要" not in line, case  # given, not needed
            assert verdict != Verdict.PROHIBITED, case
        if status == Status.APPROVED and verdict != Verdict.PROHIBITED:
            if needs_ciso and approvals in ("none", "security"):
                assert line == "セキュリティ担当確認済・統括情報セキュリティ責任者の承認待ち", case
                assert state.next_actor == Party.CISO
            elif approvals in ("security+ciso", "ciso_only"):
                assert line == "承認済（統括承認 令和8年12月3日 堺 太郎）", case
                assert state.next_actor == Party.APPLICANT
        if status == Status.NEEDS_REVIEW:
            assert line == "見直しが必要（判定が変わりました）"
            assert state.next_actor == (Party.CISO if needs_ciso else Party.SECURITY)
        seen += 1
    assert seen == len(Status.values) * 4 * 4 * 2 * 2


def test_the_verdict_word_once_the_ciso_has_approved(security, ciso):
    def word(status, approvals):
        app = _application(status, Verdict.APPROVAL_REQUIRED, approvals, True, security, ciso)
        return str(workflow.verdict_word(app))

    assert word(Status.SUBMITTED, "none") == "承認が必要"
    assert word(Status.APPROVED, "security") == "承認が必要"  # the CISO's is still awaited
    for status in (Status.APPROVED, Status.IN_USE, Status.ENDED):
        assert word(status, "security+ciso") == "統括承認を得て利用可"
    # Returned after the approval: the approval no longer holds.
    assert word(Status.RETURNED, "security+ciso") == "承認が必要"
    assert str(workflow.verdict_word(Application(verdict=""))) == "未判定"


def test_steps_that_can_never_be_taken_are_not_offered(make_application, applicant, security, ciso):
    def offered(app, actor):
        return {t.action: reason for t, reason in workflow.available_actions(app, actor)}

    prohibited = make_application(confidentiality="3A")
    assert prohibited.verdict == Verdict.PROHIBITED
    workflow.perform(prohibited, Step.SUBMIT, applicant)
    # 禁止（承認できません）: return or reject, never an approve button.
    for reviewer in (security, ciso):
        assert set(offered(prohibited, reviewer)) == {Step.RETURN, Step.REJECT}
    with pytest.raises(GuardFailed) as refused:  # and a replayed POST is still refused
        workflow.perform(prohibited, Step.APPROVE, security)
    assert refused.value.code == "not_prohibited"

    exception = make_application(
        method="internet_pc", breakout_usage="", limited_external_sharing=True
    )
    workflow.perform(exception, Step.SUBMIT, applicant)
    workflow.perform(exception, Step.APPROVE, security, "確認しました")
    assert offered(exception, ciso)[Step.CISO_APPROVE] is None
    workflow.perform(exception, Step.CISO_APPROVE, ciso, "承認します")
    # Given once: no second, disabled 統括承認 button beside 承認済（統括承認 …）.
    assert Step.CISO_APPROVE not in offered(exception, ciso)
    assert Step.START_USE in offered(exception, applicant)  # blocked by the open rows only
    assert "件未完了" in str(offered(exception, applicant)[Step.START_USE])


@pytest.mark.parametrize(
    ("status", "line", "actor"),
    [
        (Status.DRAFT, "下書き・申請者", Party.APPLICANT),
        (Status.SUBMITTED, "申請中・セキュリティ担当の確認待ち", Party.SECURITY),
        (Status.RETURNED, "差戻し・申請者の修正待ち", Party.APPLICANT),
        (Status.IN_USE, "利用中", Party.NOBODY),
        (Status.REJECTED, "却下", Party.NOBODY),
    ],
)
def test_the_plain_lines(status, line, actor):
    state = workflow.state_of(Application(status=status, verdict=Verdict.PERMITTED))
    assert (str(state.line), state.next_actor) == (line, actor)


def test_the_approval_line_names_who_and_when(security):
    security.last_name, security.first_name = "鈴木", "一郎"
    app = _application(Status.APPROVED, Verdict.PERMITTED, "security", False, security, None)
    assert str(workflow.state_of(app).line) == "承認済（令和8年12月3日 鈴木 一郎）"
    given = workflow.approvals_given(app)
    assert [(str(a.label), a.date, a.by) for a in given] == [
        ("セキュリティ担当の承認", "令和8年12月3日", security)
    ]


def test_the_date_follows_the_city_setting(settings, security):
    settings.CLOUDJUDGE_DATE_STYLE = "seireki"
    app = _application(Status.APPROVED, Verdict.PERMITTED, "security", False, security, None)
    assert "2026年12月3日" in str(workflow.state_of(app).line)


# --------------------------------------------------------------------------- 見直しが必要


@pytest.fixture
def in_use(make_application, applicant, security):
    def make(**facts):
        app = make_application(**facts)
        workflow.perform(app, Step.SUBMIT, applicant)
        workflow.perform(app, Step.APPROVE, security, "確認しました")
        app.checklist_items.update(status=ItemStatus.DONE)
        workflow.perform(app, Step.START_USE, applicant)
        return app

    return make


def test_a_worse_verdict_moves_an_application_in_use_to_needs_review(
    in_use, applicant, make_user, security, mailoutbox, django_capture_on_commit_callbacks
):
    security.email = "security@city.example"
    security.save()
    applicant.email = "applicant@city.example"
    applicant.save()
    app = in_use()
    before = app.latest_judgement
    assert app.verdict == Verdict.PERMITTED
    # The facts change (e.g. corrected by the office): 3A may not leave the city.
    Application.objects.filter(pk=app.pk).update(confidentiality="3A")
    app.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        judging.judge_application(app, actor=security)
    app.refresh_from_db()
    assert app.status == Status.NEEDS_REVIEW
    assert app.verdict == Verdict.PROHIBITED
    assert app.judgements.filter(pk=before.pk).exists()  # the old judgement is kept
    notice = workflow.worse_verdict_notice(app)
    assert notice.comment == "判定が「利用可」から「禁止」に変わりました。"
    assert str(workflow.state_of(app).line) == "見直しが必要（判定が変わりました）"
    assert len(mailoutbox) == 1
    assert sorted(mailoutbox[0].to) == ["applicant@city.example", "security@city.example"]
    assert "見直しが必要" in mailoutbox[0].subject and app.number in mailoutbox[0].body
    # A prohibited verdict cannot simply be confirmed: return, reject or end.
    with pytest.raises(GuardFailed):
        workflow.perform(app, Step.CONFIRM_USE, security, "確認")
    workflow.perform(app, Step.RETURN, security, "3A は外部サービスで扱えません")
    assert app.status == Status.RETURNED


def test_an_equal_or_better_verdict_changes_nothing(in_use, security):
    app = in_use()
    assert (
        workflow.mark_needs_review_if_worse(app, "approval_required", "permitted", security)
        is False
    )
    assert workflow.mark_needs_review_if_worse(app, "permitted", "permitted", security) is False
    assert app.status == Status.IN_USE


def test_drafts_and_submitted_applications_are_not_sent_to_review(make_application, applicant):
    app = make_application()
    assert workflow.mark_needs_review_if_worse(app, "permitted", "prohibited", None) is False
    workflow.perform(app, Step.SUBMIT, applicant)
    assert workflow.mark_needs_review_if_worse(app, "permitted", "prohibited", None) is False
    assert app.status == Status.SUBMITTED


def test_the_security_office_confirms_continued_use(in_use, applicant, security, ciso):
    app = in_use()
    assert workflow.mark_needs_review_if_worse(app, "permitted", "approval_required", None)
    app.refresh_from_db()
    with pytest.raises(NotAllowed):
        workflow.perform(app, Step.CONFIRM_USE, applicant, "確認")  # not the department's call
    with pytest.raises(GuardFailed) as refused:
        workflow.perform(app, Step.CONFIRM_USE, security)
    assert refused.value.code == "comment_required"
    workflow.perform(app, Step.CONFIRM_USE, security, "影響を確認しました")
    assert app.status == Status.IN_USE


# --------------------------------------------------------------------------- conditional approval


@pytest.fixture
def approved(make_application, applicant, security):
    app = make_application()
    workflow.perform(app, Step.SUBMIT, applicant)
    workflow.perform(app, Step.APPROVE, security, "確認しました")
    return app


def test_start_use_is_refused_while_required_rows_are_open(approved, applicant):
    rows = workflow.open_rows(approved)
    assert rows
    with pytest.raises(GuardFailed) as refused:
        workflow.perform(approved, Step.START_USE, applicant)
    assert refused.value.code == "required_rows_resolved"
    assert f"{len(rows)} 件未完了" in str(refused.value.message)
    assert rows[0].item_id in str(refused.value.message)


def test_a_conditional_approval_lets_named_rows_stay_open(approved, applicant, security, colleague):
    rows = workflow.open_rows(approved)
    due = timezone.localdate() + datetime.timedelta(days=30)
    first, rest = rows[0], rows[1:]
    for item in rest:
        item.status = ItemStatus.DONE
        item.save()
    # Some rows still open and not named: still refused.
    extra = rows[1]
    extra.status = ItemStatus.TODO
    extra.save()
    workflow.approve_conditionally(
        approved, security, [Condition(first, colleague, due)], "条件付き"
    )
    with pytest.raises(GuardFailed):
        workflow.perform(approved, Step.START_USE, applicant)
    workflow.approve_conditionally(
        approved, security, [Condition(first, colleague, due), Condition(extra, applicant, due)]
    )
    workflow.perform(approved, Step.START_USE, applicant)
    approved.refresh_from_db()
    assert approved.status == Status.IN_USE
    first.refresh_from_db()
    assert (first.owner, first.due_date, first.open_under_condition) == (colleague, due, True)
    assert [str(a.label) for a in workflow.approvals_given(approved)] == [
        "セキュリティ担当の承認",
        "条件付き承認",
    ]


def test_a_conditional_approval_needs_owner_due_date_and_a_reviewer(
    approved, applicant, security, colleague
):
    item = workflow.open_rows(approved)[0]
    past = timezone.localdate() - datetime.timedelta(days=1)
    with pytest.raises(GuardFailed) as refused:
        workflow.approve_conditionally(approved, security, [Condition(item, colleague, past)])
    assert refused.value.code == "due_date"
    colleague.is_active = False
    colleague.save()
    future = timezone.localdate() + datetime.timedelta(days=5)
    with pytest.raises(GuardFailed) as refused:
        workflow.approve_conditionally(approved, security, [Condition(item, colleague, future)])
    assert refused.value.code == "owner"
    with pytest.raises(NotAllowed):
        workflow.approve_conditionally(approved, applicant, [Condition(item, applicant, future)])
    with pytest.raises(GuardFailed):
        workflow.approve_conditionally(approved, security, [])
