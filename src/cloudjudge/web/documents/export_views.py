"""Downloads of the register (CSV, Excel) and of one application's checklist (Excel).

Who gets which rows is decided exactly as for the register list page: the
applications ``permissions.visible_applications`` allows, narrowed by the
list's own filter form read from the querystring (so a download link carries
the filters the user is looking at). An application outside the user's scope
is a 404. The files themselves are built by ``exports``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from cloudjudge.catalog import CatalogError
from cloudjudge.catalog.versions import find_catalog
from cloudjudge.web.audit.models import Action
from cloudjudge.web.audit.trail import record
from cloudjudge.web.authenticated import AuthenticatedRequest
from cloudjudge.web.documents import exports, oscal
from cloudjudge.web.register import checklist, permissions, rejudge
from cloudjudge.web.register.forms import RegisterFilterForm
from cloudjudge.web.register.models import Application, Judgement

CSV_TYPE = "text/csv; charset=utf-8"
CSV_CP932_TYPE = "text/csv; charset=shift_jis"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Applications read (and their checklist progress counted) per query.
BATCH = 500

#: A whole response or a streamed one (the CSV).
Download = TypeVar("Download", HttpResponse, StreamingHttpResponse)


def filtered_register(request: AuthenticatedRequest) -> QuerySet[Application]:
    """The register list's rows for this user and this querystring (all pages)."""
    return RegisterFilterForm.for_user(request.user, request.GET).visible_to(request.user)


def with_progress(applications: QuerySet[Application], size: int = BATCH) -> Iterator[Application]:
    """The applications in batches, each batch with its checklist progress
    attached in one query: memory and queries bounded however large the register."""
    rows = applications.iterator(chunk_size=size)
    while batch := list(islice(rows, size)):
        checklist.attach_progress(batch)
        yield from batch


def _download(
    request: AuthenticatedRequest,
    response: Download,
    names: tuple[str, str],
    *,
    application: Application | None = None,
    **extra: object,
) -> Download:
    """The file as an attachment, and its export in the audit trail (別紙1① No.6)."""
    record(
        Action.EXPORT,
        request=request,
        obj=application,
        extra={"file": names[0], "filters": request.GET.dict(), **extra},
    )
    response["Content-Disposition"] = exports.content_disposition(*names)
    response["Cache-Control"] = "private, no-store"
    return response


def _register_rows(request: AuthenticatedRequest) -> Iterable[list[exports.Value]]:
    return exports.register_rows(with_progress(filtered_register(request)))


@require_GET
def register_csv(request: AuthenticatedRequest) -> HttpResponseBase:
    """The register as CSV. UTF-8 with a BOM is streamed: the first bytes leave
    before the last row is read. ``?encoding=cp932`` (Shift_JIS) is built whole
    first, so that a character CP932 cannot hold refuses the file, naming the
    cells, on the register page instead of a file with the character replaced."""
    names = exports.register_filename(timezone.localdate(), "csv")
    if request.GET.get("encoding") == "cp932":
        try:
            content = exports.cp932_csv_bytes(exports.REGISTER_COLUMNS, _register_rows(request))
        except exports.UnencodableError as exc:
            messages.error(request, _cp932_refusal(exc))
            query = request.GET.copy()
            query.pop("encoding", None)
            url = reverse("register:list")
            return redirect(f"{url}?{query.urlencode()}" if query else url)
        response = HttpResponse(content, content_type=CSV_CP932_TYPE)
        return _download(request, response, names, kind="register_csv", encoding="cp932")
    body = exports.iter_csv(exports.REGISTER_COLUMNS, _register_rows(request))
    streamed = StreamingHttpResponse(body, content_type=CSV_TYPE)
    return _download(request, streamed, names, kind="register_csv")


def _cp932_refusal(exc: exports.UnencodableError) -> str:
    head = (
        "Shift_JIS（CP932）の CSV は作成しませんでした。次の文字を Shift_JIS で表せません"
        "（UTF-8 の CSV か Excel で出力するか、文字を改めてください）: "
    )
    tail = " ほか" if exc.more else ""
    return head + "／".join(str(p) for p in exc.problems) + tail


@require_GET
def register_xlsx(request: AuthenticatedRequest) -> HttpResponse:
    content = exports.xlsx_bytes(
        exports.REGISTER_COLUMNS, _register_rows(request), sheet_title="クラウドサービス台帳"
    )
    response = HttpResponse(content, content_type=XLSX_TYPE)
    names = exports.register_filename(timezone.localdate(), "xlsx")
    return _download(request, response, names, kind="register_xlsx")


@require_GET
def checklist_xlsx(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The checklist the latest judgement requires, with owners, due dates and evidence names."""
    application = get_object_or_404(permissions.visible_applications(request.user), pk=pk)
    items = (
        application.checklist_items.filter(active=True)
        .select_related("owner")
        .prefetch_related("evidence")
        .order_by("position", "id")
    )
    content = exports.xlsx_bytes(
        exports.CHECKLIST_COLUMNS,
        exports.checklist_rows(items),
        sheet_title=application.number or "チェックリスト",
    )
    response = HttpResponse(content, content_type=XLSX_TYPE)
    names = exports.checklist_filename(application)
    return _download(request, response, names, kind="checklist_xlsx", application=application)


@require_GET
def assessment_results_json(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The latest judgement and its checklist status as OSCAL assessment-results."""
    application = get_object_or_404(
        permissions.visible_applications(request.user).select_related(
            "service", "latest_judgement"
        ),
        pk=pk,
    )
    try:
        document = oscal.application_assessment_results(application, timezone.now())
    except Judgement.DoesNotExist:
        raise Http404 from None
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=2), content_type=oscal.JSON_TYPE
    )
    names = oscal.filename(application)
    return _download(
        request, response, names, kind="oscal_assessment_results", application=application
    )


def rejudge_export(request: AuthenticatedRequest, fmt: str) -> HttpResponse:
    """The re-judging report of ``?version=`` (what would change), as CSV or Excel."""
    if not permissions.can_see_revisions(request.user):
        raise PermissionDenied
    if fmt not in ("csv", "xlsx"):
        raise Http404(fmt)
    try:
        catalog = find_catalog(request.GET.get("version", ""))
    except CatalogError:
        raise Http404("version") from None
    changes = rejudge.report(catalog).changes
    rows = exports.rejudge_rows(changes)
    if fmt == "csv":
        response = HttpResponse(
            exports.csv_bytes(exports.REJUDGE_COLUMNS, rows), content_type=CSV_TYPE
        )
    else:
        content = exports.xlsx_bytes(exports.REJUDGE_COLUMNS, rows, sheet_title="再判定")
        response = HttpResponse(content, content_type=XLSX_TYPE)
    names = exports.rejudge_filename(catalog.label, fmt)
    return _download(request, response, names, kind=f"rejudge_{fmt}", version=catalog.label)
