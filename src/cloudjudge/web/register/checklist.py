"""The checklist: one row per measure the latest judgement requires.

``sync`` follows the judgement: rows still required keep their status, owner,
due date, notes and evidence (their reason and clause are refreshed); rows no
longer required are kept inactive, so nothing a department recorded is lost,
and come back as they were if required again.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cloudjudge.web import figures
from cloudjudge.web.audit.models import Action
from cloudjudge.web.audit.trail import changes as audit_changes
from cloudjudge.web.audit.trail import record, snapshot
from cloudjudge.web.register.models import (
    OPEN_ITEM_STATUSES,
    RESOLVED_ITEM_STATUSES,
    Application,
    ChecklistItem,
    ItemStatus,
)
from cloudjudge.web.register.permissions import CHECKLIST_OPEN_STATUSES


def sync(
    application: Application,
    required: Sequence[dict[str, Any]],
    actor=None,
    *,
    closing_note: str = "",
) -> None:
    """Make the rows match the engine's ``required`` list (order included);
    ``closing_note`` is added to the note of each row no longer required."""
    sync_many([(application, required, closing_note)], actor)


@dataclass(slots=True)
class _Kept:
    """What ``sync_many`` reads of an existing row."""

    pk: int
    clause: str
    title: str
    reason: str
    position: int
    active: bool
    note: str


def sync_many(
    work: Iterable[tuple[Application, Sequence[dict[str, Any]], str]], actor=None
) -> None:
    """``sync`` for several ``(application, required, closing_note)`` at once:
    one query reads their rows, one INSERT adds the new ones, and the rows
    that change are updated with one UPDATE per distinct new value (a reworded
    item, or an item removed from the middle of the list, changes the same
    rows the same way in every application)."""
    work = list(work)
    existing: dict[int, dict[str, _Kept]] = {application.pk: {} for application, _r, _n in work}
    rows = ChecklistItem.objects.filter(application_id__in=list(existing)).order_by()
    columns = ("pk", "clause", "title", "reason", "position", "active", "note")
    for application_id, item_id, *values in rows.values_list("application_id", "item_id", *columns):
        existing[application_id][item_id] = _Kept(**dict(zip(columns, values, strict=True)))
    created: list[ChecklistItem] = []
    texts: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    positions: dict[int, list[int]] = defaultdict(list)
    reactivated: list[int] = []
    closed: dict[str, list[int]] = defaultdict(list)
    deactivated: list[int] = []
    for application, required, closing_note in work:
        rows_of = existing[application.pk]
        for position, entry in enumerate(required):
            row = rows_of.get(entry["id"])
            if row is None:
                created.append(
                    ChecklistItem(
                        application=application,
                        item_id=entry["id"],
                        clause=entry["clause"],
                        title=entry["title"],
                        reason=entry["reason"],
                        position=position,
                        updated_by=actor,
                    )
                )
                continue
            text = (entry["clause"], entry["title"], entry["reason"])
            if (row.clause, row.title, row.reason) != text:
                texts[text].append(row.pk)
            if row.position != position:
                positions[position].append(row.pk)
            if not row.active:
                reactivated.append(row.pk)
        wanted = {entry["id"] for entry in required}
        for item_id, row in rows_of.items():
            if item_id in wanted or not row.active:
                continue
            if closing_note:
                closed[f"{row.note}\n{closing_note}" if row.note else closing_note].append(row.pk)
            else:
                deactivated.append(row.pk)
    ChecklistItem.objects.bulk_create(created)
    now = timezone.now()
    items = ChecklistItem.objects.order_by()
    for (clause, title, reason), pks in texts.items():
        items.filter(pk__in=pks).update(clause=clause, title=title, reason=reason, updated_at=now)
    for position, pks in positions.items():
        items.filter(pk__in=pks).update(position=position, updated_at=now)
    if reactivated:
        items.filter(pk__in=reactivated).update(active=True, updated_at=now)
    for note, pks in closed.items():
        items.filter(pk__in=pks).update(active=False, note=note, updated_at=now)
    if deactivated:
        items.filter(pk__in=deactivated).update(active=False)
    # bulk_create and update() send no model signals: the cached dashboard
    # figures are told here.
    figures.changed()


def check_item(status: str, na_reason: str) -> None:
    """該当なし needs a reason."""
    if status == ItemStatus.NOT_APPLICABLE and not (na_reason or "").strip():
        raise ValidationError(
            {"na_reason": _("Give the reason the item does not apply.")}, code="na_reason"
        )


AUDITED_ITEM_FIELDS = ("status", "na_reason", "owner", "due_date", "note")


@transaction.atomic
def update_item(item: ChecklistItem, actor, **changes: Any) -> ChecklistItem:
    """Change a row's status, owner, due date or notes (the API calls this too)."""
    allowed = {"status", "na_reason", "owner", "due_date", "note"}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"cannot change {', '.join(sorted(unknown))}")
    # "Before" is the stored row: a ModelForm has already set its cleaned
    # values on ``item`` by the time it calls this.
    stored = ChecklistItem.objects.filter(pk=item.pk).first() if item.pk else None
    before = snapshot(stored or item, AUDITED_ITEM_FIELDS)
    for key, value in changes.items():
        setattr(item, key, value)
    check_item(item.status, item.na_reason)
    if item.status != ItemStatus.NOT_APPLICABLE:
        item.na_reason = ""
    item.updated_by = actor
    item.save()
    diff = audit_changes(before, snapshot(item, AUDITED_ITEM_FIELDS))
    if diff:
        record(Action.UPDATE, actor=actor, obj=item, before=diff.before, after=diff.after)
    return item


class BulkError(Exception):
    """A bulk change refused as a whole: ``errors`` are ``(row, message)``."""

    def __init__(self, errors: list[tuple[ChecklistItem, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{row.item_id}: {msg}" for row, msg in errors))


@transaction.atomic
def update_items(
    items: Iterable[ChecklistItem], actor, *, append_note: str = "", **changes: Any
) -> list[ChecklistItem]:
    """The same change to several rows, in one transaction: every row is
    changed and audited as by ``update_item``, or none is (``BulkError``
    names each row that cannot take the change, e.g. 該当なし without a reason).
    ``append_note`` is added as a line under each row's note (never replacing it)."""
    rows = list(items)
    problems: list[tuple[ChecklistItem, str]] = []
    for row in rows:
        status = changes.get("status", row.status)
        na_reason = changes.get("na_reason", row.na_reason)
        try:
            check_item(status, na_reason)
        except ValidationError as exc:
            problems.append((row, " ".join(exc.messages)))
    if problems:
        raise BulkError(problems)
    done = []
    for row in rows:
        row_changes = dict(changes)
        if append_note.strip():
            line = append_note.strip()
            row_changes["note"] = f"{row.note.rstrip()}\n{line}" if row.note.strip() else line
        done.append(update_item(row, actor, **row_changes))
    return done


# --------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class Progress:
    resolved: int = 0
    total: int = 0

    @property
    def percent(self) -> int:
        return round(100 * self.resolved / self.total) if self.total else 100

    @property
    def complete(self) -> bool:
        return self.resolved == self.total


def progress(application: Application) -> Progress:
    counts = application.checklist_items.filter(active=True).aggregate(
        total=Count("id"), resolved=Count("id", filter=Q(status__in=RESOLVED_ITEM_STATUSES))
    )
    return Progress(counts["resolved"], counts["total"])


def attach_progress(applications: Iterable[Application]) -> None:
    """Set ``.progress`` on each application with one query for all of them."""
    applications = list(applications)
    rows = (
        ChecklistItem.objects.filter(application__in=[a.pk for a in applications], active=True)
        .values("application")
        .annotate(
            total=Count("id"), resolved=Count("id", filter=Q(status__in=RESOLVED_ITEM_STATUSES))
        )
        .order_by()
    )
    by_app = {row["application"]: Progress(row["resolved"], row["total"]) for row in rows}
    for application in applications:
        application.progress = by_app.get(application.pk, Progress())


def open_items(applications: QuerySet[Application]) -> QuerySet[ChecklistItem]:
    """Active, unresolved rows of the given applications that are still live.

    The applications are an EXISTS, not ``application__in``: with an IN list
    SQLite drives the query from every live application's rows (~300,000 at
    10,000 applications) instead of the ``checklist_overdue`` index."""
    live = applications.filter(pk=OuterRef("application_id"), status__in=CHECKLIST_OPEN_STATUSES)
    return ChecklistItem.objects.filter(
        Exists(live),
        active=True,
        status__in=OPEN_ITEM_STATUSES,
    )


def overdue_items(
    applications: QuerySet[Application], today: datetime.date | None = None
) -> QuerySet[ChecklistItem]:
    """Open rows whose due date has passed (the dashboard and the reminders)."""
    today = today or timezone.localdate()
    return open_items(applications).filter(due_date__lt=today)
