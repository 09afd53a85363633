"""The registry pages: the list with search and status filters, an entry and
its linked services, editing (security office), importing with the diff or
the file's problems, the snapshot history, the check of services in use, a
service's registry status and recorded numbers, and re-judging from an alert.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cloudjudge import registries as core
from cloudjudge.web.authenticated import AuthenticatedRequest
from cloudjudge.web.register import permissions as register_permissions
from cloudjudge.web.register.models import Application, Service
from cloudjudge.web.registries import entries, permissions, relinks
from cloudjudge.web.registries.checking import IN_USE_STATUSES, check_in_use
from cloudjudge.web.registries.forms import EntryFilterForm, EntryForm, ImportForm, NumberForm
from cloudjudge.web.registries.importing import import_registry
from cloudjudge.web.registries.listings import STATUS_LABELS, Registry, effective_listings
from cloudjudge.web.registries.models import (
    Kind,
    RegistryEntry,
    RegistryLink,
    RegistrySnapshot,
    RelinkDecision,
    RelinkProposal,
)

PAGE_SIZE = 50
#: Rows of each part of a diff shown on a page (the rest is counted).
DIFF_SHOWN = 300


def _viewer(request: AuthenticatedRequest) -> None:
    if not permissions.can_view(request.user):
        raise PermissionDenied


def _editor(request: AuthenticatedRequest) -> None:
    if not permissions.can_edit(request.user):
        raise PermissionDenied


def _current_snapshots() -> dict[str, RegistrySnapshot]:
    current = RegistrySnapshot.objects.filter(is_current=True).select_related("importer")
    return {s.kind: s for s in current}


# --------------------------------------------------------------------------- list & entry


@require_GET
def entry_list(request: AuthenticatedRequest) -> HttpResponse:
    _viewer(request)
    today = timezone.localdate()
    form = EntryFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = entries.search_entries(
        kind=filters.get("kind", ""),
        status=filters.get("status", ""),
        q=filters.get("q", ""),
        today=today,
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for entry in page.object_list:
        entry.status_today = entry.status_on(today)
        entry.status_label = STATUS_LABELS[entry.status_today]
    counts = dict(
        RegistryEntry.objects.on_list()
        .order_by()
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    current = _current_snapshots()
    kinds = [(code, label, current.get(code), counts.get(code, 0)) for code, label in Kind.choices]
    return render(
        request,
        "registries/list.html",
        {
            "form": form,
            "page": page,
            "total": page.paginator.count,
            "kinds": kinds,
            "today": today,
            "can_edit": permissions.can_edit(request.user),
        },
    )


def _linked_services(entry: RegistryEntry):
    """Register services that resolve to this entry (by number or by name).

    Only the candidates are resolved: services whose recorded number is this
    entry's, or whose normalised name is its name; the registry is loaded for
    them alone (the same answer as the whole registry gives)."""
    numbers = dict(RegistryLink.objects.filter(kind=entry.kind).values_list("service_id", "number"))
    candidates = [
        service
        for service in Service.objects.only("id", "name", "provider").order_by("name")
        if numbers.get(service.pk) == entry.number
        or core.normalise_name(service.name) == entry.name_key
    ]
    registry = Registry.load(candidates, [numbers[s.pk] for s in candidates if s.pk in numbers])
    linked = []
    for service in candidates:
        number = numbers.get(service.pk, "")
        found = registry.resolve(entry.kind, service.name, service.provider, number)
        if found.entry is not None and found.entry.pk == entry.pk:
            service.match_method = found.method
            linked.append(service)
    in_use: dict[int, list[Application]] = {}
    for app in (
        Application.objects.filter(service__in=linked, status__in=IN_USE_STATUSES)
        .only("id", "number", "status", "service_id")
        .order_by("number")
    ):
        in_use.setdefault(app.service_id, []).append(app)
    for service in linked:
        service.in_use = in_use.get(service.pk, [])
    return linked


@require_GET
def entry_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _viewer(request)
    entry = get_object_or_404(
        RegistryEntry.objects.select_related("snapshot", "removed_in", "updated_by", "renewed_as"),
        pk=pk,
    )
    today = timezone.localdate()
    status = entry.status_on(today)
    days_left = (entry.expires_on - today).days if entry.expires_on else None
    return render(
        request,
        "registries/entry.html",
        {
            "entry": entry,
            "status": status,
            "status_label": STATUS_LABELS[status],
            "days_left": days_left,
            "services": _linked_services(entry),
            "can_edit": permissions.can_edit(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
def entry_edit(request: AuthenticatedRequest, pk: int | None = None) -> HttpResponse:
    _editor(request)
    entry = get_object_or_404(RegistryEntry, pk=pk) if pk is not None else RegistryEntry()
    form = EntryForm(request.POST or None, instance=entry)
    if request.method == "POST" and form.is_valid():
        saved = entries.save_entry(form.save(commit=False), request.user, request)
        messages.success(request, _("Registry entry saved (recorded in the audit log)."))
        return redirect("registries:entry", pk=saved.pk)
    return render(request, "registries/entry_form.html", {"form": form, "entry": entry})


# --------------------------------------------------------------------------- import


@require_http_methods(["GET", "POST"])
def import_view(request: AuthenticatedRequest) -> HttpResponse:
    _editor(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = import_registry(
            form.cleaned_data["kind"],
            upload,
            request.user,
            filename=upload.name,
            request=request,
        )
        if result.status == "imported":
            messages.success(request, result.message)
            return redirect("registries:snapshot", pk=result.snapshot.pk)
        if result.status == "unchanged":
            messages.info(request, result.message)
            return redirect("registries:snapshot", pk=result.snapshot.pk)
    return render(
        request,
        "registries/import.html",
        {
            "form": form,
            "result": result,
            "kinds": Kind.choices,
            "current": _current_snapshots(),
        },
    )


@require_GET
def template_download(request: AuthenticatedRequest, kind: str) -> HttpResponse:
    _viewer(request)
    if kind not in core.KINDS:
        raise Http404
    response = HttpResponse(
        core.template_bytes(kind),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="registry-template-{kind}.xlsx"'
    return response


# --------------------------------------------------------------------------- snapshots


@require_GET
def snapshot_list(request: AuthenticatedRequest) -> HttpResponse:
    _viewer(request)
    kind = request.GET.get("kind", "")
    qs = RegistrySnapshot.objects.select_related("importer").defer("diff")
    if kind in core.KINDS:
        qs = qs.filter(kind=kind)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "registries/snapshots.html",
        {"page": page, "kind": kind, "kinds": Kind.choices},
    )


def _diff_view(diff: dict) -> dict:
    labels = {
        f.name: f.verbose_name
        for f in RegistryEntry._meta.get_fields()
        if hasattr(f, "verbose_name")
    }
    changed = [
        {
            **c,
            "fields": [{**f, "label": labels.get(f["field"], f["field"])} for f in c["fields"]],
        }
        for c in diff.get("changed", [])[:DIFF_SHOWN]
    ]
    renewed = [
        {**r, "how_label": core.HOW_LABELS.get(r.get("how", ""), r.get("how", ""))}
        for r in diff.get("renewed", [])[:DIFF_SHOWN]
    ]
    return {
        "renewed": renewed,
        "added": diff.get("added", [])[:DIFF_SHOWN],
        "removed": diff.get("removed", [])[:DIFF_SHOWN],
        "changed": changed,
        "more_added": max(0, len(diff.get("added", [])) - DIFF_SHOWN),
        "more_removed": max(0, len(diff.get("removed", [])) - DIFF_SHOWN),
        "more_changed": max(0, len(diff.get("changed", [])) - DIFF_SHOWN),
    }


@require_GET
def snapshot_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _viewer(request)
    snapshot = get_object_or_404(RegistrySnapshot.objects.select_related("importer"), pk=pk)
    return render(
        request,
        "registries/snapshot.html",
        {"snapshot": snapshot, "diff": _diff_view(snapshot.diff or {})},
    )


# --------------------------------------------------------------------------- services in use


@require_GET
def check_view(request: AuthenticatedRequest) -> HttpResponse:
    _viewer(request)
    try:
        days = max(0, min(3650, int(request.GET.get("days", core.DEFAULT_DAYS_AHEAD))))
    except ValueError:
        days = core.DEFAULT_DAYS_AHEAD
    report = check_in_use(register_permissions.visible_applications(request.user), days=days)
    return render(
        request,
        "registries/check.html",
        {"report": report, "can_edit": permissions.can_edit(request.user)},
    )


@require_http_methods(["GET", "POST"])
def service_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _viewer(request)
    service = get_object_or_404(Service, pk=pk)
    numbers = dict(RegistryLink.objects.filter(service=service).values_list("kind", "number"))
    form = NumberForm(request.POST or None, numbers=numbers)
    if request.method == "POST":
        _editor(request)
        if form.is_valid():
            for kind in core.KINDS:
                entries.set_number(service, kind, form.cleaned_data[kind], request.user, request)
            messages.success(request, _("Registration numbers saved (recorded in the audit log)."))
            return redirect("registries:service", pk=service.pk)
    listings = effective_listings(service)
    applications = service.applications.filter(
        Q(status__in=IN_USE_STATUSES) | Q(status__in=["draft", "submitted", "returned"])
    ).order_by("number")
    return render(
        request,
        "registries/service.html",
        {
            "service": service,
            "listings": listings,
            "form": form,
            "applications": applications,
            "can_edit": permissions.can_edit(request.user),
        },
    )


@require_POST
def rejudge_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _editor(request)
    application = get_object_or_404(
        register_permissions.visible_applications(request.user).select_related("service"), pk=pk
    )
    before = application.latest_judgement_id
    judgement = entries.rejudge(application, request.user, request)
    if judgement.pk == before:
        messages.info(
            request, _("Nothing the judgement rests on has changed (the last judgement stands).")
        )
    else:
        messages.success(request, _("Judged again with the current registry."))
    return redirect("register:detail", pk=application.pk)


# --------------------------------------------------------------------------- re-links


@require_GET
def relink_list(request: AuthenticatedRequest) -> HttpResponse:
    """Re-links awaiting the security office, and the latest decisions."""
    _viewer(request)
    decided = (
        RelinkProposal.objects.exclude(decision=RelinkDecision.PENDING)
        .select_related("service", "decided_by", "snapshot")
        .order_by("-decided_at", "-id")[:50]
    )
    return render(
        request,
        "registries/relinks.html",
        {
            "pending": relinks.pending(),
            "decided": decided,
            "can_edit": permissions.can_edit(request.user),
        },
    )


@require_POST
def relink_decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _editor(request)
    decide = {"accept": relinks.accept, "reject": relinks.reject}.get(
        request.POST.get("decision", "")
    )
    if decide is None:
        raise Http404
    get_object_or_404(RelinkProposal, pk=pk)
    try:
        proposal = decide(pk, request.user, request)
    except relinks.StaleProposal as exc:
        messages.info(request, _("This proposal was decided already (%(state)s).") % {"state": exc})
        return redirect("registries:relinks")
    if proposal.decision == RelinkDecision.ACCEPTED:
        messages.success(
            request,
            _("%(service)s now carries %(number)s (recorded in the audit log).")
            % {"service": proposal.service.name, "number": proposal.new_number},
        )
    else:
        messages.info(
            request,
            _("%(service)s keeps its link (recorded in the audit log).")
            % {"service": proposal.service.name},
        )
    return redirect("registries:relinks")
