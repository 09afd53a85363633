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
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from cloudjudge.catalog import default_catalog
from cloudjudge.documents import (
    QuestionnaireError,
    application_report_pdf,
    build_questionnaire,
    procurement_docx,
    procurement_markdown,
    register_report_pdf,
)
from cloudjudge.documents.questionnaire import ANSWER_SHEET, HEADERS, QuestionnaireProblem
from cloudjudge.web.audit.models import Action
from cloudjudge.web.audit.trail import record
from cloudjudge.web.questionnaires import importing
from cloudjudge.web.questionnaires.forms import (
    DecisionForm,
    QuestionnaireDownloadForm,
    QuestionnaireUploadForm,
)
from cloudjudge.web.questionnaires.models import Decision, QuestionnaireImport
from cloudjudge.web.register import documents, exports, permissions
from cloudjudge.web.register.forms import RegisterFilterForm
from cloudjudge.web.register.models import Application

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MARKDOWN_TYPE = "text/markdown; charset=utf-8"
PDF_TYPE = "application/pdf"
PROCUREMENT_FORMATS = {"docx": DOCX_TYPE, "md": MARKDOWN_TYPE}


def _application(request: HttpRequest, pk: int) -> Application:
    qs = permissions.visible_applications(request.user).select_related(
        "service", "department", "latest_judgement"
    )
    return get_object_or_404(qs, pk=pk)


def _attachment(
    request: HttpRequest,
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


def _unavailable(request: HttpRequest, application: Application, message: str) -> HttpResponse:
    messages.error(request, message)
    return redirect("register:detail", pk=application.pk)


# --------------------------------------------------------------------------- questionnaire


@require_GET
def questionnaire_download(request: HttpRequest, pk: int) -> HttpResponse:
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


def _problem_row(problem: QuestionnaireProblem) -> dict:
    """A problem as the table shows it: sheet, row, column (letter and header), message."""
    column = problem.column or ""
    header = HEADERS.get(column) if problem.sheet == ANSWER_SHEET else None
    if header:
        column = f"{column}（{header}）"
    return {
        "sheet": problem.sheet,
        "row": problem.row,
        "column": column,
        "message": problem.message,
    }


@require_http_methods(["GET", "POST"])
def questionnaire_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload a filled questionnaire: its proposals on success, every problem otherwise."""
    application = _application(request, pk)
    allowed = importing.can_import(request.user, application)
    problems = []
    status = 200
    if request.method == "POST":
        if not allowed:
            raise PermissionDenied
        form = QuestionnaireUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                imported = importing.import_workbook(
                    application, form.cleaned_data["workbook"], request.user
                )
            except QuestionnaireError as exc:
                problems = [_problem_row(p) for p in exc.problems]
                status = 400
            except documents.DocumentUnavailable as exc:
                problems = [{"sheet": "", "row": None, "column": "", "message": exc.message}]
                status = 400
            else:
                text = ngettext(
                    "The questionnaire was read: %(n)d answer awaits review.",
                    "The questionnaire was read: %(n)d answers await review.",
                    imported.answered,
                )
                messages.success(request, text % {"n": imported.answered})
                return redirect("register:questionnaire_review", pk=application.pk, imp=imported.pk)
        else:
            status = 400
    else:
        form = QuestionnaireUploadForm()
    imports = application.questionnaire_imports.select_related("uploaded_by").annotate(
        pending=Count("proposals", filter=Q(proposals__decision=Decision.PENDING))
    )
    return render(
        request,
        "questionnaires/import.html",
        {
            "application": application,
            "form": form,
            "problems": problems,
            "can_import": allowed,
            "imports": imports,
            "download_form": QuestionnaireDownloadForm(
                initial=QuestionnaireDownloadForm.initial_for(request.user)
            ),
        },
        status=status,
    )


def _import(application: Application, imp: int) -> QuestionnaireImport:
    return get_object_or_404(
        application.questionnaire_imports.select_related("uploaded_by", "judgement"), pk=imp
    )


@require_http_methods(["GET", "POST"])
def questionnaire_review(request: HttpRequest, pk: int, imp: int) -> HttpResponse:
    """The proposals of one import; the security office accepts or rejects them."""
    application = _application(request, pk)
    imported = _import(application, imp)
    can_decide = importing.can_decide(request.user, application)
    proposals = list(
        imported.proposals.select_related("checklist_item", "decided_by").order_by("row", "id")
    )
    pending_ids = [p.pk for p in proposals if p.pending]
    if request.method == "POST":
        if not can_decide:
            raise PermissionDenied
        form = DecisionForm(request.POST, pending_ids=pending_ids)
        if form.is_valid():
            try:
                if form.accepting:
                    done = importing.accept(imported, request.user, form.selected)
                    note = ngettext(
                        "%(n)d answer was applied to the checklist.",
                        "%(n)d answers were applied to the checklist.",
                        len(done),
                    )
                else:
                    done = importing.reject(imported, request.user, form.selected)
                    note = ngettext(
                        "%(n)d answer was rejected.", "%(n)d answers were rejected.", len(done)
                    )
            except importing.StaleImport as exc:
                messages.error(request, exc.message)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, note % {"n": len(done)})
            return redirect("register:questionnaire_review", pk=application.pk, imp=imported.pk)
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("register:questionnaire_review", pk=application.pk, imp=imported.pk)
    stale = imported.judgement_id != application.latest_judgement_id
    return render(
        request,
        "questionnaires/review.html",
        {
            "application": application,
            "imported": imported,
            "proposals": proposals,
            "pending": len(pending_ids),
            "can_decide": can_decide and bool(pending_ids) and not stale,
            "stale": stale,
        },
    )


@require_GET
def questionnaire_workbook(request: HttpRequest, pk: int, imp: int) -> FileResponse:
    """The workbook as the vendor returned it (an attachment, like evidence)."""
    application = _application(request, pk)
    imported = _import(application, imp)
    record(
        Action.EXPORT,
        request=request,
        obj=imported,
        extra={"document": "questionnaire_workbook", "sha256": imported.sha256},
    )
    response = FileResponse(imported.file.open("rb"), content_type=XLSX_TYPE)
    response["Content-Disposition"] = exports.content_disposition(
        imported.original_name, f"questionnaire-answers_{imported.pk}.xlsx"
    )
    response["Cache-Control"] = "private, no-store"
    return response


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
def application_procurement(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
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
def catalog_procurement(request: HttpRequest, fmt: str) -> HttpResponse:
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
def application_report(request: HttpRequest, pk: int) -> HttpResponse:
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
    return _attachment(
        request,
        application_report_pdf(summary),
        PDF_TYPE,
        documents.report_filename(application),
        document="judgement_report",
        application=application,
    )


def _register(request: HttpRequest) -> QuerySet[Application]:
    """The register list page's rows for this user and this querystring (all pages)."""
    return RegisterFilterForm.for_user(request.user, request.GET).visible_to(request.user)


@require_GET
def register_report(request: HttpRequest) -> HttpResponse:
    """The register report (PDF) for the yearly review: the list page's rows, all pages."""
    rows = list(documents.register_rows(_register(request)))
    generated = timezone.localtime()
    return _attachment(
        request,
        register_report_pdf(rows, generated_at=generated),
        PDF_TYPE,
        documents.register_report_filename(generated.date()),
        document="register_report",
        extra={"rows": len(rows), "filters": request.GET.urlencode()},
    )
