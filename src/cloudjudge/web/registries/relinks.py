"""Renewals under a new number: proposing, then confirming, the re-links.

When an import recognises that an entry was renewed under a new number
(``cloudjudge.registries.find_renewals``), ``record_renewals`` (inside the
import's transaction):

* points the old entry to its successor (``renewed_as``): off the list, it
  reads 「更新で番号が変わりました」, never 「最新のリストに掲載なし」;
* proposes a re-link for every service linked to the old entry: one that has
  the old number recorded (``RegistryLink``), and one matched by name that
  would otherwise stay on the old entry. A pending proposal of the same
  service and list from an earlier import is superseded (one still waiting
  for the entry renewed now moves on to its successor).

Nothing about a service changes until the security office confirms
(``accept``: the new number is recorded through ``entries.set_number``, which
writes the link change to the audit trail) or declines (``reject``); each
decision is audited. A recorded number is authoritative, so this is not done
behind anyone's back.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from cloudjudge import registries as core
from cloudjudge.web.register.models import Service
from cloudjudge.web.registries import audit, entries
from cloudjudge.web.registries.listings import Registry
from cloudjudge.web.registries.models import (
    RegistryEntry,
    RegistryLink,
    RegistrySnapshot,
    RelinkDecision,
    RelinkProposal,
)


class StaleProposal(Exception):
    """The proposal was decided already (by someone else, or superseded)."""


def record_renewals(kind: str, renewals: Iterable[core.Renewal], snapshot: RegistrySnapshot) -> int:
    """Link each renewed entry to its successor and propose the re-links;
    returns how many proposals were made."""
    renewals = list(renewals)
    if not renewals:
        return 0
    numbers = {r.before.number for r in renewals} | {r.after.number for r in renewals}
    rows = {e.number: e for e in RegistryEntry.objects.filter(kind=kind, number__in=numbers)}
    pairs = [(rows[r.before.number], rows[r.after.number], r.how) for r in renewals]
    for old, new, _ in pairs:
        RegistryEntry.objects.filter(pk=old.pk).update(renewed_as=new)
        old.renewed_as = new

    recorded = dict(RegistryLink.objects.filter(kind=kind).values_list("service_id", "number"))
    by_name: dict[str, list[Service]] = {}
    for service in Service.objects.only("id", "name", "provider"):
        by_name.setdefault(core.normalise_name(service.name), []).append(service)
    candidates = {
        service.pk: service
        for old, _, _ in pairs
        for service in by_name.get(old.name_key, [])
        if service.pk not in recorded
    }
    registry = Registry.load(candidates.values())

    # A proposal still waiting for the entry renewed now moves on to its successor.
    waiting = {
        p.new_entry_id: p
        for p in RelinkProposal.objects.filter(
            kind=kind, decision=RelinkDecision.PENDING, new_entry__in=[old for old, _, _ in pairs]
        ).select_related("old_entry")
    }
    proposals: list[RelinkProposal] = []
    for old, new, how in pairs:
        linked = [
            (service_id, True, old)
            for service_id, number in recorded.items()
            if number == old.number
        ]
        for service in candidates.values():
            found = registry.resolve(kind, service.name, service.provider or "")
            if found.entry is not None and found.entry.pk == old.pk:
                linked.append((service.pk, False, old))
        earlier = waiting.get(old.pk)
        if earlier is not None:
            linked.append((earlier.service_id, earlier.had_number, earlier.old_entry))
        for service_id, had_number, linked_to in linked:
            proposals.append(
                RelinkProposal(
                    service_id=service_id,
                    kind=kind,
                    old_number=linked_to.number,
                    new_number=new.number,
                    old_entry=linked_to,
                    new_entry=new,
                    snapshot=snapshot,
                    how=how,
                    had_number=had_number,
                )
            )
    if proposals:
        RelinkProposal.objects.filter(
            kind=kind,
            decision=RelinkDecision.PENDING,
            service_id__in={p.service_id for p in proposals},
        ).update(decision=RelinkDecision.SUPERSEDED, decided_at=timezone.now())
        RelinkProposal.objects.bulk_create(proposals)
    return len(proposals)


def pending() -> list[RelinkProposal]:
    return list(
        RelinkProposal.objects.filter(decision=RelinkDecision.PENDING)
        .select_related("service", "old_entry", "new_entry", "snapshot")
        .order_by("kind", "old_number", "service__name")
    )


def _decide(proposal_id: int, decision: str, actor, request) -> RelinkProposal:
    proposal = (
        RelinkProposal.objects.select_for_update().select_related("service").get(pk=proposal_id)
    )
    if proposal.decision != RelinkDecision.PENDING:
        raise StaleProposal(proposal.get_decision_display())
    if decision == RelinkDecision.ACCEPTED:
        entries.set_number(proposal.service, proposal.kind, proposal.new_number, actor, request)
    proposal.decision = decision
    proposal.decided_by = actor if getattr(actor, "pk", None) else None
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["decision", "decided_by", "decided_at"])
    audit.record_relink_decision(proposal, actor, request)
    return proposal


@transaction.atomic
def accept(proposal_id: int, actor, request=None) -> RelinkProposal:
    """Record the new number for the service (audited); raises ``StaleProposal``."""
    return _decide(proposal_id, RelinkDecision.ACCEPTED, actor, request)


@transaction.atomic
def reject(proposal_id: int, actor, request=None) -> RelinkProposal:
    """Leave the service as it is (audited); raises ``StaleProposal``."""
    return _decide(proposal_id, RelinkDecision.REJECTED, actor, request)
