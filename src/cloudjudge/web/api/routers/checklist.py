"""An application's checklist: read it, and update a row with the UI's own
``ChecklistItemForm`` (which owners are allowed, 該当なし needs a reason) and
``checklist.update_item``, under ``permissions.can_work_checklist``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Path, Router

from cloudjudge.web.api import errors, schemas, serialize
from cloudjudge.web.api.routers.common import get_application
from cloudjudge.web.register import checklist, permissions
from cloudjudge.web.register.forms import ChecklistItemForm
from cloudjudge.web.register.models import Application, ChecklistItem
from cloudjudge.web.register.workflow import NotAllowed

router = Router(tags=["checklist"])

REFUSED = {401: schemas.ErrorOut, 403: schemas.ErrorOut, 404: schemas.ErrorOut}

ITEM_PARAM = Path(
    ...,
    description="the row's numeric ``id``, or the catalog's item ID of the row (e.g. T1-07)",
)


def _rows(application: Application):
    return application.checklist_items.select_related("owner", "updated_by").prefetch_related(
        "evidence__uploaded_by"
    )


def _item(application: Application, item: str) -> ChecklistItem:
    lookup = {"pk": int(item)} if item.isdigit() else {"item_id": item}
    return get_object_or_404(_rows(application), **lookup)


@router.get(
    "/{int:application_id}/checklist",
    response={200: schemas.ChecklistOut, **REFUSED},
    summary="チェックリスト（必要な対策と進み具合、証跡の一覧）",
)
def get_checklist(request: HttpRequest, application_id: int):
    """Every row, including those the latest judgement no longer requires
    (``active: false``, kept with what was recorded)."""
    application = get_application(request, application_id)
    items = list(_rows(application))
    active = [i for i in items if i.active]
    progress = checklist.Progress(sum(i.resolved for i in active), len(active))
    return {
        "progress": serialize.progress(progress),
        "items": [serialize.checklist_item(i) for i in items],
    }


@router.get(
    "/{int:application_id}/checklist/{item}",
    response={200: schemas.ChecklistItemOut, **REFUSED},
    summary="チェックリストの 1 行",
)
def get_checklist_item(request: HttpRequest, application_id: int, item: str = ITEM_PARAM):
    application = get_application(request, application_id)
    return serialize.checklist_item(_item(application, item))


@router.patch(
    "/{int:application_id}/checklist/{item}",
    response={
        200: schemas.ChecklistItemOut,
        **REFUSED,
        400: schemas.ValidationErrorOut,
        422: schemas.ValidationErrorOut,
    },
    summary="チェックリストの 1 行を更新する（状態・担当者・期限・メモ）",
)
def update_checklist_item(
    request: HttpRequest,
    application_id: int,
    payload: schemas.ChecklistItemPatch,
    item: str = ITEM_PARAM,
):
    user = request.auth
    application = get_application(request, application_id)
    row = _item(application, item)
    if not permissions.can_work_checklist(user, application):
        raise NotAllowed(
            "このチェックリストを更新する権限がないか、申請の現在の状態"
            f"（{application.get_status_display()}）では更新できません。",
            "not_allowed",
        )
    given = payload.model_dump(exclude_unset=True)
    if "status" in given and given["status"] is None:
        raise errors.InputError([errors.field_error("status", "null は指定できません")])
    data: dict[str, Any] = {
        "status": row.status,
        "na_reason": row.na_reason,
        "owner": row.owner_id or "",
        "due_date": row.due_date or "",
        "note": row.note,
    }
    for name, value in given.items():
        key = "owner" if name == "owner_id" else name
        data[key] = "" if value is None else value
    form = ChecklistItemForm(data, instance=row)
    if not form.is_valid():
        raise errors.InputError(
            errors.field_error({"__all__": "", "owner": "owner_id"}.get(field, field), msg)
            for field, messages in form.errors.items()
            for msg in messages
        )
    form.save(user)
    return serialize.checklist_item(_item(application, str(row.pk)))
