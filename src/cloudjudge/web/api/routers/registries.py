"""The registries in the HTTP API: a django-ninja router, mounted by the API::

    from cloudjudge.web.api.routers import registries as registries_api
    api.add_router("/registries", registries_api.router)

Operations (same functions and permissions as the pages and the commands):

* ``GET  /registries/entries`` — search (``kind``, ``status`` today, ``q``), paged
  as every list of the API (``page``, ``page_size``; ``routers.common.paginate``)
* ``GET  /registries/entries/{id}`` — one entry
* ``POST /registries/imports`` — multipart ``kind`` + ``file``: 201 imported
  (with the diff), 200 the same file again (nothing changed), 422 refused
  (``detail`` in the API's usual shape, one entry a problem, and ``problems``
  with sheet, row and column; nothing changed)
* ``GET  /registries/snapshots`` — the import history (``kind``)
* ``GET  /registries/diff`` — what each current snapshot changed (``kind``)
* ``GET  /registries/check`` — alerts for the services in use the caller may
  see (``days``, default 90); ``ok`` is false when there is any

Reading the registry needs the security office, the CISO, an auditor or the
administrator; importing needs the security office; the check is open to
every user, limited to the applications they may see.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router
from ninja.errors import HttpError
from ninja.responses import Status

from cloudjudge import registries as core
from cloudjudge.web.api import errors, schemas
from cloudjudge.web.api.routers.common import MAX_PAGE_SIZE, PAGE_SIZE, paginate
from cloudjudge.web.register import permissions as register_permissions
from cloudjudge.web.registries import permissions
from cloudjudge.web.registries.checking import check_in_use
from cloudjudge.web.registries.entries import (
    FILTER_STATUSES,
    diff_report,
    search_entries,
    snapshot_dict,
)
from cloudjudge.web.registries.importing import import_registry
from cloudjudge.web.registries.listings import STATUS_LABELS
from cloudjudge.web.registries.models import RegistryEntry, RegistrySnapshot

Json = dict[str, Any]
#: Documented refusals, as on every other endpoint of the API.
REFUSALS = {401: schemas.ErrorOut, 403: schemas.ErrorOut, 404: schemas.ErrorOut}
LISTED = {**REFUSALS, 422: schemas.ValidationErrorOut}


def _user(request: HttpRequest):
    auth = getattr(request, "auth", None)
    return auth if getattr(auth, "is_authenticated", False) else request.user


def _viewer(request: HttpRequest):
    user = _user(request)
    if not permissions.can_view(user):
        raise HttpError(403, "登録簿を見る権限がありません。")
    return user


def _kind(kind: str | None) -> str:
    if kind and kind not in core.KINDS:
        raise Http404
    return kind or ""


#: The import's body: documented here, read by the view after the role check.
UPLOAD = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["kind", "file"],
                    "properties": {
                        "kind": {"type": "string", "enum": list(core.KINDS)},
                        "file": {"type": "string", "format": "binary"},
                    },
                }
            }
        },
    }
}


def _upload(request: HttpRequest) -> tuple[str, UploadedFile]:
    """``kind`` and ``file`` from the multipart body (a body without its
    boundary is a 400 from the API's handler); a missing one or an unknown
    kind is a 422 in the import's shape, nothing imported."""
    kind = request.POST.get("kind", "")
    file = request.FILES.get("file")
    found = []
    if not kind:
        found.append(errors.field_error("kind", "必須項目です"))
    elif kind not in core.KINDS:
        allowed = ", ".join(core.KINDS)
        found.append(errors.field_error("kind", f"次のいずれかを指定してください: {allowed}"))
    if file is None:
        found.append(errors.field_error("file", "必須項目です"))
    if found:
        raise errors.InputError(
            found,
            extra={
                "status": "rejected",
                "kind": kind,
                "message": "取り込めません: 入力に誤りがあります",
                "snapshot": None,
                "diff": None,
                "problems": [],
            },
        )
    assert file is not None
    return kind, file


def entry_json(entry: RegistryEntry, today) -> Json:
    data = entry.to_core().as_dict()
    status = entry.status_on(today)
    data.update(
        id=entry.pk,
        expires_on=entry.expires_on.isoformat() if entry.expires_on else None,
        status=status,
        status_label=str(STATUS_LABELS[status]),
        last_checked_on=entry.last_checked_on.isoformat() if entry.last_checked_on else None,
        on_list=entry.on_list,
        snapshot_id=entry.snapshot_id,
        removed_in_id=entry.removed_in_id,
    )
    return data


def build_router() -> Router:
    """A new router (ninja attaches a router to one API only; tests build their own)."""
    router = Router(tags=["registries"])

    @router.get("/entries", response={200: schemas.RegistryEntryPage, **LISTED})
    def registry_entries(
        request: HttpRequest,
        kind: str = "",
        status: str = "",
        q: str = Query("", max_length=100),
        page: int = Query(1, ge=1),
        page_size: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
    ):
        _viewer(request)
        if status and status not in FILTER_STATUSES:
            raise Http404
        today = timezone.localdate()
        qs = search_entries(kind=_kind(kind), status=status, q=q, today=today)
        rows, numbers = paginate(qs, page, page_size)
        return {**numbers, "today": today, "results": [entry_json(e, today) for e in rows]}

    @router.get("/entries/{int:pk}", response={200: schemas.RegistryEntryOut, **REFUSALS})
    def registry_entry(request: HttpRequest, pk: int):
        _viewer(request)
        entry = get_object_or_404(RegistryEntry, pk=pk)
        return entry_json(entry, timezone.localdate())

    imported = schemas.RegistryImportOut

    @router.post(
        "/imports",
        response={
            200: imported,
            201: imported,
            400: schemas.ValidationErrorOut,
            422: imported,
            **REFUSALS,
        },
        openapi_extra=UPLOAD,
    )
    def registry_import(request: HttpRequest):
        # The role is checked before the body is read (the form fields are not
        # ninja parameters, which it would parse first): a user who may not
        # import gets a 403 whatever they send.
        user = _user(request)
        if not permissions.can_edit(user):
            raise HttpError(403, "登録簿を取り込めるのは情報セキュリティ担当だけです。")
        kind, file = _upload(request)
        result = import_registry(kind, file, user, filename=file.name, request=request)
        status = {"imported": 201, "unchanged": 200, "rejected": 422}[result.status]
        body = result.as_dict()
        # A refused file in the API's usual 422 shape too: one entry a problem.
        body["detail"] = [errors.field_error("file", str(p), "body") for p in result.problems]
        return Status(status, body)

    @router.get("/snapshots", response={200: schemas.RegistrySnapshotList, **REFUSALS})
    def registry_snapshots(request: HttpRequest, kind: str = ""):
        _viewer(request)
        qs = RegistrySnapshot.objects.select_related("importer").defer("diff")
        if _kind(kind):
            qs = qs.filter(kind=kind)
        return {"results": [snapshot_dict(s) for s in qs[:200]]}

    @router.get("/diff", response={200: Json, **REFUSALS})
    def registry_diff(request: HttpRequest, kind: str = ""):
        _viewer(request)
        return diff_report([_kind(kind)] if kind else list(core.KINDS))

    @router.get("/check", response={200: Json, **REFUSALS})
    def registry_check(request: HttpRequest, days: int = core.DEFAULT_DAYS_AHEAD):
        user = _user(request)
        if days < 0:
            days = 0
        report = check_in_use(register_permissions.visible_applications(user), days=days)
        return {"ok": report.ok, **report.as_dict()}

    return router


router = build_router()
