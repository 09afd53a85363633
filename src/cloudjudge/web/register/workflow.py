"""The lifecycle of an application, as a table of transitions with guards.

下書き → 申請中 → 差戻し / 却下 / 承認 → 利用中 → 見直し期限 → 利用終了手続中 → 終了

Each transition names the statuses it leaves, the status it reaches, the
roles that may take it and the guards that must hold. ``perform`` is the only
code that changes an application's status; it records a :class:`StatusChange`
(and a :class:`Review` for review decisions). The guards:

* a ``prohibited`` verdict cannot be approved;
* a verdict that needs the CISO cannot reach 利用中 without the CISO's approval
  (the CISO approving from 申請中, or ``ciso_approve`` after the security
  office's approval);
* nobody approves their own application;
* 終了 needs EXIT-1..3 completed (and EXIT-2 a deletion certificate file).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cloudjudge.labels import VERDICT_LABELS
from cloudjudge.web.accounts.models import Role, User
from cloudjudge.web.audit import reconcile
from cloudjudge.web.audit.models import Action
from cloudjudge.web.audit.trail import changes, record, snapshot
from cloudjudge.web.register import checklist, permissions
from cloudjudge.web.register.models import (
    Application,
    Evidence,
    ExitStep,
    ExitStepCode,
    ItemStatus,
    Judgement,
    Review,
    ReviewAction,
    Status,
    StatusChange,
    Verdict,
)


class WorkflowError(Exception):
    """An action that cannot be taken: ``message`` says why, for the user (in
    the active language); ``code`` says it for programs (e.g. the guard's name)."""

    def __init__(self, message, code: str = ""):
        self.message = message
        self.code = code
        super().__init__(str(message))


class NotAllowed(WorkflowError):
    """Not this user's to do, or not from this status (HTTP 403)."""


class GuardFailed(WorkflowError):
    """Allowed in principle, but the application's state forbids it now."""


class Step(models.TextChoices):
    SUBMIT = "submit", _("Submit")
    APPROVE = "approve", _("Approve")
    CISO_APPROVE = "ciso_approve", _("CISO approval")
    RETURN = "return", _("Return for changes")
    REJECT = "reject", _("Reject")
    START_USE = "start_use", _("Start use")
    MARK_REVIEW_DUE = "mark_review_due", _("Review date reached")
    MARK_NEEDS_REVIEW = "mark_needs_review", _("Verdict got worse")
    REVIEW_DONE = "review_done", _("Yearly review done")
    BEGIN_EXIT = "begin_exit", _("Begin ending the service")
    END = "end", _("End the service")


#: Why a step is refused, as the user reads it (translated lazily).
Reason = str | Promise
Guard = Callable[[Application, User | None], Reason | None]


# --------------------------------------------------------------------------- guards


def not_prohibited(application: Application, actor: User | None) -> Reason | None:
    if application.verdict == Verdict.PROHIBITED:
        return _("The verdict is prohibited: this application cannot be approved.")
    return None


def not_own_application(application: Application, actor: User | None) -> Reason | None:
    if actor is not None and actor.pk == application.applicant_id:
        return _("Nobody approves their own application.")
    return None


def needs_ciso(application: Application, actor: User | None) -> Reason | None:
    if not application.needs_ciso_approval:
        return _("This application does not need the CISO's approval.")
    if application.ciso_approved_at is not None:
        return _("The CISO has already approved this application.")
    return None


def ciso_approval_given(application: Application, actor: User | None) -> Reason | None:
    if application.needs_ciso_approval and application.ciso_approved_at is None:
        return _("The CISO's approval is required before the service can be put into use.")
    return None


def judged(application: Application, actor: User | None) -> Reason | None:
    if application.latest_judgement_id is None:
        return _("The application has not been judged yet.")
    return None


def exit_complete(application: Application, actor: User | None) -> Reason | None:
    done = {s.step for s in application.exit_steps.all() if s.done}
    missing = [code for code in ExitStepCode.values if code not in done]
    if missing:
        return _("Complete %(steps)s before ending the service.") % {"steps": ", ".join(missing)}
    return None


# --------------------------------------------------------------------------- table


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    guards: tuple[Guard, ...] = ()
    comment_required: bool = False
    review: str | None = None  # the ReviewAction recorded, if a review decision
    danger: bool = False
    apply: Callable[[Application, User | None], None] | None = field(default=None)

    @property
    def label(self) -> str:
        return Step(self.action).label


def review_interval() -> datetime.timedelta:
    return datetime.timedelta(days=settings.CLOUDJUDGE_REVIEW_INTERVAL_DAYS)


def _on_submit(application: Application, actor: User | None) -> None:
    application.submitted_at = timezone.now()
    application.approved_at = application.approved_by = None
    application.ciso_approved_at = application.ciso_approved_by = None


def _on_approve(application: Application, actor: User | None) -> None:
    application.approved_at = timezone.now()
    application.approved_by = actor
    if actor is not None and actor.role == Role.CISO and application.needs_ciso_approval:
        # The CISO's own approval is the CISO approval the verdict asks for.
        application.ciso_approved_at = application.approved_at
        application.ciso_approved_by = actor


def _on_ciso_approve(application: Application, actor: User | None) -> None:
    application.ciso_approved_at = timezone.now()
    application.ciso_approved_by = actor


def _on_start_use(application: Application, actor: User | None) -> None:
    today = timezone.localdate()
    application.in_use_since = today
    application.review_due = today + review_interval()


def _on_review_done(application: Application, actor: User | None) -> None:
    application.review_due = timezone.localdate() + review_interval()


def _on_begin_exit(application: Application, actor: User | None) -> None:
    for code in ExitStepCode.values:
        ExitStep.objects.get_or_create(application=application, step=code)


def _on_end(application: Application, actor: User | None) -> None:
    application.ended_at = timezone.now()
    application.review_due = None  # an ended service has no yearly review


DEPARTMENT = frozenset({Role.APPLICANT})  # applicants act only within their department
REVIEWERS = frozenset({Role.SECURITY, Role.CISO})
OPERATORS = frozenset({Role.APPLICANT, Role.SECURITY})
IN_SERVICE = frozenset({Status.IN_USE, Status.REVIEW_DUE})
#: Where a verdict that gets worse sends the application to 見直しが必要: once it
#: has been submitted, until it ends (a draft or a returned one is simply re-judged).
WORSENING_WATCHED = frozenset({Status.SUBMITTED, Status.APPROVED, *IN_SERVICE})

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition(
            Step.SUBMIT,
            frozenset({Status.DRAFT, Status.RETURNED}),
            Status.SUBMITTED,
            DEPARTMENT,
            guards=(judged,),
            apply=_on_submit,
        ),
        Transition(
            Step.APPROVE,
            frozenset({Status.SUBMITTED}),
            Status.APPROVED,
            REVIEWERS,
            guards=(not_prohibited, not_own_application),
            review=ReviewAction.APPROVE,
            apply=_on_approve,
        ),
        Transition(
            # After the security office's approval; from 申請中 the CISO just approves.
            Step.CISO_APPROVE,
            frozenset({Status.APPROVED}),
            Status.APPROVED,
            frozenset({Role.CISO}),
            guards=(not_prohibited, not_own_application, needs_ciso),
            review=ReviewAction.CISO_APPROVE,
            apply=_on_ciso_approve,
        ),
        Transition(
            Step.RETURN,
            frozenset({Status.SUBMITTED, Status.APPROVED}),
            Status.RETURNED,
            REVIEWERS,
            comment_required=True,
            review=ReviewAction.RETURN,
        ),
        Transition(
            Step.REJECT,
            frozenset({Status.SUBMITTED, Status.APPROVED}),
            Status.REJECTED,
            REVIEWERS,
            comment_required=True,
            review=ReviewAction.REJECT,
            danger=True,
        ),
        Transition(
            Step.START_USE,
            frozenset({Status.APPROVED}),
            Status.IN_USE,
            OPERATORS,
            guards=(not_prohibited, ciso_approval_given),
            apply=_on_start_use,
        ),
        Transition(
            Step.MARK_REVIEW_DUE,
            frozenset({Status.IN_USE}),
            Status.REVIEW_DUE,
            frozenset(),  # the system, when the date comes (mark_reviews_due)
        ),
        Transition(
            Step.MARK_NEEDS_REVIEW,
            WORSENING_WATCHED,
            Status.NEEDS_REVIEW,
            frozenset(),  # the system, when a judgement's verdict gets worse
        ),
        Transition(
            Step.REVIEW_DONE,
            IN_SERVICE,
            Status.IN_USE,
            OPERATORS,
            apply=_on_review_done,
        ),
        Transition(
            Step.BEGIN_EXIT,
            IN_SERVICE,
            Status.ENDING,
            OPERATORS,
            apply=_on_begin_exit,
        ),
        Transition(
            Step.END,
            frozenset({Status.ENDING}),
            Status.ENDED,
            OPERATORS,
            guards=(exit_complete,),
            apply=_on_end,
            danger=True,
        ),
    )
}

EXIT_ROLES = OPERATORS


# --------------------------------------------------------------------------- checks


def _may_act(application: Application, actor: User | None, roles: frozenset[str]) -> bool:
    if actor is None or not actor.is_active or actor.role not in roles:
        return False
    if actor.role == Role.APPLICANT:
        return permissions.in_department(actor, application)
    return permissions.can_view(actor, application)


def _first_failing(
    application: Application, actor: User | None, transition: Transition
) -> tuple[str, Reason] | None:
    for guard in transition.guards:
        reason = guard(application, actor)
        if reason:
            return guard.__name__, reason
    return None


def blocked_by(
    application: Application, actor: User | None, transition: Transition
) -> Reason | None:
    """Why ``transition`` cannot be taken now (the first failing guard), or None."""
    failing = _first_failing(application, actor, transition)
    return failing[1] if failing else None


def check(application: Application, action: str, actor: User | None) -> Transition:
    """The transition, if ``actor`` may take it now; else :class:`WorkflowError`."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise NotAllowed(_("Unknown action."), "unknown_action")
    if application.status not in transition.sources:
        raise NotAllowed(
            _("This action is not possible while the application is %(status)s.")
            % {"status": application.get_status_display()},
            "wrong_status",
        )
    if not _may_act(application, actor, transition.roles):
        raise NotAllowed(_("Your role may not take this action on this application."), "role")
    failing = _first_failing(application, actor, transition)
    if failing:
        raise GuardFailed(failing[1], failing[0])
    return transition


def available_actions(
    application: Application, actor: User | None
) -> list[tuple[Transition, Reason | None]]:
    """The actions ``actor``'s role may take from the current status, each with
    the reason it is blocked now (None if it can be taken)."""
    return [
        (t, blocked_by(application, actor, t))
        for t in TRANSITIONS.values()
        if application.status in t.sources and _may_act(application, actor, t.roles)
    ]


#: Review decisions the audit trail records as approvals rather than plain state changes.
_APPROVALS = frozenset({ReviewAction.APPROVE, ReviewAction.CISO_APPROVE})
#: What a transition may change: the audit trail records those that did, before and after.
RECORDED_FIELDS = (
    "status",
    "submitted_at",
    "approved_by",
    "approved_at",
    "ciso_approved_by",
    "ciso_approved_at",
    "in_use_since",
    "review_due",
    "ended_at",
)


def _record(
    application: Application, transition: Transition, actor: User | None, comment: str
) -> StatusChange:
    before = application.status
    recorded = snapshot(application, RECORDED_FIELDS)
    if transition.apply:
        transition.apply(application, actor)
    application.status = transition.target
    application.save()
    review = None
    if transition.review:
        decision = transition.review
        if decision == ReviewAction.APPROVE and application.ciso_approved_by_id == getattr(
            actor, "pk", None
        ):
            decision = ReviewAction.CISO_APPROVE
        review = Review.objects.create(
            application=application,
            judgement_id=application.latest_judgement_id,
            actor=actor,
            action=decision,
            comment=comment,
        )
    diff = changes(recorded, snapshot(application, RECORDED_FIELDS))
    record(
        Action.APPROVAL if transition.review in _APPROVALS else Action.STATE_CHANGE,
        actor=actor,
        obj=application,
        before=diff.before,
        after=diff.after,
        extra={"action": transition.action, "review": transition.review or "", "comment": comment},
    )
    if review is not None:
        record(Action.CREATE, actor=actor, obj=review, after=reconcile.state(review))
    return StatusChange.objects.create(
        application=application,
        action=transition.action,
        from_status=before,
        to_status=transition.target,
        actor=actor,
        comment=comment,
    )


@transaction.atomic
def perform(application: Application, action: str, actor: User, comment: str = "") -> StatusChange:
    """Take ``action`` on ``application`` as ``actor`` (UI, API and commands alike)."""
    Application.objects.select_for_update().filter(pk=application.pk).first()
    application.refresh_from_db()
    comment = (comment or "").strip()
    transition = check(application, action, actor)
    if transition.comment_required and not comment:
        raise GuardFailed(_("A comment is required for this action."), "comment_required")
    return _record(application, transition, actor, comment)


def mark_reviews_due(today: datetime.date | None = None) -> int:
    """Move applications in use whose review date has come to 見直し期限.
    Run daily (the reminders command calls it); returns how many moved."""
    today = today or timezone.localdate()
    transition = TRANSITIONS[Step.MARK_REVIEW_DUE]
    moved = 0
    due = Application.objects.filter(status=Status.IN_USE, review_due__lte=today)
    for application in due.iterator():
        with transaction.atomic():
            _record(application, transition, None, "")
        moved += 1
    return moved


#: From least to most severe.
VERDICT_RANK: dict[str, int] = {
    Verdict.PERMITTED: 0,
    Verdict.APPROVAL_REQUIRED: 1,
    Verdict.PROHIBITED: 2,
}


def mark_needs_review_if_worse(
    application: Application, previous: Judgement | None, current: Judgement, actor: User | None
) -> bool:
    """Move ``application`` to 見直しが必要 when ``current``'s verdict is worse than
    ``previous``'s (judge_application calls this); returns whether it moved."""
    if previous is None or application.status not in WORSENING_WATCHED:
        return False
    if VERDICT_RANK[current.verdict] <= VERDICT_RANK[previous.verdict]:
        return False
    comment = (
        f"判断基準 {current.criteria_version} による判定が "
        f"{VERDICT_LABELS[previous.verdict]} から {VERDICT_LABELS[current.verdict]} に変わりました"
    )
    _record(application, TRANSITIONS[Step.MARK_NEEDS_REVIEW], actor, comment)
    return True


# --------------------------------------------------------------------------- exit walk


def check_exit_step(application: Application, step: str, actor: User | None) -> ExitStep:
    if application.status != Status.ENDING:
        raise NotAllowed(
            _("Exit steps are recorded while the service is being ended."), "wrong_status"
        )
    if not _may_act(application, actor, EXIT_ROLES):
        raise NotAllowed(_("Your role may not take this action on this application."), "role")
    try:
        return application.exit_steps.get(step=step)
    except ExitStep.DoesNotExist:
        raise NotAllowed(_("Unknown exit step."), "unknown_step") from None


@transaction.atomic
def complete_exit_step(
    application: Application, step: str, actor: User, note: str = ""
) -> ExitStep:
    """Record EXIT-1..3 as done, and tick the checklist row of the same ID.
    EXIT-2 needs the deletion certificate already stored as evidence of that
    step (``evidence.store(..., exit_step="EXIT-2")``)."""
    exit_step = check_exit_step(application, step, actor)
    if exit_step.done:
        raise GuardFailed(_("This step is already complete."), "step_done")
    if (
        step == ExitStepCode.EXIT_2
        and not Evidence.objects.filter(application=application, exit_step=step).exists()
    ):
        raise GuardFailed(
            _("Upload the deletion certificate to complete EXIT-2."), "certificate_missing"
        )
    exit_step.done_at = timezone.now()
    exit_step.done_by = actor
    exit_step.note = (note or "").strip()
    exit_step.save()
    record(
        Action.UPDATE,
        actor=actor,
        obj=exit_step,
        after=snapshot(exit_step, ("done_at", "done_by", "note")),
        extra={"step": step},
    )
    _tick_exit_item(application, exit_step, actor)
    return exit_step


#: The note left on the checklist row an exit step completes (stored data, in Japanese).
EXIT_ITEM_NOTE = "利用終了手続で完了（{date:%Y-%m-%d}）"


def _tick_exit_item(application: Application, exit_step: ExitStep, actor: User) -> None:
    """Mark the active checklist row of the same ID (EXIT-1..3) as done,
    through ``checklist.update_item`` so the change is audited like any other.
    A row already resolved (done, or not applicable with its reason) is left
    as the department recorded it."""
    item = application.checklist_items.filter(item_id=exit_step.step, active=True).first()
    if item is None or item.resolved:
        return
    line = EXIT_ITEM_NOTE.format(date=timezone.localdate(exit_step.done_at))
    note = f"{item.note.rstrip()}\n{line}" if item.note.strip() else line
    checklist.update_item(item, actor, status=ItemStatus.DONE, note=note)
