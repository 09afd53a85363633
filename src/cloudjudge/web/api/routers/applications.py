"""The register: applications (list, create, read, change) and their judgements,
and the services to apply for.

Input goes through the UI's own ``ApplicationEditor`` (the application form,
the new-service form and the engine's check of the facts together) and on to
``applications.create_application`` / ``update_application``, so an API
client meets exactly the rules a person meets in the browser.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from cloudjudge.engine.request import Method
from cloudjudge.web.api import errors, schemas, serialize
from cloudjudge.web.api.routers.common import MAX_PAGE_SIZE, PAGE_SIZE, get_application, paginate
from cloudjudge.web.register import checklist, overview, permissions
from cloudjudge.web.register.applications import FACT_FIELDS
from cloudjudge.web.register.forms import ApplicationEditor
from cloudjudge.web.register.models import Application, Service
from cloudjudge.web.register.workflow import NotAllowed
from cloudjudge.web.search import search_words

router = Router(tags=["applications"])
services_router = Router(tags=["services"])

#: Related rows one application's JSON shows.
DETAIL_RELATED = ("latest_judgement", "approved_by", "ciso_approved_by")

REFUSED = {401: schemas.ErrorOut, 403: schemas.ErrorOut, 404: schemas.ErrorOut}
INVALID = {400: schemas.ValidationErrorOut, 422: schemas.ValidationErrorOut}
#: A list: bad filters, a page past the end.
LISTED = {401: schemas.ErrorOut, 404: schemas.ErrorOut, 422: schemas.ValidationErrorOut}

#: Facts that may be set to null (meaning: not stated, the form's empty choice).
_NULLABLE = frozenset({"breakout_usage", "network"})


# --------------------------------------------------------------------------- helpers


def detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    application = get_application(request, pk, *DETAIL_RELATED)
    application.progress = checklist.progress(application)
    return serialize.application_detail(application, request.auth)


def _service_fields(service: dict[str, Any]) -> dict[str, Any]:
    return {f"new_service-{name}": value for name, value in service.items()}


def _editor_errors(editor: ApplicationEditor, new_service: bool) -> errors.InputError:
    found = []
    for field, messages in editor.form.errors.items():
        path = {"__all__": "", "service": "service_id"}.get(field, field)
        found += [errors.field_error(path, msg) for msg in messages]
    if not new_service:  # a service_id: what the new-service form says is beside the point
        return errors.InputError(found)
    for field, messages in editor.service_form.errors.items():
        path = "service" if field == "__all__" else f"service.{field}"
        found += [errors.field_error(path, msg) for msg in messages]
    return errors.InputError(found)


def _check_service_choice(given: dict[str, Any], required: bool) -> None:
    has_id = given.get("service_id") is not None
    has_new = given.get("service") is not None
    if has_id and has_new:
        raise errors.InputError(
            [
                errors.field_error(
                    "service", "service_id と service のどちらか一方だけを指定してください"
                )
            ]
        )
    if required and not (has_id or has_new):
        raise errors.InputError(
            [
                errors.field_error(
                    "service_id",
                    "台帳のサービス（service_id）か新しいサービス（service）を指定してください",
                )
            ]
        )


def _save(editor: ApplicationEditor, user, new_service: bool) -> Application:
    if not editor.is_valid():
        raise _editor_errors(editor, new_service)
    return editor.save(user)


# --------------------------------------------------------------------------- endpoints


@router.get(
    "",
    response={200: schemas.ApplicationPage, **LISTED},
    summary="台帳（申請の一覧）",
)
def list_applications(
    request: HttpRequest,
    q: str = Query("", max_length=100, description="番号・目的・サービス名・事業者で検索"),
    department: str | None = Query(None, description="部署コード"),
    status: schemas.StatusCode | None = None,
    verdict: schemas.VerdictCode | None = None,
    method: Method | None = None,
    confidentiality: schemas.ConfidentialityCode | None = None,
    sort: schemas.SortKey = overview.DEFAULT_SORT,
    page: int = Query(1, ge=1),
    page_size: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
):
    """The applications this user may see (an applicant: their department's),
    filtered and sorted as in the register list of the UI."""
    visible = permissions.visible_applications(request.auth)
    if department:
        visible = visible.filter(department__code=department)
    results = overview.search_register(
        visible,
        q=q,
        verdict=verdict or "",
        status=status or "",
        method=method or "",
        confidentiality=confidentiality or "",
        sort=sort,
    ).select_related("approved_by", "ciso_approved_by")
    rows, numbers = paginate(results, page, page_size)
    checklist.attach_progress(rows)
    return {**numbers, "items": [serialize.application(a) for a in rows]}


@router.post(
    "",
    response={201: schemas.ApplicationDetail, **REFUSED, **INVALID},
    summary="申請を作成する（下書き、すぐに判定）",
)
def create_application(request: HttpRequest, payload: schemas.ApplicationIn):
    user = request.auth
    if not permissions.can_create_application(user):
        raise NotAllowed("申請を作成できるのは、部署に所属する申請者だけです。", "role")
    given = payload.model_dump()
    _check_service_choice(given, required=True)
    data = {name: given[name] for name in FACT_FIELDS}
    for name in _NULLABLE:
        data[name] = data[name] or ""
    if given["service_id"] is not None:
        data["service"] = given["service_id"]
    else:
        data.update(_service_fields(given["service"]))
    application = _save(ApplicationEditor(data), user, given["service"] is not None)
    return Status(201, detail(request, application.pk))


@router.get(
    "/{int:application_id}",
    response={200: schemas.ApplicationDetail, **REFUSED},
    summary="申請（最新の判定、取れる操作を含む）",
)
def get_application_detail(request: HttpRequest, application_id: int):
    return detail(request, application_id)


@router.patch(
    "/{int:application_id}",
    response={200: schemas.ApplicationDetail, **REFUSED, **INVALID},
    summary="申請の内容を変更する（再判定。以前の判定は残る）",
)
def update_application(
    request: HttpRequest, application_id: int, payload: schemas.ApplicationPatch
):
    user = request.auth
    application = get_application(request, application_id, "latest_judgement")
    if not permissions.can_edit_application(user, application):
        raise NotAllowed(
            "この申請を変更する権限がないか、申請の現在の状態"
            f"（{application.get_status_display()}）では変更できません。",
            "not_editable",
        )
    given = payload.model_dump(exclude_unset=True)
    _check_service_choice(given, required=False)
    nulls = [
        name
        for name, value in given.items()
        if value is None and name in FACT_FIELDS and name not in _NULLABLE
    ]
    if nulls:
        raise errors.InputError(errors.field_error(n, "null は指定できません") for n in nulls)
    data: dict[str, Any] = {name: getattr(application, name) for name in FACT_FIELDS}
    data["service"] = application.service_id
    for name in FACT_FIELDS:
        if name in given:
            data[name] = "" if given[name] is None else given[name]
    if given.get("service_id") is not None:
        data["service"] = given["service_id"]
    elif given.get("service") is not None:
        del data["service"]
        data.update(_service_fields(given["service"]))
    _save(ApplicationEditor(data, instance=application), user, given.get("service") is not None)
    return detail(request, application.pk)


@router.get(
    "/{int:application_id}/judgements",
    response={200: list[schemas.JudgementOut], **REFUSED},
    summary="判定の履歴（新しい順、変更されない記録）",
)
def list_judgements(request: HttpRequest, application_id: int):
    application = get_application(request, application_id)
    return [serialize.judgement(j) for j in application.judgements.select_related("actor")]


# --------------------------------------------------------------------------- services


@services_router.get(
    "",
    response={200: schemas.ServicePage, **LISTED},
    summary="台帳のサービス",
)
def list_services(
    request: HttpRequest,
    q: str = Query("", max_length=100, description="サービス名・事業者で検索"),
    page: int = Query(1, ge=1),
    page_size: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
):
    """What an application's ``service_id`` can be (as the UI's service picker)."""
    services = Service.objects.all()
    services = search_words(services, q, ("name", "provider"))
    rows, numbers = paginate(services, page, page_size)
    return {**numbers, "items": [serialize.service(s) for s in rows]}
