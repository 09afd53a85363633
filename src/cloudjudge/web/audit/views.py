"""The auditors' pages: the searchable log and its exports.

Readable by the auditor, the security office, the CISO and the system
administrator (``conf.READER_ROLES``); anyone else gets 403. Every export is
itself recorded (``Action.EXPORT``, with its format and filters) before the
file is streamed; the file holds the entries before that record."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from cloudjudge.web.audit import conf, export, trail
from cloudjudge.web.audit.models import Action, AuditEntry
from cloudjudge.web.audit.search import AuditFilterForm, filter_entries


def _require_reader(request: HttpRequest) -> None:
    if not conf.can_read(request.user):
        raise PermissionDenied


@require_GET
def entry_list(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    form = AuditFilterForm(request.GET)
    entries = filter_entries(AuditEntry.objects.order_by("-sequence"), **form.filters())
    page = Paginator(entries, conf.page_size()).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/list.html",
        {"form": form, "page": page, "total": page.paginator.count},
    )


@require_GET
def entry_export(request: HttpRequest, fmt: str) -> StreamingHttpResponse:
    _require_reader(request)
    filters = AuditFilterForm(request.GET).filters()
    marker = trail.record(Action.EXPORT, request=request, extra={"format": fmt, "filters": filters})
    entries = filter_entries(AuditEntry.objects.filter(sequence__lt=marker.sequence), **filters)
    response = StreamingHttpResponse(
        export.encoded(export.lines(fmt, entries)), content_type=export.CONTENT_TYPES[fmt]
    )
    stamp = timezone.localtime(marker.timestamp).strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.{fmt}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
