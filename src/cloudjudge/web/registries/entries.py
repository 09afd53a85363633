"""Searching, filtering and editing registry entries; recording a service's
registration numbers; re-judging an application against the registry.

``filter_status`` expresses ``cloudjudge.registries.status_on`` as a database
filter (the stored ``expires_on`` is ``expiry_date``), so the list page's
status filter and the status shown per row always agree (tested).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any, get_args

from django.db import transaction
from django.db.models import F, Q, QuerySet

from cloudjudge import registries as core
from cloudjudge.engine import RequestError
from cloudjudge.web.register import judging
from cloudjudge.web.register.models import Application, Judgement, Service, Status
from cloudjudge.web.registries import audit
from cloudjudge.web.registries.models import RegistryEntry, RegistryLink, RegistrySnapshot
from cloudjudge.web.search import search_words

#: The statuses the list can be filtered by: an entry's status on a day, and
#: ``removed`` and ``renewed`` (left the list, or renewed under a new number).
FILTER_STATUSES: tuple[str, ...] = (*get_args(core.ListingStatus), "removed", "renewed")


def _entry_match(word: str) -> Q:
    """Beyond the folded name and provider: the list's number as the list
    writes it, and the matching keys of the names (corporate forms dropped)."""
    match = Q(number__icontains=core.normalise_number(word))
    key = core.normalise_name(word)
    if key:
        match |= Q(name_key__contains=key) | Q(provider_key__contains=key)
    return match


def snapshot_dict(snap: RegistrySnapshot) -> dict[str, Any]:
    return {
        "id": snap.pk,
        "kind": snap.kind,
        "source_name": snap.source_name,
        "sha256": snap.sha256,
        "row_count": snap.row_count,
        "added": snap.added_count,
        "removed": snap.removed_count,
        "changed": snap.changed_count,
        "renewed": snap.renewed_count,
        "warnings": len(snap.warnings or []),
        "importer": snap.importer.get_username() if snap.importer else "",
        "imported_at": snap.imported_at.isoformat(),
        "is_current": snap.is_current,
    }


def status_q(status: str, today: datetime.date, days: int = core.DEFAULT_DAYS_AHEAD) -> Q:
    """Entries on the current list with this status on ``today`` (``removed``
    and ``renewed``: not on it)."""
    if status == "removed":
        return Q(removed_in__isnull=False, renewed_as__isnull=True)
    if status == "renewed":
        return Q(removed_in__isnull=False, renewed_as__isnull=False)
    on_list = Q(removed_in__isnull=True)
    # A withdrawal, lapse or suspension counts from its date (core.ended_status).
    dated = Q(status_since__isnull=True) | Q(status_since__lte=today)
    if status == "withdrawn":
        return on_list & dated & Q(withdrawn=True)
    if status == "lapsed":
        return on_list & dated & Q(withdrawn=False, lapsed=True)
    if status == "suspended":
        return on_list & dated & Q(withdrawn=False, lapsed=False, suspended=True)
    ended = dated & (Q(withdrawn=True) | Q(lapsed=True) | Q(suspended=True))
    live = on_list & ~ended
    registered = Q(registered_on__isnull=True) | Q(registered_on__lte=today)
    if status == "not_yet_registered":
        return live & Q(registered_on__gt=today)
    live &= registered
    horizon = today + datetime.timedelta(days=days)
    if status == "expired":
        return live & Q(expires_on__lt=today, renewal_pending=False)
    applied_late = Q(renewal_applied_on__gt=F("expires_on"))
    if status == "renewal_pending":
        return live & Q(expires_on__lt=today, renewal_pending=True) & ~applied_late
    if status == "renewal_late":
        return live & Q(expires_on__lt=today, renewal_pending=True) & applied_late
    if status == "expiring":
        return live & Q(expires_on__gte=today, expires_on__lt=horizon, renewal_pending=False)
    if status == "valid":
        return live & (
            Q(expires_on__isnull=True)
            | Q(expires_on__gte=horizon)
            | Q(expires_on__gte=today, renewal_pending=True)
        )
    raise ValueError(f"unknown status {status!r}")


def search_entries(
    *,
    kind: str = "",
    status: str = "",
    q: str = "",
    today: datetime.date,
    days: int = core.DEFAULT_DAYS_AHEAD,
) -> QuerySet[RegistryEntry]:
    qs = RegistryEntry.objects.select_related("removed_in")
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status_q(status, today, days))
    found = search_words(qs, q, ("service_name", "provider"), extra=_entry_match)
    return found.order_by("kind", "number")


# --------------------------------------------------------------------------- editing


@transaction.atomic
def save_entry(entry: RegistryEntry, actor, request=None) -> RegistryEntry:
    """Save a person's correction (or a new entry), recorded in the audit trail."""
    before = None
    if entry.pk is not None:
        stored = RegistryEntry.objects.select_for_update().filter(pk=entry.pk).first()
        before = audit.snapshot_of(stored) if stored else None
    entry.updated_by = actor if getattr(actor, "pk", None) else None
    entry.save()
    audit.record_entry_change(entry, before, actor, request)
    return entry


@transaction.atomic
def set_number(
    service: Service, kind: str, number: str, actor, request=None
) -> RegistryLink | None:
    """Record (or, with a blank number, forget) a service's number on one list."""
    number = core.normalise_number(number)
    link = RegistryLink.objects.select_for_update().filter(service=service, kind=kind).first()
    before = link.number if link else None
    if not number:
        if link is not None:
            audit.record_link_change(link, before, None, actor, request)
            link.delete()
            rejudge_open(Application.objects.filter(service=service), actor, request)
        return None
    if link is None:
        link = RegistryLink(service=service, kind=kind)
    if before == number:
        return link
    link.number = number
    link.updated_by = actor if getattr(actor, "pk", None) else None
    link.save()
    audit.record_link_change(link, before, number, actor, request)
    rejudge_open(Application.objects.filter(service=service), actor, request)
    return link


@transaction.atomic
def rejudge(application: Application, actor, request=None) -> Judgement:
    """Judge the application again with today's registry (its facts unchanged);
    :class:`RequestError` if they are incomplete. A batch of one: see
    :func:`rejudge_many`."""
    (result,) = rejudge_many([application], actor, request)
    if isinstance(result, RequestError):
        raise result
    return result


@transaction.atomic
def rejudge_many(
    applications: Sequence[Application], actor, request=None
) -> list[Judgement | RequestError]:
    """Judge these applications again with today's registry (their facts
    unchanged), together (``judging.judge_applications``); per application, in
    order, its judgement or the :class:`RequestError` that left it as it was.
    Each new judgement is recorded in the audit trail as a registry
    re-judgement (old and new verdict), the batch's entries in one go."""
    previous = [(a.verdict, a.latest_judgement_id) for a in applications]
    judged = judging.judge_applications(applications, actor=actor)
    audit.record_rejudges(
        (
            (application, judgement, verdict)
            for application, (verdict, before), judgement in zip(
                applications, previous, judged, strict=True
            )
            if not isinstance(judgement, RequestError) and judgement.pk != before
        ),
        actor,
        request,
    )
    return judged


#: Applications whose page shows the registry's answer and whose verdict still matters.
OPEN_STATUSES = (
    Status.DRAFT,
    Status.SUBMITTED,
    Status.RETURNED,
    Status.APPROVED,
    Status.IN_USE,
    Status.REVIEW_DUE,
    Status.NEEDS_REVIEW,
    Status.ENDING,
)

#: Applications judged together by ``rejudge_open`` (memory per batch, not
#: transactions: the caller's transaction holds them all).
REJUDGE_BATCH = 500


@transaction.atomic
def rejudge_open(applications: QuerySet[Application], actor, request=None) -> int:
    """Judge again every open application among ``applications`` with today's
    registry, after an import or a changed number: the page then shows the
    registry's current answer, and a worse verdict on one in use sends it to
    見直しが必要. Returns how many got a new judgement.

    The applications are judged in batches of ``REJUDGE_BATCH``
    (:func:`rejudge_many`), all in one transaction: an import and its
    re-judgements are kept together or not at all. An application whose facts
    are not all stated yet (a draft being filled in) is left as it was, as the
    criteria re-judge leaves it: it is judged when its facts are saved, and it
    must not stop the city's list import or a service's number change."""
    pks = list(
        applications.filter(status__in=OPEN_STATUSES).order_by("pk").values_list("pk", flat=True)
    )
    changed = 0
    for start in range(0, len(pks), REJUDGE_BATCH):
        batch = list(
            Application.objects.filter(pk__in=pks[start : start + REJUDGE_BATCH])
            .select_related("service", "latest_judgement")
            .order_by("pk")
        )
        previous = [a.latest_judgement_id for a in batch]
        for judgement, before in zip(rejudge_many(batch, actor, request), previous, strict=True):
            if isinstance(judgement, RequestError):
                continue
            if judgement.pk != before:
                changed += 1
    return changed


def current_snapshots(kinds: list[str]) -> dict[str, RegistrySnapshot]:
    """The current snapshot of each of these list kinds that has been imported."""
    qs = RegistrySnapshot.objects.filter(is_current=True, kind__in=kinds).select_related("importer")
    return {s.kind: s for s in qs}


def diff_report(kinds: list[str]) -> dict[str, dict[str, Any] | None]:
    """For each list kind, its current snapshot and what that import changed
    (``None``: never imported): the API's and ``registry_diff --format json``'s answer."""
    current = current_snapshots(kinds)
    return {
        kind: {"snapshot": snapshot_dict(current[kind]), "diff": current[kind].diff}
        if kind in current
        else None
        for kind in kinds
    }
