"""Documents of an application and of the register (issue 6): the vendor
questionnaire (download, import, review), the procurement text (.docx, .md)
and the PDF reports.

Scope exactly as the checklist: applications are looked up through
``permissions.visible_applications`` (another department's is a 404);
downloading a document changes nothing, so every user who sees the
application may; importing a questionnaire needs ``can_work_checklist``, and
deciding on its proposals the security office (see ``questionnaires.importing``).
Auditors read everything and change nothing. Every download is an attachment
with a Japanese file name and is recorded in the audit trail as an export.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET

from cloudjudge.catalog import default_catalog
from cloudjudge.documents import (
    application_report_pdf,
    build_questionnaire,
    procurement_docx,
    procurement_markdown,
    register_report_pdf,
)
from cloudjudge.documents.pdf import FontMissing
from cloudjudge.web.audit.models import Action
from cloudjudge.web.audit.trail import record
from cloudjudge.web.authenticated import AuthenticatedRequest
from cloudjudge.web.documents import content as documents
from cloudjudge.web.documents import exports
from cloudjudge.web.documents.forms import QuestionnaireDownloadForm
from cloudjudge.web.register import permissions
from cloudjudge.web.register.forms import RegisterFilterForm
from cloudjudge.web.register.models import Application
from cloudjudge.web.templatetags.city_dates import date_style

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MARKDOWN_TYPE = "text/markdown; charset=utf-8"
PDF_TYPE = "application/pdf"
PROCUREMENT_FORMATS = {"docx": DOCX_TYPE, "md": MARKDOWN_TYPE}


def _application(request: AuthenticatedRequest, pk: int) -> Application:
    return permissions.visible_application(request.user, pk, "latest_judgement")


def _attachment(
    request: AuthenticatedRequest,
    content: bytes | str,
    content_type: str,
    names: tuple[str, str],
    *,
    document: str,
    application: Application | None = None,
    extra: dict | None = None,
) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = exports.content_disposition(*names)
    response["Cache-Control"] = "private, no-store"
    record(
        Action.EXPORT,
        request=request,
        obj=application,
        # Catalog and register documents are about no one application.
        object_type=None if application else "register.application",
        object_repr=None if application else names[0],
        extra={"document": document, "filename": names[0], **(extra or {})},
    )
    return response


def _unavailable(
    request: AuthenticatedRequest, application: Application, message: str
) -> HttpResponse:
    messages.error(request, message)
    return redirect("register:detail", pk=application.pk)


# --------------------------------------------------------------------------- questionnaire


@require_GET
def questionnaire_download(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The vendor questionnaire (.xlsx) of the latest judgement, due on ``?due=``."""
    application = _application(request, pk)
    form = QuestionnaireDownloadForm(request.GET or None)
    if not form.is_bound:
        form = QuestionnaireDownloadForm(QuestionnaireDownloadForm.initial_for(request.user))
    if not form.is_valid():
        errors = [e for field in form.errors.values() for e in field]
        return _unavailable(request, application, " ".join(errors))
    try:
        judgement = documents.latest_judgement(application)
        catalog = documents.catalog_for(judgement)
        questionnaire = documents.questionnaire_request(
            application,
            due_date=form.cleaned_data["due"],
            contact=form.cleaned_data["contact"],
            issued_on=timezone.localdate(),
        )
        content = build_questionnaire(questionnaire, catalog)
    except documents.DocumentUnavailable as exc:
        return _unavailable(request, application, exc.message)
    except ValueError as exc:  # no SEL/S1/S2/EXIT item to ask about
        return _unavailable(request, application, str(exc))
    return _attachment(
        request,
        content,
        XLSX_TYPE,
        documents.questionnaire_filename(application),
        document="questionnaire",
        application=application,
        extra={"due": form.cleaned_data["due"].isoformat(), "items": len(questionnaire.item_ids)},
    )


# --------------------------------------------------------------------------- procurement


def _format(fmt: str) -> str:
    if fmt not in PROCUREMENT_FORMATS:
        raise Http404
    return PROCUREMENT_FORMATS[fmt]


def _procurement(catalog, decision, fmt: str) -> bytes:
    if fmt == "docx":
        return procurement_docx(catalog, decision)
    return procurement_markdown(catalog, decision).encode("utf-8")


@require_GET
def application_procurement(request: AuthenticatedRequest, pk: int, fmt: str) -> HttpResponse:
    """The procurement section with the 別紙1 measures the application's judgement requires."""
    content_type = _format(fmt)
    application = _application(request, pk)
    try:
        judgement = documents.latest_judgement(application)
        catalog = documents.catalog_for(judgement)
    except documents.DocumentUnavailable as exc:
        return _unavailable(request, application, exc.message)
    return _attachment(
        request,
        _procurement(catalog, judgement.decision, fmt),
        content_type,
        documents.procurement_filename(application, fmt),
        document=f"procurement_{fmt}",
        application=application,
    )


@require_GET
def catalog_procurement(request: AuthenticatedRequest, fmt: str) -> HttpResponse:
    """The procurement section for any service: every measure of 別紙1 ① and ②."""
    content_type = _format(fmt)
    return _attachment(
        request,
        _procurement(default_catalog(), None, fmt),
        content_type,
        documents.procurement_filename(None, fmt),
        document=f"procurement_{fmt}",
    )


# --------------------------------------------------------------------------- reports


@require_GET
def application_report(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The judgement report (PDF) of one application."""
    try:
        application = documents.report_application(
            permissions.visible_applications(request.user), pk
        )
    except Application.DoesNotExist:
        raise Http404 from None
    try:
        summary = documents.application_summary(application)
    except documents.DocumentUnavailable as exc:
        return _unavailable(request, application, exc.message)
    try:
        content = application_report_pdf(summary)
    except FontMissing as exc:
        return _unavailable(request, application, str(exc))
    return _attachment(
        request,
        content,
        PDF_TYPE,
        documents.report_filename(application),
        document="judgement_report",
        application=application,
    )


def _register(request: AuthenticatedRequest) -> QuerySet[Application]:
    """The register list page's rows for this user and this querystring (all pages)."""
    return RegisterFilterForm.for_user(request.user, request.GET).visible_to(request.user)


@require_GET
def register_report(request: AuthenticatedRequest) -> HttpResponse:
    """The register report (PDF) for the yearly review: the list page's rows, all pages."""
    generated = timezone.localtime()
    rows = list(documents.register_rows(_register(request), generated.date()))
    try:
        content = register_report_pdf(rows, generated_at=generated, date_style=date_style())
    except FontMissing as exc:
        messages.error(request, str(exc))
        return redirect("register:list")
    return _attachment(
        request,
        content,
        PDF_TYPE,
        documents.register_report_filename(generated.date()),
        document="register_report",
        extra={"rows": len(rows), "filters": request.GET.urlencode()},
    )
