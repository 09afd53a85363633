"""Pages of the criteria versions: the installed versions, what a revision
changes (``engine.revisions``) and re-judging the register (``rejudge``).

Thin, like ``views``: the work is in the core and in ``rejudge``. The
versions and the diff are for the reviewers (and the auditor); applying a
version to the register is the security office's. Applying works in steps of
a few batches per POST, each step answered by the page with the run's
progress, which posts the next step until the run is finished: a run the
browser leaves is resumed by the next click (or ``cloudjudge rejudge``).
"""

from __future__ import annotations

from functools import lru_cache

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cloudjudge.catalog import Catalog, CatalogError
from cloudjudge.catalog.versions import find_catalog, installed_catalogs
from cloudjudge.engine.revisions import CatalogDiff, diff_catalogs
from cloudjudge.presentation.revisions import field_words
from cloudjudge.web.authenticated import AuthenticatedRequest
from cloudjudge.web.register import permissions, rejudge
from cloudjudge.web.register.judging import criteria

#: Batches applied per POST: a step stays well under a proxy's timeout.
BATCHES_PER_STEP = 10


def _reader(request: AuthenticatedRequest) -> None:
    if not permissions.can_see_revisions(request.user):
        raise PermissionDenied


def _version(name: str) -> Catalog:
    try:
        return find_catalog(name)
    except CatalogError:
        raise Http404(name) from None


@lru_cache(maxsize=8)
def _diff(old: Catalog, new: Catalog) -> CatalogDiff:
    return diff_catalogs(old, new)


@require_GET
def versions(request: AuthenticatedRequest) -> HttpResponse:
    _reader(request)
    installed = installed_catalogs()
    current = criteria()
    newest = installed[-1] if installed else current
    return render(
        request,
        "register/versions.html",
        {
            "versions": installed,
            "current": current,
            "newest": newest,
            "can_rejudge": permissions.can_rejudge(request.user),
            "runs": rejudge.RejudgeRun.objects.select_related("started_by")[:10],
        },
    )


@require_GET
def catalog_diff(request: AuthenticatedRequest) -> HttpResponse:
    _reader(request)
    old = _version(request.GET.get("old", ""))
    new = _version(request.GET.get("new", ""))
    diff = _diff(old, new)
    changes = [(c, field_words(c.fields)) for c in diff.rules_changed]
    return render(request, "register/catalog_diff.html", {"diff": diff, "rule_changes": changes})


@require_GET
def rejudge_report(request: AuthenticatedRequest) -> HttpResponse:
    _reader(request)
    catalog = _version(request.GET.get("version", ""))
    report = rejudge.report(catalog)
    try:
        rejudge.check_applicable(catalog)
        not_applicable = ""
    except rejudge.NotInForce as exc:
        not_applicable = str(exc)
    return render(
        request,
        "register/rejudge.html",
        {
            "catalog": catalog,
            "report": report,
            "changed": report.changed,
            "unchanged": len(report.changes) - len(report.changed),
            "can_rejudge": permissions.can_rejudge(request.user),
            "not_applicable": not_applicable,
            "run": rejudge.open_run(catalog),
            "last_run": rejudge.RejudgeRun.objects.filter(catalog_label=catalog.label).first(),
        },
    )


@require_POST
def rejudge_apply(request: AuthenticatedRequest) -> HttpResponse:
    if not permissions.can_rejudge(request.user):
        raise PermissionDenied
    catalog = _version(request.POST.get("version", ""))
    run: rejudge.RejudgeRun | None = None
    try:
        run = rejudge.apply(catalog, request.user, max_batches=BATCHES_PER_STEP)
    except rejudge.NotInForce as exc:
        messages.error(request, str(exc))
    else:
        if run.finished:
            messages.success(
                request,
                _(
                    "Re-judged %(done)s applications: %(changed)s changed, "
                    "%(worse)s moved to needs review."
                )
                % {"done": run.done, "changed": run.changed, "worse": run.worsened},
            )
    query = {"version": catalog.label}
    if run is not None and not run.finished:
        query["continue"] = "1"
    return redirect(f"{reverse('register:rejudge')}?{urlencode(query)}")
