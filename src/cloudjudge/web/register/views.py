"""Views of the register: thin. They look objects up through ``permissions``,
validate with ``forms`` and hand the work to ``applications``, ``workflow``,
``checklist``, ``evidence`` and ``overview``. Every page requires login
(``LoginRequiredMiddleware``); a typed-in ID outside the user's scope is a 404.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cloudjudge.catalog import CatalogError, default_catalog
from cloudjudge.catalog.versions import find_catalog
from cloudjudge.presentation.decision import present
from cloudjudge.web.audit.models import Action
from cloudjudge.web.audit.trail import record, record_refusal
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
    ChecklistBulkForm,
    ChecklistItemForm,
    ChecklistRowForm,
    ConditionalApprovalForm,
    EvidenceForm,
    ExitStepForm,
    RegisterFilterForm,
    owner_candidates,
)
from cloudjudge.web.register.models import (
    Application,
    ExitStepCode,
    ReviewAction,
    Service,
    Status,
    Verdict,
)

PAGE_SIZE = 25

#: What the user reads once a step is taken, as a clerk would write it.
DONE = {
    workflow.Step.SUBMIT: gettext_lazy("The application was submitted."),
    workflow.Step.APPROVE: gettext_lazy("The application was approved."),
    workflow.Step.CISO_APPROVE: gettext_lazy("The CISO's approval was recorded."),
    workflow.Step.RETURN: gettext_lazy("The application was returned to the applicant."),
    workflow.Step.REJECT: gettext_lazy("The application was rejected."),
    workflow.Step.START_USE: gettext_lazy("Use of the service has started."),
    workflow.Step.MARK_REVIEW_DUE: gettext_lazy("The application was marked for review."),
    workflow.Step.REVIEW_DONE: gettext_lazy("The yearly review was recorded."),
    workflow.Step.BEGIN_EXIT: gettext_lazy("The exit procedure has begun (EXIT-1 to EXIT-3)."),
    workflow.Step.END: gettext_lazy("Use of the service has ended."),
    workflow.Step.MARK_NEEDS_REVIEW: gettext_lazy("The application was marked for review."),
    workflow.Step.CONFIRM_USE: gettext_lazy("Continued use was confirmed."),
}


def _refused(
    request: AuthenticatedRequest, exc: workflow.WorkflowError, application: Application
) -> None:
    """A step the workflow refused: the user reads why, the audit trail keeps
    it as アクセス拒否 (403: not theirs to do; 409: a guard failed, as in the API)."""
    status = 403 if isinstance(exc, workflow.NotAllowed) else 409
    record_refusal(request, exc.message, status=status, code=exc.code, obj=application)
    messages.error(request, exc.message)


def _application(request: AuthenticatedRequest, pk: int, *related: str) -> Application:
    return permissions.visible_application(request.user, pk, *related)


# --------------------------------------------------------------------------- overview


@require_GET
def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    applications = permissions.visible_applications(request.user)
    board = overview.cached_dashboard(request.user, applications)
    return render(
        request,
        "register/dashboard.html",
        {
            "board": board,
            "work": overview.cached_action_list(request.user, applications),
            "today": timezone.localdate(),
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
    limit = overview.SEARCH_COUNT_LIMIT if form.searches_text else None
    paginator = overview.CountedPaginator(results, PAGE_SIZE, count_limit=limit)
    page = paginator.get_page(request.GET.get("page"))
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
        {
            "form": form,
            "page": page,
            "columns": columns,
            "total": paginator.count,
            "more": paginator.capped,
        },
    )


@require_GET
def review_queue(request: AuthenticatedRequest) -> HttpResponse:
    if not permissions.can_review(request.user):
        raise PermissionDenied
    applications = overview.awaiting_review(
        permissions.visible_applications(request.user), request.user
    ).select_related("service", "department", "applicant", "approved_by", "ciso_approved_by")
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
        {
            "catalog": cat,
            "groups": list(groups.items()),
            "clauses": cat.clauses,
            "rules": cat.rules,
        },
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
            "picked_service": editor.picked_service(),
            "reviewer_comment": reviewer_comment(application) if application else None,
        },
    )


def _valid(request: AuthenticatedRequest, editor: ApplicationEditor) -> bool:
    """A draft is saved with facts still missing; submitting needs them all,
    and the message names the fields to fill in."""
    submitting = bool(request.POST.get("submit"))
    if editor.is_valid(complete=submitting):
        return True
    if submitting:
        messages.error(
            request,
            _("The application was not submitted. Fill in: %(fields)s.")
            % {"fields": "、".join(editor.invalid_labels())},
        )
    return False


def _save(request: AuthenticatedRequest, editor: ApplicationEditor) -> HttpResponse:
    application = editor.save(request.user)
    if request.POST.get("submit") and needs_confirmation(application, workflow.Step.SUBMIT):
        # A prohibited application: saved as a draft, and the remedies shown
        # before anything is submitted.
        application = _application(request, application.pk, "latest_judgement")
        return confirmation_page(request, application, workflow.Step.SUBMIT)
    if request.POST.get("submit"):
        try:
            workflow.perform(application, workflow.Step.SUBMIT, request.user)
            messages.success(request, DONE[workflow.Step.SUBMIT])
        except workflow.WorkflowError as exc:
            _refused(request, exc, application)
    elif application.latest_judgement_id is None:
        messages.success(
            request,
            _("The draft was saved. It is judged once the required facts are filled in."),
        )
    else:
        messages.success(request, _("The application was saved as a draft."))
    return redirect("register:detail", pk=application.pk)


@require_http_methods(["GET", "POST"])
def application_create(request: AuthenticatedRequest) -> HttpResponse:
    if not permissions.can_create_application(request.user):
        raise PermissionDenied
    editor = ApplicationEditor(request.POST if request.method == "POST" else None)
    if request.method == "POST" and _valid(request, editor):
        return _save(request, editor)
    return _form_page(request, editor, None)


@require_http_methods(["GET", "POST"])
def application_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    application = _application(request, pk, "latest_judgement")
    if not permissions.can_edit_application(request.user, application):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else None
    editor = ApplicationEditor(data, instance=application)
    if request.method == "POST" and _valid(request, editor):
        return _save(request, editor)
    return _form_page(request, editor, application)


@require_GET
def service_status(request: AuthenticatedRequest) -> HttpResponse:
    """The registry status of the service picked on the form (htmx)."""
    if not permissions.can_create_application(request.user):
        raise PermissionDenied
    pk = request.GET.get("service", "")
    service = Service.objects.filter(pk=pk).first() if pk.isdigit() else None
    return render(request, "register/_service_status.html", {"service": service})


@require_POST
def application_preview(request: AuthenticatedRequest) -> HttpResponse:
    """The live verdict (htmx): judge what has been filled in, keep nothing."""
    if not permissions.can_create_application(request.user):
        raise PermissionDenied
    decision, missing = ApplicationEditor(request.POST).preview()
    return render(
        request, "register/_verdict.html", {"decision": decision, "missing": missing, "live": True}
    )


# --------------------------------------------------------------------------- application detail


def _checklist(
    application: Application,
    user,
    *,
    bound: ChecklistRowForm | None = None,
    bulk: ChecklistBulkForm | None = None,
) -> dict[str, Any]:
    """What the checklist section shows: its rows, and for whoever may work
    on them a form per row (``bound``: the one just posted, with its errors)
    and the bulk form (``bulk``)."""
    items = list(application.checklist_items.select_related("owner").prefetch_related("evidence"))
    active_items = [i for i in items if i.active]
    can_work = permissions.can_work_checklist(user, application)
    rows: list[tuple[Any, ChecklistRowForm | None]] = [(item, None) for item in active_items]
    if can_work and active_items:
        owners = owner_candidates(application)
        owner_field = ChecklistRowForm(instance=active_items[0], owners=owners).fields["owner"]
        assert isinstance(owner_field, forms.ModelChoiceField)
        owner_choices = list(owner_field.choices)  # type: ignore[arg-type]
        rows = [
            (
                item,
                bound
                if bound is not None and bound.instance.pk == item.pk
                else ChecklistRowForm(instance=item, owner_choices=owner_choices, owners=owners),
            )
            for item in active_items
        ]
        if bulk is None:
            bulk = ChecklistBulkForm(
                application=application, items=active_items, owner_choices=owner_choices
            )
    selected: set[int] = set()
    if bulk is not None and bulk.is_bound:
        selected = {int(v) for v in bulk["items"].value() or [] if str(v).isdigit()}
    return {
        "application": application,
        "items": active_items,
        "rows": rows,
        "selected": selected,
        "bulk_form": bulk if can_work else None,
        "retired_items": [i for i in items if not i.active],
        "progress": checklist.Progress(sum(i.resolved for i in active_items), len(active_items)),
        "can_work": can_work,
    }


def _exit_steps(application: Application) -> list[Any]:
    """EXIT-1..3, each with the checklist row of the same ID (``.row``) it links to."""
    rows = {
        i.item_id: i
        for i in application.checklist_items.filter(active=True, item_id__in=ExitStepCode.values)
    }
    steps = list(application.exit_steps.select_related("done_by"))
    for step in steps:
        setattr(step, "row", rows.get(step.step))  # noqa: B010 (a display attribute)
    return steps


def _detail_page(request: AuthenticatedRequest, application: Application, **checklist_forms):
    user = request.user
    checklist_part = _checklist(application, user, **checklist_forms)
    active_items = checklist_part["items"]
    context = {
        **checklist_part,
        "application": application,
        "decision": application.latest_judgement.decision if application.latest_judgement else None,
        "judgements": application.judgements.select_related("actor").defer("request", "decision"),
        "history": application.status_changes.select_related("actor"),
        "reviews": application.reviews.select_related("actor"),
        "exit_steps": _exit_steps(application),
        "exit_evidence": [e for e in application.evidence.all() if e.exit_step],
        "actions": workflow.available_actions(application, user),
        "state": workflow.state_of(application),
        "approvals_given": workflow.approvals_given(application),
        "ciso_approval_given": application.ciso_approved_at is not None
        and bool(workflow.approvals_given(application)),
        "worse_verdict": workflow.worse_verdict_notice(application),
        "previous_judgement": _previous_judgement(application),
        "reviewer_comment": reviewer_comment(application),
        "conditional_rows": [i for i in active_items if i.open_under_condition and not i.resolved]
        if application.conditionally_approved_at
        else [],
        "may_approve_conditionally": _may_approve_conditionally(user, application, active_items),
        "can_edit": permissions.can_edit_application(user, application),
        "EXIT_2": ExitStepCode.EXIT_2,
        "newer": rejudge.newer_judgements(application),
    }
    return render(request, "register/detail.html", context)


def _detail_application(request: AuthenticatedRequest, pk: int) -> Application:
    return _application(
        request, pk, "applicant", "latest_judgement", "approved_by", "ciso_approved_by"
    )


@require_GET
def application_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _detail_application(request, pk))


def reviewer_comment(application: Application):
    """The reviewer's reason for a 差戻し or 却下, shown at the top of the page and
    of the edit form while the application is returned or rejected."""
    if application.status not in (Status.RETURNED, Status.REJECTED):
        return None
    return (
        application.reviews.filter(action__in=(ReviewAction.RETURN, ReviewAction.REJECT))
        .select_related("actor")
        .first()
    )


def _previous_judgement(application: Application):
    if application.status != Status.NEEDS_REVIEW or application.latest_judgement_id is None:
        return None
    return (
        application.judgements.exclude(pk=application.latest_judgement_id).defer("request").first()
    )


def _may_approve_conditionally(user, application: Application, items) -> bool:
    return (
        application.status == Status.APPROVED
        and permissions.can_review(user)
        and user.pk != application.applicant_id
        and application.verdict != Verdict.PROHIBITED
        and any(not i.resolved for i in items)
    )


def needs_confirmation(application: Application, action: str) -> bool:
    """Irreversible steps, and submitting a prohibited application, ask first."""
    if action in workflow.CONFIRMED_STEPS:
        return True
    return action == workflow.Step.SUBMIT and application.verdict == Verdict.PROHIBITED


def confirmation_page(
    request: AuthenticatedRequest, application: Application, action: str, comment: str = ""
) -> HttpResponse:
    """What the step will do, before it is done: the open checklist rows (for
    approve and 利用開始), the remedies (for a prohibited submission)."""
    transition = workflow.TRANSITIONS[action]
    decision = application.latest_judgement.decision if application.latest_judgement else None
    view = present(decision, default_catalog()) if decision else None
    rows = (
        workflow.open_rows(application)
        if action in (workflow.Step.APPROVE, workflow.Step.CISO_APPROVE, workflow.Step.START_USE)
        else []
    )
    blocking = (
        {i.pk for i in workflow.unconditioned_open_rows(application)}
        if action == workflow.Step.START_USE
        else set()
    )
    return render(
        request,
        "register/confirm.html",
        {
            "application": application,
            "transition": transition,
            "state": workflow.state_of(application),
            "comment": comment,
            "open_rows": rows,
            "blocking": blocking,
            "prohibited_submit": action == workflow.Step.SUBMIT
            and application.verdict == Verdict.PROHIBITED,
            "decision_view": view,
            "blocked": workflow.blocked_by(application, request.user, transition),
            # a prohibited submission asks too, but the office can return it
            "irreversible": action in workflow.CONFIRMED_STEPS,
        },
    )


@require_POST
def application_action(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    application = _application(request, pk, "latest_judgement")
    form = ActionForm(request.POST)
    if not form.is_valid():
        raise PermissionDenied
    action = form.cleaned_data["action"]
    if needs_confirmation(application, action) and not request.POST.get("confirmed"):
        try:
            workflow.check(application, action, request.user)
        except workflow.NotAllowed as exc:
            raise PermissionDenied(exc.message) from None
        except workflow.GuardFailed:
            pass  # the page says why it cannot be done
        return confirmation_page(request, application, action, form.cleaned_data["comment"])
    try:
        workflow.perform(
            application, form.cleaned_data["action"], request.user, form.cleaned_data["comment"]
        )
    except workflow.NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    except workflow.GuardFailed as exc:
        _refused(request, exc, application)
    else:
        messages.success(request, DONE[workflow.Step(form.cleaned_data["action"])])
    return redirect("register:detail", pk=application.pk)


@require_http_methods(["GET", "POST"])
def conditional_approval(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A reviewer records which open rows may stay open at 利用開始, with an
    owner and a due date each."""
    application = _application(request, pk, "latest_judgement")
    items = [i for i in application.checklist_items.select_related("owner") if i.active]
    if not _may_approve_conditionally(request.user, application, items):
        raise PermissionDenied(_("A conditional approval is not possible now."))
    form = ConditionalApprovalForm(
        request.POST if request.method == "POST" else None, application=application
    )
    if request.method == "POST" and form.is_valid():
        try:
            workflow.approve_conditionally(
                application, request.user, form.conditions(), form.cleaned_data["comment"]
            )
        except workflow.NotAllowed as exc:
            raise PermissionDenied(exc.message) from None
        except workflow.GuardFailed as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The conditional approval was recorded."))
            return redirect("register:detail", pk=application.pk)
    return render(
        request,
        "register/conditional.html",
        {"application": application, "form": form, "state": workflow.state_of(application)},
    )


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


def _htmx(request: AuthenticatedRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@require_POST
def checklist_row(request: AuthenticatedRequest, pk: int, item_pk: int) -> HttpResponse:
    """One row of the checklist table changed in place: with htmx the row
    comes back (with its errors next to it); without, the page, at the row."""
    application = _detail_application(request, pk)
    item = get_object_or_404(
        application.checklist_items.filter(active=True).select_related("owner"), pk=item_pk
    )
    if not permissions.can_work_checklist(request.user, application):
        raise PermissionDenied(
            _("You may not change this checklist, or not while the application is %(status)s.")
            % {"status": application.get_status_display()}
        )
    item.application = application
    form = ChecklistRowForm(request.POST, instance=item)
    if form.is_valid():
        form.save(request.user)
        saved = True
    else:
        saved = False
    if _htmx(request):
        context = _checklist(application, request.user, bound=None if saved else form)
        row = next(r for r in context["rows"] if r[0].pk == item.pk)
        return render(
            request,
            "register/_checklist_row.html",
            {**context, "item": row[0], "row_form": row[1], "saved": saved},
        )
    if saved:
        messages.success(request, _("%(item)s was updated.") % {"item": item.item_id})
        return redirect(f"{reverse('register:detail', args=[application.pk])}#item-{item.pk}")
    return _detail_page(request, application, bound=form)


@require_POST
def checklist_bulk(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The same change to the selected rows, in one transaction (each row
    audited as a single edit would be)."""
    application = _detail_application(request, pk)
    if not permissions.can_work_checklist(request.user, application):
        raise PermissionDenied(
            _("You may not change this checklist, or not while the application is %(status)s.")
            % {"status": application.get_status_display()}
        )
    items = list(application.checklist_items.filter(active=True).select_related("owner"))
    form = ChecklistBulkForm(request.POST, application=application, items=items)
    done: list[Any] = []
    if form.is_valid():
        try:
            done = form.save(request.user)
        except checklist.BulkError as exc:
            for row, message in exc.errors:
                form.add_error(None, f"{row.item_id}: {message}")
    if done:
        note = ngettext(
            "%(n)d checklist row was updated.", "%(n)d checklist rows were updated.", len(done)
        ) % {"n": len(done)}
        if not _htmx(request):
            messages.success(request, note)
            return redirect(
                f"{reverse('register:detail', args=[application.pk])}#checklist-heading"
            )
    else:
        note = ""
    # after a change, a fresh bulk form (nothing selected); else the one posted, with its errors
    shown = None if done else form
    if _htmx(request):
        return render(
            request,
            "register/_checklist.html",
            {**_checklist(application, request.user, bulk=shown), "bulk_done": note},
        )
    return _detail_page(request, application, bulk=shown)


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
        if isinstance(exc, workflow.WorkflowError):
            _refused(request, exc, application)
        else:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(step)s is complete.") % {"step": step})
    return redirect("register:detail", pk=application.pk)
