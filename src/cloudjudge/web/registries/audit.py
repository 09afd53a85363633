"""Registry changes in the audit trail (``cloudjudge.web.audit.trail``).

Every import, every edit of an entry, every recorded registration number,
every decision on a re-link proposal and every re-judgement asked for from the
registry pages is recorded, inside the transaction that makes the change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cloudjudge.web.audit import trail
from cloudjudge.web.audit.models import Action

#: Entry fields kept in the audit trail.
ENTRY_FIELDS = (
    "kind",
    "number",
    "service_name",
    "provider",
    "category",
    "regions",
    "registered_on",
    "audit_period_end",
    "expires_on",
    "renewal_pending",
    "renewal_applied_on",
    "withdrawn",
    "lapsed",
    "suspended",
    "status_since",
    "source_url",
    "last_checked_on",
)


def snapshot_of(entry) -> dict[str, Any]:
    return trail.snapshot(entry, ENTRY_FIELDS)


def record_import(snapshot, importer, request=None) -> None:
    trail.record(
        Action.CREATE,
        actor=importer,
        request=request,
        obj=snapshot,
        after={
            "kind": snapshot.kind,
            "source_name": snapshot.source_name,
            "row_count": snapshot.row_count,
        },
        extra={
            "sha256": snapshot.sha256,
            "added": snapshot.added_count,
            "removed": snapshot.removed_count,
            "changed": snapshot.changed_count,
            "renewed": snapshot.renewed_count,
            "warnings": len(snapshot.warnings or []),
        },
    )


def record_entry_change(entry, before: dict[str, Any] | None, actor, request=None) -> None:
    after = snapshot_of(entry)
    if before is None:
        trail.record(Action.CREATE, actor=actor, request=request, obj=entry, after=after)
        return
    diff = trail.changes(before, after)
    if diff:
        trail.record(
            Action.UPDATE,
            actor=actor,
            request=request,
            obj=entry,
            before=diff.before,
            after=diff.after,
        )


def record_link_change(link, before: str | None, after: str | None, actor, request=None) -> None:
    action = Action.UPDATE if before and after else Action.CREATE if after else Action.DELETE
    trail.record(
        action,
        actor=actor,
        request=request,
        obj=link,
        before=None if before is None else {"kind": link.kind, "number": before},
        after=None if after is None else {"kind": link.kind, "number": after},
        extra={"service_id": link.service_id},
    )


def record_rejudges(rejudged: Iterable[tuple[Any, Any, str]], actor, request=None) -> None:
    """Each ``(application, new judgement, previous verdict)`` of a registry
    re-judgement, appended together."""
    trail.record_many(
        trail.entry(
            Action.UPDATE,
            actor=actor,
            request=request,
            obj=application,
            before={"verdict": previous_verdict},
            after={"verdict": judgement.verdict},
            extra={"judgement_id": judgement.pk, "reason": "registry_rejudge"},
        )
        for application, judgement, previous_verdict in rejudged
    )


def record_relink_decision(proposal, actor, request=None) -> None:
    """A re-link proposal accepted or rejected (the link change itself, when
    accepted, is recorded by ``record_link_change``)."""
    trail.record(
        Action.UPDATE,
        actor=actor,
        request=request,
        obj=proposal,
        before={"decision": "pending"},
        after={"decision": proposal.decision},
        extra={
            "service_id": proposal.service_id,
            "kind": proposal.kind,
            "old_number": proposal.old_number,
            "new_number": proposal.new_number,
            "snapshot_id": proposal.snapshot_id,
        },
    )
