"""Reviews and the workflow: the review decisions recorded on an application,
and ``POST …/actions`` to take a workflow action (submit, approve,
ciso_approve, return, reject, start_use, review_done, begin_exit, end) through
``workflow.perform``, the only code that changes an application's status.

A role that may not take the action, or a status it cannot be taken from, is
a 403 (``code``: ``role``, ``wrong_status``); an action allowed in principle
that a guard refuses now is a 409 whose ``code`` names the guard
(``not_own_application``, ``not_prohibited``, ``ciso_approval_given``,
``comment_required``…), with the reason in Japanese.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from cloudjudge.web.accounts.models import User
from cloudjudge.web.api import schemas, serialize
from cloudjudge.web.api.routers.applications import detail
from cloudjudge.web.api.routers.common import get_application
from cloudjudge.web.register import workflow

router = Router(tags=["workflow"])

REFUSED = {401: schemas.ErrorOut, 403: schemas.ErrorOut, 404: schemas.ErrorOut}


@router.get(
    "/{int:application_id}/reviews",
    response={200: list[schemas.ReviewOut], **REFUSED},
    summary="審査の記録（承認・CISO 承認・差戻し・却下、新しい順）",
)
def list_reviews(request: HttpRequest, application_id: int):
    application = get_application(request, application_id)
    return [serialize.review(r) for r in application.reviews.select_related("actor")]


@router.post(
    "/{int:application_id}/actions",
    response={
        200: schemas.ApplicationDetail,
        **REFUSED,
        409: schemas.ErrorOut,
        422: schemas.ValidationErrorOut,
    },
    summary="ワークフローの操作（提出・承認・差戻し・却下・利用開始…）",
)
def take_action(request: HttpRequest, application_id: int, payload: schemas.ActionIn):
    """Returns the application as it is afterwards."""
    application = get_application(request, application_id)
    workflow.perform(application, payload.action, request.auth, payload.comment)
    return detail(request, application.pk)


@router.post(
    "/{int:application_id}/conditional-approval",
    response={
        200: schemas.ApplicationDetail,
        **REFUSED,
        409: schemas.ErrorOut,
        422: schemas.ValidationErrorOut,
    },
    summary="条件付き承認（未完了のまま利用開始を認める項目と担当者・期限）",
)
def conditional_approval(
    request: HttpRequest, application_id: int, payload: schemas.ConditionalApprovalIn
):
    """A reviewer lets the named open rows stay open at start_use, each with an
    owner and a due date (``workflow.approve_conditionally``)."""
    application = get_application(request, application_id)
    items = {i.item_id: i for i in application.checklist_items.filter(active=True)}
    owners = {u.pk: u for u in User.objects.filter(pk__in=[r.owner_id for r in payload.rows])}
    conditions = []
    for row in payload.rows:
        item, owner = items.get(row.item_id), owners.get(row.owner_id)
        if item is None:
            raise workflow.GuardFailed(
                _("%(item)s is not an open row of this checklist.") % {"item": row.item_id},
                "not_open",
            )
        if owner is None or not owner.is_active:
            raise workflow.GuardFailed(
                _("%(item)s: choose an active owner.") % {"item": row.item_id}, "owner"
            )
        conditions.append(workflow.Condition(item, owner, row.due_date))
    actor = request.auth  # type: ignore[attr-defined]
    workflow.approve_conditionally(application, actor, conditions, payload.comment)
    return detail(request, application.pk)
