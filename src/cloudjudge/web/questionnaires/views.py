"""Pages of a filled questionnaire coming back: the upload, the review of its
proposals by the security office, and the workbook as the vendor returned it.

Reading a questionnaire needs ``can_work_checklist``; deciding on its
proposals the security office (see ``importing``). The blank questionnaire
itself is a document: ``web/documents/views.py``.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from cloudjudge.documents import QuestionnaireError
from cloudjudge.documents.questionnaire import ANSWER_SHEET, HEADERS, QuestionnaireProblem
from cloudjudge.web.audit.models import Action
from cloudjudge.web.audit.trail import record
from cloudjudge.web.authenticated import AuthenticatedRequest
from cloudjudge.web.documents import content as documents
from cloudjudge.web.documents import exports
from cloudjudge.web.documents.forms import QuestionnaireDownloadForm
from cloudjudge.web.documents.views import XLSX_TYPE
from cloudjudge.web.questionnaires import importing
from cloudjudge.web.questionnaires.forms import DecisionForm, QuestionnaireUploadForm
from cloudjudge.web.questionnaires.models import ProposalDecision, QuestionnaireImport
from cloudjudge.web.register import permissions
from cloudjudge.web.register.models import Application


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
def import_workbook(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Upload a filled questionnaire: its proposals on success, every problem otherwise."""
    application = permissions.visible_application(request.user, pk, "latest_judgement")
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
                return redirect("questionnaires:review", pk=application.pk, imp=imported.pk)
        else:
            status = 400
    else:
        form = QuestionnaireUploadForm()
    imports = application.questionnaire_imports.select_related("uploaded_by").annotate(
        pending=Count("proposals", filter=Q(proposals__decision=ProposalDecision.PENDING))
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
def review(request: AuthenticatedRequest, pk: int, imp: int) -> HttpResponse:
    """The proposals of one import; the security office accepts or rejects them."""
    application = permissions.visible_application(request.user, pk, "latest_judgement")
    imported = _import(application, imp)
    can_decide = importing.can_decide(request.user, application)
    proposals = list(
        imported.proposals.select_related("checklist_item", "decided_by").order_by("row", "id")
    )
    pending_ids = [p.pk for p in proposals if p.pending]
    stale = imported.judgement_id != application.latest_judgement_id
    if request.method == "POST":
        if not can_decide:
            raise PermissionDenied
        form = DecisionForm(request.POST, pending_ids=pending_ids)
        if form.is_valid():
            if form.accepting and not stale:  # a stale import is refused below, by accept()
                chosen = form.selected
                targets = [p for p in proposals if p.pending and (chosen is None or p.pk in chosen)]
                missing = importing.missing_reasons(targets, form.reasons)
                if missing:
                    for line in missing:
                        messages.error(request, line)
                    return redirect("questionnaires:review", pk=application.pk, imp=imported.pk)
                if len(targets) > 1 and not form.cleaned_data["confirmed"]:
                    return render(
                        request,
                        "questionnaires/confirm.html",
                        {
                            "application": application,
                            "imported": imported,
                            "targets": targets,
                            "reasons": form.reasons,
                        },
                    )
            try:
                if form.accepting:
                    done = importing.accept(imported, request.user, form.selected, form.reasons)
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
                for line in exc.messages:
                    messages.error(request, line)
            else:
                messages.success(request, note % {"n": len(done)})
            return redirect("questionnaires:review", pk=application.pk, imp=imported.pk)
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("questionnaires:review", pk=application.pk, imp=imported.pk)
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
def workbook(request: AuthenticatedRequest, pk: int, imp: int) -> FileResponse:
    """The workbook as the vendor returned it (an attachment, like evidence)."""
    application = permissions.visible_application(request.user, pk, "latest_judgement")
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
