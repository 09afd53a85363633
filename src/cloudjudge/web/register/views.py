"""Views of the register: thin. They look objects up through ``permissions``,
validate with ``forms`` and hand the work to ``applications``, ``workflow``,
``checklist``, ``evidence`` and ``overview``. Every page requires login
(``LoginRequiredMiddleware``); a typed-in ID outside the user's scope is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cloudjudge.catalog import CatalogError, default_catalog
from cloudjudge.catalog.versions import find_catalog
from cloudjudge.web.audit.models import Action
from cloudjudge.web.audit.trail import record
from cloudjudge.web.authenticated import AuthenticatedRequest
from cloudjudge.web.files import uploads
from cloudjudge.web.register import (
    checklist,
    evidence,
    overview,
    permissions,
    rejudge,
    workflow,
)
from cloudjudge.web.register.forms import (
    ActionForm,
    ApplicationEditor,
    ChecklistItemForm,
    EvidenceForm,
    ExitStepForm,
    RegisterFilterForm,
)
from cloudjudge.web.register.models import Application, ExitStepCode

PAGE_SIZE = 25


def _application(request: AuthenticatedRequest, pk: int, *related: str) -> Application:
    return permissions.visible_application(request.user, pk, *related)


# --------------------------------------------------------------------------- overview


@require_GET
def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    applications = permissions.visible_applications(request.user)
    board = overview.dashboard(request.user, applications)
    return render(
        request,
        "register/dashboard.html",
        {
            "board": board,
            "is_reviewer": permissions.can_review(request.user),
        },
    )


LIST_COLUMNS = [
    ("number", gettext_lazy("Number")),
    ("service", gettext_lazy("Service")),
    ("department", gettext_lazy("Department")),
    ("confidentiality", gettext_lazy("Confidentiality")),
    ("method", gettext_lazy("Connection method")),
    ("verdict", gettext_lazy("Verdict")),
    ("status", gettext_lazy("Status")),
    ("progress", gettext_lazy("Checklist")),
    ("review_due", gettext_lazy("Review due")),
]


@require_GET
def register_list(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    form = RegisterFilterForm.for_user(user, request.GET)
    results = form.visible_to(user)
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    checklist.attach_progress(page.object_list)
    current = form.current_sort
    columns = []
    for key, label in LIST_COLUMNS:
        ascending, descending = current == key, current == f"-{key}"
        columns.append(
            {
                "key": key,
                "label": label,
                "sortable": key in overview.SORTS,
                "next": f"-{key}" if ascending else key,
                "aria_sort": "ascending" if ascending else "descending" if descending else "",
            }
        )
    return render(
        request,
        "register/list.html",
        {"form": form, "page": page, "columns": columns, "total": page.paginator.count},
    )


@require_GET
def review_queue(request: AuthenticatedRequest) -> HttpResponse:
    if not permissions.can_review(request.user):
        raise PermissionDenied
    applications = overview.awaiting_review(
        permissions.visible_applications(request.user), request.user
    ).select_related("service", "department", "applicant")
    page = Paginator(applications.order_by("submitted_at", "id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    checklist.attach_progress(page.object_list)
    return render(
        request,
        "register/reviews.html",
        {"page": page, "applications": page.object_list, "total": page.paginator.count},
    )


@require_GET
def catalog(request: AuthenticatedRequest) -> HttpResponse:
    cat = default_catalog()
    groups: dict[str, list] = {}
    for item in cat.items:
        groups.setdefault(item.group, []).append(item)
    return render(
        request,
        "register/catalog.html",
        {"catalog": cat, "groups": list(groups.items()), "clauses": cat.clauses},
    )


def judged_item(application: Application, item_id: str):
    """A checklist row's catalog item, from the version that judged it (a
    revision may have removed the item), else from the bundled catalog."""
    latest = application.latest_judgement
    try:
        catalog = find_catalog(latest.criteria_version) if latest else default_catalog()
    except CatalogError:
        catalog = default_catalog()
    if catalog.has_item(item_id):
        return catalog.item(item_id)
    base = default_catalog()
    return base.item(item_id) if base.has_item(item_id) else None


# --------------------------------------------------------------------------- application form


def _form_page(
    request: AuthenticatedRequest, editor: ApplicationEditor, application: Application | None
) -> HttpResponse:
    decision: dict[str, Any] | None = None
    missing: list[tuple[str, str]] = []
    if editor.bound:
        decision, missing = editor.preview()
    elif application is not None and application.latest_judgement is not None:
        decision = application.latest_judgement.decision
    return render(
        request,
        "register/form.html",
        {
            "editor": editor,
            "form": editor.form,
            "service_form": editor.service_form,
            "application": application,
            "decision": decision,
            "missing": missing,
        },
    )


def _save(request: AuthenticatedRequest, editor: ApplicationEditor) -> HttpResponse:
    application = editor.save(request.user)
    if request.POST.get("submit"):
        try:
            workflow.perform(application, workflow.Step.SUBMIT, request.user)
            messages.success(request, _("The application was submitted for review."))
        except workflow.WorkflowError as exc:
            messages.error(request, exc.message)
    else:
        messages.success(request, _("The application was saved as a draft."))
    return redirect("register:detail", pk=application.pk)


@require_http_methods(["GET", "POST"])
def application_create(request: AuthenticatedRequest) -> HttpResponse:
    if not permissions.can_create_application(request.user):
        raise PermissionDenied
    editor = ApplicationEditor(request.POST if request.method == "POST" else None)
    if request.method == "POST" and editor.is_valid():
        return _save(request, editor)
    return _form_page(request, editor, None)


@require_http_methods(["GET", "POST"])
def application_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    application = _application(request, pk, "latest_judgement")
    if not permissions.can_edit_application(request.user, application):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else None
    editor = ApplicationEditor(data, instance=application)
    if request.method == "POST" and editor.is_valid():
        return _save(request, editor)
    return _form_page(request, editor, application)


@require_POST
def application_preview(request: AuthenticatedRequest) -> HttpResponse:
    """The live verdict (htmx): judge what has been filled in, keep nothing."""
    if not permissions.can_create_application(request.user):
        raise PermissionDenied
    decision, missing = ApplicationEditor(request.POST).preview()
    return render(request, "register/_verdict.html", {"decision": decision, "missing": missing})


# --------------------------------------------------------------------------- application detail


@require_GET
def application_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    user = request.user
    application = _application(
        request, pk, "applicant", "latest_judgement", "approved_by", "ciso_approved_by"
    )
    items = list(application.checklist_items.select_related("owner").prefetch_related("evidence"))
    active_items = [i for i in items if i.active]
    context = {
        "application": application,
        "decision": application.latest_judgement.decision if application.latest_judgement else None,
        "judgements": application.judgements.select_related("actor").defer("request", "decision"),
        "items": active_items,
        "retired_items": [i for i in items if not i.active],
        "progress": checklist.Progress(sum(i.resolved for i in active_items), len(active_items)),
        "history": application.status_changes.select_related("actor"),
        "reviews": application.reviews.select_related("actor"),
        "exit_steps": list(application.exit_steps.select_related("done_by")),
        "exit_evidence": [e for e in application.evidence.all() if e.exit_step],
        "actions": workflow.available_actions(application, user),
        "can_edit": permissions.can_edit_application(user, application),
        "can_work": permissions.can_work_checklist(user, application),
        "EXIT_2": ExitStepCode.EXIT_2,
        "newer": rejudge.newer_judgements(application),
    }
    return render(request, "register/detail.html", context)


@require_POST
def application_action(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    application = _application(request, pk)
    form = ActionForm(request.POST)
    if not form.is_valid():
        raise PermissionDenied
    try:
        workflow.perform(
            application, form.cleaned_data["action"], request.user, form.cleaned_data["comment"]
        )
    except workflow.NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    except workflow.GuardFailed as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(action)s: done.") % {"action": workflow.Step(form.cleaned_data["action"]).label},
        )
    return redirect("register:detail", pk=application.pk)


@require_GET
def judgement_detail(request: AuthenticatedRequest, pk: int, judgement_pk: int) -> HttpResponse:
    application = _application(request, pk)
    judgement = get_object_or_404(application.judgements.select_related("actor"), pk=judgement_pk)
    return render(
        request,
        "register/judgement.html",
        {"application": application, "judgement": judgement, "decision": judgement.decision},
    )


# --------------------------------------------------------------------------- checklist & evidence


@require_http_methods(["GET", "POST"])
def checklist_item(request: AuthenticatedRequest, pk: int, item_pk: int) -> HttpResponse:
    application = _application(request, pk)
    item = get_object_or_404(application.checklist_items.select_related("owner"), pk=item_pk)
    can_work = permissions.can_work_checklist(request.user, application)
    if request.method == "POST":
        if not can_work:
            raise PermissionDenied
        form = ChecklistItemForm(request.POST, instance=item)
        if form.is_valid():
            form.save(request.user)
            messages.success(request, _("The checklist item was updated."))
            return redirect("register:detail", pk=application.pk)
    else:
        form = ChecklistItemForm(instance=item)
    catalog_item = judged_item(application, item.item_id)
    return render(
        request,
        "register/checklist_item.html",
        {
            "application": application,
            "item": item,
            "catalog_item": catalog_item,
            "form": form,
            "evidence_form": EvidenceForm(),
            "evidence": item.evidence.select_related("uploaded_by"),
            "can_work": can_work,
        },
    )


@require_POST
def evidence_upload(request: AuthenticatedRequest, pk: int, item_pk: int) -> HttpResponse:
    application = _application(request, pk)
    item = get_object_or_404(application.checklist_items, pk=item_pk)
    if not permissions.can_work_checklist(request.user, application):
        raise PermissionDenied
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        evidence.store(application, form.cleaned_data["file"], request.user, checklist_item=item)
        messages.success(request, _("The evidence file was uploaded."))
    else:
        for error in form.errors.get("file", []):
            messages.error(request, error)
    return redirect("register:checklist_item", pk=application.pk, item_pk=item.pk)


@require_GET
def evidence_download(request: AuthenticatedRequest, pk: int) -> FileResponse:
    """Evidence only as an attachment, only to users who may see its application."""
    item = get_object_or_404(permissions.visible_evidence(request.user), pk=pk)
    record(Action.EVIDENCE_DOWNLOAD, request=request, obj=item, extra={"sha256": item.sha256})
    response = FileResponse(
        item.file.open("rb"),
        as_attachment=True,
        filename=item.original_name,
        content_type=uploads.served_content_type(item),
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    # Should a browser ever render it, nothing in it runs or loads.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_POST
def exit_step(request: AuthenticatedRequest, pk: int, step: str) -> HttpResponse:
    application = _application(request, pk)
    try:
        workflow.check_exit_step(application, step, request.user)
    except workflow.NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    form = ExitStepForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("register:detail", pk=application.pk)
    try:
        with transaction.atomic():
            certificate = form.cleaned_data.get("certificate")
            if certificate:
                evidence.store(application, certificate, request.user, exit_step=step)
            workflow.complete_exit_step(application, step, request.user, form.cleaned_data["note"])
    except (workflow.WorkflowError, ValidationError) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
    else:
        messages.success(request, _("%(step)s is complete.") % {"step": step})
    return redirect("register:detail", pk=application.pk)
