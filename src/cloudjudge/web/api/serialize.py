"""Model rows → the plain dicts of ``schemas``. Callers load the related rows
(``select_related``/``prefetch_related``) so that a page costs a fixed number
of queries."""

from __future__ import annotations

from typing import Any

from cloudjudge.web.accounts.models import Department, User
from cloudjudge.web.register import permissions, workflow
from cloudjudge.web.register.applications import FACT_FIELDS
from cloudjudge.web.register.checklist import Progress
from cloudjudge.web.register.models import (
    Application,
    ChecklistItem,
    Evidence,
    Judgement,
    Review,
    Service,
)
from cloudjudge.web.register.workflow import Step


def user_ref(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "name": user.display_name}


def department(dept: Department | None) -> dict[str, Any] | None:
    if dept is None:
        return None
    return {"id": dept.pk, "code": dept.code, "name": dept.name}


def service(svc: Service) -> dict[str, Any]:
    return {
        "id": svc.pk,
        "name": svc.name,
        "provider": svc.provider,
        "listings": svc.listings,
        "isms_certifications": svc.isms_certifications,
        "security_update_service": svc.security_update_service,
    }


def progress(p: Progress) -> dict[str, int]:
    return {"resolved": p.resolved, "total": p.total, "percent": p.percent}


def _state(app: Application) -> dict[str, str]:
    """The one status line and who acts next (``workflow.state_of``)."""
    state = workflow.state_of(app)
    return {
        "status_line": str(state.line),
        "next_actor": state.next_actor,
        "next_actor_label": str(state.next_actor_label),
    }


def application(app: Application) -> dict[str, Any]:
    """One row of the register; ``app.progress`` set (``checklist.attach_progress``)."""
    return {
        "id": app.pk,
        "number": app.number,
        "department": department(app.department),
        "applicant": user_ref(app.applicant),
        "service": service(app.service),
        **{name: getattr(app, name) for name in FACT_FIELDS},
        "status": app.status,
        "status_label": str(app.get_status_display()),
        **_state(app),
        "verdict": app.verdict,
        "verdict_label": str(app.get_verdict_display()) if app.verdict else "",
        "needs_ciso_approval": app.needs_ciso_approval,
        "pia_required": app.pia_required,
        "latest_judgement_id": app.latest_judgement_id,
        "submitted_at": app.submitted_at,
        "approved_at": app.approved_at,
        "approved_by": user_ref(app.approved_by),
        "ciso_approved_at": app.ciso_approved_at,
        "ciso_approved_by": user_ref(app.ciso_approved_by),
        "in_use_since": app.in_use_since,
        "review_due": app.review_due,
        "ended_at": app.ended_at,
        "created_at": app.created_at,
        "updated_at": app.updated_at,
        "progress": progress(app.progress),
    }


def application_detail(app: Application, user: User) -> dict[str, Any]:
    data = application(app)
    latest = app.latest_judgement
    data["decision"] = latest.decision if latest is not None else None
    data["actions"] = [
        {
            "action": transition.action,
            "label": str(Step(transition.action).label),
            "allowed": blocked is None,
            "blocked_reason": None if blocked is None else str(blocked),
        }
        for transition, blocked in workflow.available_actions(app, user)
    ]
    data["can_edit"] = permissions.can_edit_application(user, app)
    data["can_work_checklist"] = permissions.can_work_checklist(user, app)
    data["exit_steps"] = [
        {
            "step": step.step,
            "label": str(step.get_step_display()),
            "done_at": step.done_at,
            "done_by": user_ref(step.done_by),
            "note": step.note,
        }
        for step in app.exit_steps.select_related("done_by")
    ]
    return data


def judgement(j: Judgement) -> dict[str, Any]:
    return {
        "id": j.pk,
        "created_at": j.created_at,
        "criteria_version": j.criteria_version,
        "verdict": j.verdict,
        "actor": user_ref(j.actor),
        "request": j.request,
        "decision": j.decision,
    }


def review(r: Review) -> dict[str, Any]:
    return {
        "id": r.pk,
        "action": r.action,
        "action_label": str(r.get_action_display()),
        "actor": user_ref(r.actor),
        "comment": r.comment,
        "judgement_id": r.judgement_id,
        "created_at": r.created_at,
    }


def evidence(e: Evidence) -> dict[str, Any]:
    return {
        "id": e.pk,
        "original_name": e.original_name,
        "size": e.size,
        "sha256": e.sha256,
        "uploaded_by": user_ref(e.uploaded_by),
        "uploaded_at": e.uploaded_at,
    }


def checklist_item(item: ChecklistItem) -> dict[str, Any]:
    """A row; its ``evidence`` prefetched (with ``uploaded_by``)."""
    return {
        "id": item.pk,
        "item_id": item.item_id,
        "clause": item.clause,
        "title": item.title,
        "reason": item.reason,
        "position": item.position,
        "active": item.active,
        "status": item.status,
        "status_label": str(item.get_status_display()),
        "na_reason": item.na_reason,
        "owner": user_ref(item.owner),
        "due_date": item.due_date,
        "note": item.note,
        "updated_at": item.updated_at,
        "updated_by": user_ref(item.updated_by),
        "evidence": [evidence(e) for e in item.evidence.all()],
    }
