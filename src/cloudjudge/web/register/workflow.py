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
* 終了 needs EXIT-1..3 completed (and EXIT-2 a deletion certificate file);
* 利用開始 needs every required checklist row resolved, or left open under a
  conditional approval (an owner and a due date each);
* after a re-judgement made the verdict worse (見直しが必要) only the security
  office or the CISO confirms continued use, the CISO when the new verdict
  needs the CISO.

``state_of`` is the one place that says, for every application, the single
status line people read and the party who acts next: the register list, the
application page, the dashboard, the exports, the PDF, the API and the
e-mails all show it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cloudjudge.presentation.dates import DateStyle, format_date
from cloudjudge.web import figures
from cloudjudge.web.accounts.models import Role, User
from cloudjudge.web.audit import reconcile
from cloudjudge.web.audit.models import Action
from cloudjudge.web.audit.trail import changes, entry, record, record_many, snapshot
from cloudjudge.web.register import checklist, permissions
from cloudjudge.web.register.models import (
    OPEN_ITEM_STATUSES,
    Application,
    ChecklistItem,
    Evidence,
    ExitStep,
    ExitStepCode,
    ItemStatus,
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
    REVIEW_DONE = "review_done", _("Yearly review done")
    BEGIN_EXIT = "begin_exit", _("Begin ending the service")
    END = "end", _("End the service")
    MARK_NEEDS_REVIEW = "mark_needs_review", _("Verdict got worse")
    CONFIRM_USE = "confirm_use", _("Confirm continued use")


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
        return _(
            "The application cannot be judged until its required facts are filled in: "
            "edit it and fill them in."
        )
    return None


def required_rows_resolved(application: Application, actor: User | None) -> Reason | None:
    """利用開始 only with every required row resolved, or left open under a
    conditional approval with its owner and due date."""
    blocking = [item.item_id for item in unconditioned_open_rows(application)]
    if blocking:
        return _(
            "%(count)s required checklist rows are still open (%(items)s): complete them "
            "or record a conditional approval first."
        ) % {"count": len(blocking), "items": ", ".join(blocking[:10])}
    return None


def confirmer_for_verdict(application: Application, actor: User | None) -> Reason | None:
    if application.needs_ciso_approval and actor is not None and actor.role != Role.CISO:
        return _("The new verdict needs the CISO: only the CISO can confirm continued use.")
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
    application.conditionally_approved_at = application.conditionally_approved_by = None
    application.checklist_items.filter(open_under_condition=True).update(open_under_condition=False)


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


def _on_confirm_use(application: Application, actor: User | None) -> None:
    if actor is not None and actor.role == Role.CISO and application.needs_ciso_approval:
        application.ciso_approved_at = timezone.now()
        application.ciso_approved_by = actor


DEPARTMENT = frozenset({Role.APPLICANT})  # applicants act only within their department
REVIEWERS = frozenset({Role.SECURITY, Role.CISO})
OPERATORS = frozenset({Role.APPLICANT, Role.SECURITY})
IN_SERVICE = frozenset({Status.IN_USE, Status.REVIEW_DUE})

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
            frozenset({Status.SUBMITTED, Status.APPROVED, Status.NEEDS_REVIEW}),
            Status.RETURNED,
            REVIEWERS,
            comment_required=True,
            review=ReviewAction.RETURN,
        ),
        Transition(
            Step.REJECT,
            frozenset({Status.SUBMITTED, Status.APPROVED, Status.NEEDS_REVIEW}),
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
            guards=(not_prohibited, ciso_approval_given, required_rows_resolved),
            apply=_on_start_use,
        ),
        Transition(
            Step.MARK_REVIEW_DUE,
            frozenset({Status.IN_USE}),
            Status.REVIEW_DUE,
            frozenset(),  # the system, when the date comes (mark_reviews_due)
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
            IN_SERVICE | {Status.NEEDS_REVIEW},
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
        Transition(
            # The system, when a re-judgement makes the verdict worse.
            Step.MARK_NEEDS_REVIEW,
            frozenset({Status.APPROVED, Status.IN_USE, Status.REVIEW_DUE}),
            Status.NEEDS_REVIEW,
            frozenset(),
        ),
        Transition(
            Step.CONFIRM_USE,
            frozenset({Status.NEEDS_REVIEW}),
            Status.IN_USE,
            REVIEWERS,
            guards=(not_prohibited, not_own_application, confirmer_for_verdict),
            comment_required=True,
            apply=_on_confirm_use,
        ),
    )
}

#: Steps that cannot be undone: the page asks for confirmation first.
CONFIRMED_STEPS = frozenset(
    {
        Step.APPROVE,
        Step.CISO_APPROVE,
        Step.REJECT,
        Step.START_USE,
        Step.BEGIN_EXIT,  # 利用終了手続中 leads only to 終了
        Step.END,
        Step.CONFIRM_USE,
    }
)

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


#: Guards whose refusal no change to the checklist or the comment can lift:
#: a step they refuse is left off the page (and the API's action list) instead
#: of being shown disabled. The status line says why (禁止（承認できません）,
#: 承認済（統括承認 …）).
NOT_OFFERED = (not_prohibited, needs_ciso)


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
    the reason it is blocked now (None if it can be taken). A step that can
    never be taken as things stand is not offered at all (``NOT_OFFERED``):
    approving a prohibited application, the CISO's approval once given or
    when none is needed."""
    offered = []
    for t in TRANSITIONS.values():
        if application.status not in t.sources or not _may_act(application, actor, t.roles):
            continue
        if any(guard in t.guards and guard(application, actor) for guard in NOT_OFFERED):
            continue
        offered.append((t, blocked_by(application, actor, t)))
    return offered


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
    "conditionally_approved_by",
    "conditionally_approved_at",
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


# --------------------------------------------------------------------------- open rows


def open_rows(application: Application) -> list[ChecklistItem]:
    """The active checklist rows not yet resolved, in checklist order."""
    return list(
        application.checklist_items.filter(active=True, status__in=OPEN_ITEM_STATUSES)
        .select_related("owner")
        .order_by("position", "id")
    )


def unconditioned_open_rows(application: Application) -> list[ChecklistItem]:
    """Open rows that block 利用開始: not left open under a conditional
    approval with an owner and a due date."""
    return [
        item
        for item in open_rows(application)
        if not (
            application.conditionally_approved_at is not None
            and item.open_under_condition
            and item.owner_id is not None
            and item.due_date is not None
        )
    ]


@dataclass(frozen=True)
class Condition:
    """One row left open under a conditional approval, with who and by when."""

    item: ChecklistItem
    owner: User
    due_date: datetime.date


@transaction.atomic
def approve_conditionally(
    application: Application, actor: User, conditions: Sequence[Condition], comment: str = ""
) -> None:
    """Record a conditional approval: these open rows may stay open at 利用開始,
    each with its owner and due date (which then drive the reminders). Every
    other open row must still be resolved before 利用開始."""
    Application.objects.select_for_update().filter(pk=application.pk).first()
    application.refresh_from_db()
    if application.status != Status.APPROVED:
        raise NotAllowed(
            _("A conditional approval is recorded after approval, before use starts."),
            "wrong_status",
        )
    if not _may_act(application, actor, REVIEWERS):
        raise NotAllowed(_("Your role may not take this action on this application."), "role")
    for guard in (not_prohibited, not_own_application):
        reason = guard(application, actor)
        if reason:
            raise GuardFailed(reason, guard.__name__)
    if not conditions:
        raise GuardFailed(
            _("Choose the checklist rows that stay open, with an owner and a due date each."),
            "no_rows",
        )
    today = timezone.localdate()
    open_ids = {item.pk for item in open_rows(application)}
    for condition in conditions:
        item = condition.item
        if item.application_id != application.pk or item.pk not in open_ids:
            raise GuardFailed(
                _("%(item)s is not an open row of this checklist.") % {"item": item.item_id},
                "not_open",
            )
        if condition.owner is None or not condition.owner.is_active:
            raise GuardFailed(
                _("%(item)s: choose an active owner.") % {"item": item.item_id}, "owner"
            )
        if condition.due_date is None or condition.due_date < today:
            raise GuardFailed(
                _("%(item)s: give a due date from today on.") % {"item": item.item_id}, "due_date"
            )
    recorded = snapshot(application, RECORDED_FIELDS)
    application.checklist_items.filter(open_under_condition=True).update(open_under_condition=False)
    for condition in conditions:
        item = checklist.update_item(
            condition.item, actor, owner=condition.owner, due_date=condition.due_date
        )
        ChecklistItem.objects.filter(pk=item.pk).update(open_under_condition=True)
    application.conditionally_approved_at = timezone.now()
    application.conditionally_approved_by = actor
    application.save()
    diff = changes(recorded, snapshot(application, RECORDED_FIELDS))
    record(
        Action.APPROVAL,
        actor=actor,
        obj=application,
        before=diff.before,
        after=diff.after,
        extra={
            "action": "conditional_approval",
            "comment": (comment or "").strip(),
            "open_rows": [
                {
                    "item": c.item.item_id,
                    "owner": c.owner.username,
                    "due_date": c.due_date.isoformat(),
                }
                for c in conditions
            ],
        },
    )


# --------------------------------------------------------------------------- worse verdicts

#: How bad a verdict is: a re-judgement that raises it needs a new look.
VERDICT_RANK: dict[str, int] = {
    Verdict.PERMITTED: 0,
    Verdict.APPROVAL_REQUIRED: 1,
    Verdict.PROHIBITED: 2,
}
#: Where a worse verdict sends an application back for a look.
WATCHED = frozenset({Status.APPROVED, Status.IN_USE, Status.REVIEW_DUE})
#: The note the status change keeps (stored data, in Japanese, like the engine's findings).
WORSE_NOTE = "判定が「{before}」から「{after}」に変わりました。"


def _verdict_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return str(value.get("verdict", ""))
    return str(getattr(value, "verdict", "") or "")


def is_worse(previous: Any, current: Any) -> bool:
    before, after = _verdict_of(previous), _verdict_of(current)
    if before not in VERDICT_RANK or after not in VERDICT_RANK:
        return False
    return VERDICT_RANK[after] > VERDICT_RANK[before]


def mark_needs_review_if_worse(
    application: Application, previous: Any, current: Any, actor: User | None
) -> bool:
    """After a re-judgement: if an approved or in-use application's verdict got
    worse (利用可 < 承認が必要 < 禁止), move it to 見直しが必要 (the earlier
    judgement stays, as every judgement does), and tell the security office
    and the department by e-mail once the transaction commits. ``previous``
    and ``current`` are judgements (or decisions, or verdict codes). True if
    it moved. A batch of one: see :func:`mark_needs_review_many`."""
    from cloudjudge.web.register import notices

    moved = mark_needs_review_many([(application, previous, current)], actor)
    if moved:
        transaction.on_commit(lambda: notices.needs_review_many(moved))
    return bool(moved)


def mark_needs_review_many(
    judged: Iterable[tuple[Application, Any, Any]], actor: User | None
) -> list[tuple[int, str]]:
    """``mark_needs_review_if_worse`` for each ``(application, previous,
    current)`` of a batch of re-judgements, with a few queries for the whole
    batch (one UPDATE, one audit append, one INSERT of status changes).
    Returns ``(application id, note)`` of each one moved, for the caller to
    notify once its transaction commits (``notices.needs_review_many``)."""
    from cloudjudge.labels import VERDICT_LABELS

    transition = TRANSITIONS[Step.MARK_NEEDS_REVIEW]
    moved: list[tuple[Application, str, dict[str, Any], str]] = []
    for application, previous, current in judged:
        if application.status not in WATCHED or not is_worse(previous, current):
            continue
        before, after = _verdict_of(previous), _verdict_of(current)
        note = WORSE_NOTE.format(
            before=VERDICT_LABELS.get(before, before), after=VERDICT_LABELS.get(after, after)
        )
        moved.append(
            (application, application.status, snapshot(application, RECORDED_FIELDS), note)
        )
    if not moved:
        return []
    now = timezone.now()
    with transaction.atomic():
        Application.objects.filter(pk__in=[a.pk for a, _s, _r, _n in moved]).order_by().update(
            status=transition.target, updated_at=now
        )
        entries = []
        for application, _status, recorded, note in moved:
            application.status, application.updated_at = transition.target, now
            diff = changes(recorded, snapshot(application, RECORDED_FIELDS))
            entries.append(
                entry(
                    Action.STATE_CHANGE,
                    actor=actor,
                    obj=application,
                    before=diff.before,
                    after=diff.after,
                    extra={"action": transition.action, "review": "", "comment": note},
                )
            )
        record_many(entries)
        StatusChange.objects.bulk_create(
            StatusChange(
                application=application,
                action=transition.action,
                from_status=status,
                to_status=transition.target,
                actor=actor,
                comment=note,
            )
            for application, status, _recorded, note in moved
        )
    # update() and bulk_create send no model signals: the cached counts and
    # registry alerts (which show the applications' statuses) are told here.
    figures.changed(applications=True)
    return [(application.pk, note) for application, _s, _r, note in moved]


def worse_verdict_notice(application: Application) -> StatusChange | None:
    """The status change that put the application in 見直しが必要 (what changed), or None."""
    if application.status != Status.NEEDS_REVIEW:
        return None
    return (
        application.status_changes.filter(action=Step.MARK_NEEDS_REVIEW)
        .order_by("-created_at", "-id")
        .first()
    )


# --------------------------------------------------------------------------- one state


class Party(models.TextChoices):
    """Who acts next on an application."""

    APPLICANT = "applicant", _("Applicant")
    SECURITY = "security", _("Security office")
    CISO = "ciso", _("CISO")
    NOBODY = "", _("Nobody")


@dataclass(frozen=True)
class State:
    """An application's one status line and who acts next."""

    code: str  # the status, or "prohibited" / "awaiting_ciso" where that says more
    line: Reason
    next_actor: str
    tone: str  # "todo", "waiting", "done", "danger"

    @property
    def next_actor_label(self) -> Reason:
        return Party(self.next_actor).label

    def __str__(self) -> str:
        return str(self.line)


def _who(user: User | None) -> str:
    return user.display_name if user is not None else ""


def _day(value: datetime.datetime | datetime.date | None) -> str:
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return format_date(value, cast(DateStyle, settings.CLOUDJUDGE_DATE_STYLE))


def state_of(application: Application) -> State:
    """The one status line and the party who acts next, from the status, the
    verdict and the approvals given. Reads only the application's own fields
    (and its approvers, when approved: join ``approved_by`` and
    ``ciso_approved_by`` in lists)."""
    status, verdict = application.status, application.verdict
    prohibited = verdict == Verdict.PROHIBITED
    if status == Status.DRAFT:
        return State(status, _("Draft · applicant"), Party.APPLICANT, "todo")
    if status == Status.RETURNED:
        return State(
            status, _("Returned · awaiting the applicant's changes"), Party.APPLICANT, "todo"
        )
    if status == Status.REJECTED:
        return State(status, _("Rejected"), Party.NOBODY, "danger")
    if status == Status.ENDED:
        return State(status, _("Ended"), Party.NOBODY, "done")
    if status == Status.NEEDS_REVIEW:
        party = Party.CISO if application.needs_ciso_approval else Party.SECURITY
        return State(status, _("Needs review (the verdict changed)"), party, "danger")
    if status in (Status.SUBMITTED, Status.APPROVED) and prohibited:
        return State("prohibited", _("Prohibited (cannot be approved)"), Party.SECURITY, "danger")
    if status == Status.SUBMITTED:
        return State(
            status,
            _("Submitted · awaiting the security office's review"),
            Party.SECURITY,
            "waiting",
        )
    if status == Status.APPROVED:
        if application.needs_ciso_approval and application.ciso_approved_at is None:
            return State(
                "awaiting_ciso",
                _("Security office approved · awaiting the CISO's approval"),
                Party.CISO,
                "waiting",
            )
        if application.ciso_approved_at is not None:
            line = _("Approved (CISO approval %(date)s %(name)s)") % {
                "date": _day(application.ciso_approved_at),
                "name": _who(application.ciso_approved_by),
            }
        else:
            line = _("Approved (%(date)s %(name)s)") % {
                "date": _day(application.approved_at),
                "name": _who(application.approved_by),
            }
        return State(status, line, Party.APPLICANT, "todo")
    if status == Status.IN_USE:
        return State(status, _("In use"), Party.NOBODY, "done")
    if status == Status.REVIEW_DUE:
        return State(
            status,
            _("Review due · awaiting the applicant's yearly review"),
            Party.APPLICANT,
            "todo",
        )
    if status == Status.ENDING:
        return State(
            status, _("Ending · applicant completes EXIT-1 to EXIT-3"), Party.APPLICANT, "todo"
        )
    return State(status, application.get_status_display(), Party.NOBODY, "waiting")


@dataclass(frozen=True)
class Approval:
    """An approval given: what, when, by whom (for the verdict panel)."""

    label: Reason
    at: datetime.datetime
    by: User | None

    @property
    def date(self) -> str:
        return _day(self.at)


#: Statuses in which an application holds no approval (none yet, or none any more).
UNAPPROVED = frozenset({Status.DRAFT, Status.SUBMITTED, Status.RETURNED, Status.REJECTED})


def approvals_given(application: Application) -> list[Approval]:
    """The approvals the application holds now (none once returned or re-submitted)."""
    if application.status in UNAPPROVED:
        return []
    given = []
    if application.approved_at is not None and (
        application.ciso_approved_at != application.approved_at
    ):
        given.append(
            Approval(
                _("Security office approval"), application.approved_at, application.approved_by
            )
        )
    if application.ciso_approved_at is not None:
        given.append(
            Approval(
                _("CISO's approval"), application.ciso_approved_at, application.ciso_approved_by
            )
        )
    if application.conditionally_approved_at is not None:
        given.append(
            Approval(
                _("Conditional approval"),
                application.conditionally_approved_at,
                application.conditionally_approved_by,
            )
        )
    return given


def verdict_word(application: Application) -> Reason:
    """The verdict as the pages name it beside the status line. A 承認が必要
    verdict whose approval is given (as ``state_of`` reads it) no longer says
    the approval is needed: it reads 統括承認を得て利用可 (the panel lists who
    gave it and when)."""
    verdict = application.verdict
    if (
        verdict == Verdict.APPROVAL_REQUIRED
        and application.status not in UNAPPROVED
        and not (application.needs_ciso_approval and application.ciso_approved_at is None)
    ):
        if application.ciso_approved_at is not None:
            return _("Permitted with the CISO's approval")
        return _("Permitted with approval")
    return Verdict(verdict).label if verdict in Verdict.values else _("Not judged")
