"""What the local registry says about a service's listings on a day.

``effective_listings(service, on=day)`` is what ``register.judging`` sends to the
engine instead of the applicant's declaration: per list kind,

* the kind's registry has never been imported → the declaration counts as it
  is, with the note 「登録簿が未取込のため確認できません」 (``unverified``);
* otherwise the registry's answer counts, declared or not: a listing only when
  the matched entry is valid on that day (``valid``, ``expiring`` or
  ``renewal_pending``); an expired, withdrawn, not yet registered entry, an
  entry no longer on the current list (``removed``) or no entry at all
  (``unknown``) is not a listing.

A declaration the registry does not confirm, and a listing the registry shows
but the applicant did not declare, become findings shown with the judgement.

A service is matched by the registration number recorded for it
(``RegistryLink``; number only, no fallback), else by normalised name and
provider (``cloudjudge.registries.RegistryIndex``), first among the entries on
the current lists, then among removed ones.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from cloudjudge import registries as core
from cloudjudge.registries import KIND_LABELS, KINDS
from cloudjudge.web.bulk import bulk_insert
from cloudjudge.web.register.models import Judgement, Service
from cloudjudge.web.registries.models import ListingCheck, RegistryEntry, RegistryLink

#: Statuses under which the registry's entry counts as a listing.
LISTED = core.LISTED_STATUSES
#: Statuses of a (service, kind) that ``registry check`` and the dashboard report.
ALERT_STATUSES = frozenset(
    {
        "expiring",
        "expired",
        "renewal_late",
        "renewal_pending",
        "withdrawn",
        "lapsed",
        "suspended",
        "removed",
        "renewed",
        "not_yet_registered",
        "unknown",
        "unverified",
    }
)
#: The web labels of the statuses: ``core.STATUS_LABELS`` (Japanese) as
#: translatable strings, plus the registry-only ones.
STATUS_LABELS: dict[str, Any] = {
    "valid": pgettext_lazy("registry status", "Valid"),
    "expiring": pgettext_lazy("registry status", "Expiring soon"),
    "renewal_pending": pgettext_lazy(
        "registry status", "Renewal pending (valid after the expiry date)"
    ),
    "renewal_late": pgettext_lazy(
        "registry status", "Expired (renewal applied for after the expiry date)"
    ),
    "expired": pgettext_lazy("registry status", "Expired"),
    "withdrawn": pgettext_lazy("registry status", "Withdrawn or cancelled"),
    "lapsed": pgettext_lazy("registry status", "Lapsed"),
    "suspended": pgettext_lazy("registry status", "Suspended"),
    "renewed": pgettext_lazy("registry status", "Renewed under a new number"),
    "not_yet_registered": pgettext_lazy("registry status", "Before the registration date"),
    "removed": pgettext_lazy("registry status", "Not on the latest list"),
    "unknown": pgettext_lazy("registry status", "Not in the registry"),
    "unverified": pgettext_lazy("registry status", "Registry not imported"),
    "not_loaded": pgettext_lazy("registry status", "Registry not imported"),
}
#: Above this many services the whole registry is loaded instead of the candidates.
TARGETED_LIMIT = 500

_ENTRY_FIELDS = (
    "pk",
    "kind",
    "number",
    "service_name",
    "provider",
    "registered_on",
    "audit_period_end",
    "renewal_pending",
    "withdrawn",
    "expires_on",
    "removed_in_id",
    "removed_in__imported_at",
    "lapsed",
    "suspended",
    "status_since",
    "renewal_applied_on",
    "renewed_as__number",
)


@dataclass(frozen=True, slots=True)
class EntryRef:
    """An entry as loaded for matching: its pure value and where it stands."""

    pk: int
    core: core.RegistryEntry
    expires_on: datetime.date | None
    removed_on: datetime.date | None = None
    removed: bool = False
    #: The successor's number when this entry was renewed under a new number.
    renewed_as: str = ""

    @property
    def kind(self) -> str:
        return self.core.kind

    @property
    def number(self) -> str:
        return self.core.number

    def status_on(self, day: datetime.date, days_ahead: int = core.DEFAULT_DAYS_AHEAD) -> str:
        if self.removed:
            return "renewed" if self.renewed_as else "removed"
        return core.status_on(self.core, day, days_ahead=days_ahead)


@dataclass(frozen=True, slots=True)
class Resolution:
    entry: EntryRef | None
    method: str = ""  # number / name_provider / name


class Registry:
    """The entries needed for some services, indexed once; ``loaded`` is the
    set of kinds whose registry holds any entry (i.e. was ever imported)."""

    def __init__(self, refs: Iterable[EntryRef], loaded: Iterable[str]):
        self.loaded = frozenset(loaded)
        current: list[core.RegistryEntry] = []
        removed: list[core.RegistryEntry] = []
        self._refs: dict[tuple[str, str], EntryRef] = {}
        for ref in refs:
            self._refs[(ref.kind, ref.number)] = ref
            (removed if ref.removed else current).append(ref.core)
        self._current = core.RegistryIndex(current)
        self._removed = core.RegistryIndex(removed)

    def __len__(self) -> int:
        return len(self._refs)

    @classmethod
    def load(
        cls, services: Iterable[Service | Mapping[str, Any]] | None = None, numbers: Iterable = ()
    ) -> Registry:
        """Two queries: the kinds ever imported, and the entries — only the
        candidates of a few ``services`` (by normalised name, or by the
        recorded ``numbers``), or every entry when ``services`` is None or many."""
        loaded = RegistryEntry.objects.order_by().values_list("kind", flat=True).distinct()
        entries = RegistryEntry.objects.order_by()
        if services is not None:
            services = list(services)
            if len(services) <= TARGETED_LIMIT:
                names = {core.normalise_name(_name(s)) for s in services} - {""}
                wanted = {core.normalise_number(n) for n in numbers} - {""}
                # Never an empty IN (Django would skip the query): the count stays fixed.
                entries = entries.filter(Q(name_key__in=names or {""}) | Q(number__in=wanted))
        return cls(
            (_ref(row) for row in entries.values_list(*_ENTRY_FIELDS)),
            set(loaded),
        )

    def resolve(self, kind: str, name: str, provider: str = "", number: str = "") -> Resolution:
        """The entry of ``kind`` for a service. A recorded number is authoritative
        (no fallback to the name). A service with a provider matches only an
        entry of the same normalised name and provider: the name alone is used
        only when the service names no provider, so a namesake of another
        provider is never taken for a listing."""
        for index in (self._current, self._removed):
            if number:
                found = index.find(number=number, kind=kind)
            else:
                found = index.find(name, provider, kind=kind)
                if found is not None and provider.strip() and found.method != "name_provider":
                    found = None
            if found is not None:
                return Resolution(self._refs[found.entry.key], found.method)
        return Resolution(None)


def _name(service: Service | Mapping[str, Any]) -> str:
    return service["name"] if isinstance(service, Mapping) else service.name


def _ref(row: tuple) -> EntryRef:
    (pk, kind, number, name, provider, registered, audit_end, pending, withdrawn, expires) = row[
        :10
    ]
    removed_id, removed_at, lapsed, suspended, since, applied, successor = row[10:17]
    entry = core.RegistryEntry(
        kind=kind,
        number=number,
        service_name=name,
        provider=provider,
        registered_on=registered,
        audit_period_end=audit_end,
        renewal_pending=pending,
        withdrawn=withdrawn,
        lapsed=lapsed,
        suspended=suspended,
        status_since=since,
        renewal_applied_on=applied,
    )
    removed_on = timezone.localdate(removed_at) if removed_at is not None else None
    return EntryRef(pk, entry, expires, removed_on, removed_id is not None, successor or "")


# --------------------------------------------------------------------------- one kind


def _d(day: datetime.date | None) -> str:
    return day.isoformat() if day else "—"


@dataclass(frozen=True)
class KindCheck:
    """What the registry says about one service on one list on ``on``."""

    kind: str
    on: datetime.date
    declared: bool
    loaded: bool
    status: str  # a core status, removed, unknown, unverified, or not_loaded
    entry: EntryRef | None = None
    method: str = ""
    number_given: str = ""

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def counted(self) -> bool:
        """Whether the engine is told the service is on this list."""
        if not self.loaded:
            return self.declared
        return self.status in LISTED

    @property
    def days_left(self) -> int | None:
        if self.entry is None or self.entry.expires_on is None:
            return None
        return (self.entry.expires_on - self.on).days

    @property
    def days_pending(self) -> tuple[int | None, int | None]:
        """For a renewal pending past the expiry: (days since the expiry date,
        days since the application where the list gives it)."""
        if self.entry is None:
            return None, None
        return core.pending_days(self.entry.core, self.on)

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))

    @property
    def relevant(self) -> bool:
        """Declared, or found on the list (the ones a person cares about)."""
        return self.declared or self.counted

    @property
    def is_alert(self) -> bool:
        return self.relevant and self.status in ALERT_STATUSES

    def reason(self) -> str:
        """Why the entry is not a listing (or what is known about it), in words."""
        e = self.entry
        if self.status == "unknown":
            if self.number_given:
                return _("Registration number %(number)s is not in the registry") % {
                    "number": self.number_given
                }
            return str(STATUS_LABELS["unknown"])
        if self.status == "unverified":
            return str(STATUS_LABELS["unverified"])
        if e is None:
            return self.status_label
        past, since_applied = self.days_pending
        values = {
            "number": e.number,
            "expires": _d(e.expires_on),
            "removed": _d(e.removed_on),
            "registered": _d(e.core.registered_on),
            "days": self.days_left,
            "since": _d(e.core.status_since),
            "applied": _d(e.core.renewal_applied_on),
            "past": past,
            "pending": since_applied,
            "successor": e.renewed_as,
        }
        if self.status == "expired":
            return _("Expired: %(expires)s") % values
        if self.status == "renewal_late":
            return (
                _(
                    "Expired: %(expires)s. The renewal was applied for on %(applied)s, after "
                    "the expiry date, so the registration did not stay valid (ISMAP 3.5)"
                )
                % values
            )
        if self.status == "withdrawn":
            return _("Withdrawn or cancelled: %(number)s") % values
        if self.status == "lapsed":
            return _("Lapsed: %(number)s (since %(since)s)") % values
        if self.status == "suspended":
            return _("Suspended: %(number)s (since %(since)s)") % values
        if self.status == "renewed":
            return (
                _(
                    "%(number)s was renewed as %(successor)s: the security office confirms the "
                    "re-link on the registry's re-link page"
                )
                % values
            )
        if self.status == "removed":
            return (
                _("Not on the latest list: %(number)s (removed by the import of %(removed)s)")
                % values
            )
        if self.status == "not_yet_registered":
            return _("Before the registration date %(registered)s") % values
        if self.status == "expiring":
            return _("Expires on %(expires)s (%(days)s days left)") % values
        if self.status == "renewal_pending":
            if since_applied is not None:
                return (
                    _(
                        "Expiry date %(expires)s passed %(past)s days ago, renewal pending "
                        "(applied for on %(applied)s, %(pending)s days ago)"
                    )
                    % values
                )
            return _("Expiry date %(expires)s passed %(past)s days ago, renewal pending") % values
        if e.expires_on:
            return _("Valid: %(number)s (expires on %(expires)s)") % values
        return _("Valid: %(number)s") % values

    def finding(self) -> dict[str, str] | None:
        """The note shown with the judgement, or None when all is as declared."""
        k = self.label
        e = self.entry
        if self.declared and not self.loaded:
            message = _(
                "The declared %(kind)s listing cannot be checked: the %(kind)s registry has "
                "not been imported (judged as listed, as declared)"
            ) % {"kind": k}
            return {
                "level": "unverified",
                "code": "unverified",
                "kind": self.kind,
                "message": message,
            }
        if self.declared and not self.counted:
            message = _(
                "The declared %(kind)s listing is not confirmed by the registry (%(reason)s)"
            ) % {"kind": k, "reason": self.reason()}
            return {"level": "mismatch", "code": self.status, "kind": self.kind, "message": message}
        if not self.declared and self.counted and e is not None:
            message = _(
                "No %(kind)s listing was declared, but the registry lists the service "
                "(%(number)s %(name)s). Judged as listed, following the registry"
            ) % {"kind": k, "number": e.number, "name": e.core.service_name}
            return {
                "level": "undeclared",
                "code": "undeclared",
                "kind": self.kind,
                "message": message,
            }
        if self.counted and e is not None and self.status == "expiring":
            message = _(
                "The %(kind)s registration (%(number)s) expires on %(expires)s (%(days)s days left)"
            ) % {"kind": k, "number": e.number, "expires": _d(e.expires_on), "days": self.days_left}
            return {"level": "warning", "code": "expiring", "kind": self.kind, "message": message}
        if self.counted and e is not None and self.status == "renewal_pending":
            message = _(
                "The %(kind)s registration (%(number)s) is past its expiry date %(expires)s "
                "but remains valid while renewal is pending"
            ) % {"kind": k, "number": e.number, "expires": _d(e.expires_on)}
            return {
                "level": "info",
                "code": "renewal_pending",
                "kind": self.kind,
                "message": message,
            }
        return None

    def as_dict(self) -> dict[str, Any]:
        e = self.entry
        return {
            "kind": self.kind,
            "declared": self.declared,
            "counted": self.counted,
            "status": self.status,
            "entry_id": e.pk if e else None,
            "number": e.number if e else "",
            "service_name": e.core.service_name if e else "",
            "expires_on": e.expires_on.isoformat() if e and e.expires_on else None,
            "method": self.method,
            "number_given": self.number_given,
            "summary": self.reason(),
        }


def check_kind(
    registry: Registry,
    kind: str,
    *,
    name: str,
    provider: str,
    declared: bool,
    number: str = "",
    on: datetime.date,
    days_ahead: int = core.DEFAULT_DAYS_AHEAD,
) -> KindCheck:
    if kind not in registry.loaded:
        status = "unverified" if declared else "not_loaded"
        return KindCheck(kind, on, declared, False, status, number_given=number)
    found = registry.resolve(kind, name, provider, number)
    if found.entry is None:
        return KindCheck(kind, on, declared, True, "unknown", number_given=number)
    status = found.entry.status_on(on, days_ahead)
    return KindCheck(kind, on, declared, True, status, found.entry, found.method, number)


def check_service(
    registry: Registry,
    service: Service | Mapping[str, Any],
    numbers: Mapping[str, str],
    on: datetime.date,
    days_ahead: int = core.DEFAULT_DAYS_AHEAD,
) -> tuple[KindCheck, ...]:
    """Every kind for one service (a model, or a dict with ``name``, ``provider``
    and ``listed_<kind>``); ``numbers``: kind → recorded number."""
    if isinstance(service, Mapping):
        name, provider = service["name"], service["provider"] or ""
        declared = {k: bool(service[f"listed_{k}"]) for k in KINDS}
    else:
        name, provider = service.name, service.provider or ""
        declared = {k: k in service.listings for k in KINDS}
    return tuple(
        check_kind(
            registry,
            kind,
            name=name,
            provider=provider,
            declared=declared[kind],
            number=numbers.get(kind, ""),
            on=on,
            days_ahead=days_ahead,
        )
        for kind in KINDS
    )


# --------------------------------------------------------------------------- judgement


def _signature(results: Iterable[Mapping[str, Any]]) -> list[tuple]:
    return [
        (r["kind"], r["declared"], r["counted"], r["status"], r["number"], r.get("expires_on"))
        for r in results
    ]


@dataclass(frozen=True)
class EffectiveListings:
    """The registry's answer for a service on a day, as the engine needs it."""

    on: datetime.date
    checks: tuple[KindCheck, ...] = field(default=())

    @property
    def codes(self) -> list[str]:
        """The listings to send to the engine, in ``Service.LISTING_FIELDS`` order."""
        counted = {c.kind for c in self.checks if c.counted}
        return [code for code in Service.LISTING_FIELDS if code in counted]

    @property
    def findings(self) -> list[dict[str, str]]:
        order = {kind: i for i, kind in enumerate(Service.LISTING_FIELDS)}
        found = [f for c in self.checks if (f := c.finding())]
        return sorted(found, key=lambda f: order[f["kind"]])

    def check(self, kind: str) -> KindCheck:
        return next(c for c in self.checks if c.kind == kind)

    def results(self) -> list[dict[str, Any]]:
        return [c.as_dict() for c in self.checks]

    def same_as_kept(self, judgement: Judgement) -> bool:
        """Whether ``judgement`` was kept with the same registry answer."""
        return self.same_as(kept_results([judgement.pk]).get(judgement.pk))

    def same_as(self, results: list[dict[str, Any]] | None) -> bool:
        """Whether ``results`` (a kept ``ListingCheck.results``) say what this answer says."""
        return results is not None and _signature(results) == _signature(self.results())

    def check_for(self, judgement: Judgement) -> ListingCheck:
        """This answer as the (unsaved) record kept next to ``judgement``."""
        return ListingCheck(
            judgement=judgement,
            checked_on=self.on,
            results=self.results(),
            findings=self.findings,
        )

    def keep(self, judgement: Judgement) -> ListingCheck:
        """Record this answer next to the judgement it was used for."""
        check = self.check_for(judgement)
        check.save()
        return check


def keep_all(answers: Iterable[tuple[Judgement, EffectiveListings]]) -> list[ListingCheck]:
    """Record each answer next to its judgement, with one INSERT."""
    return bulk_insert(
        ListingCheck.objects, [answer.check_for(judgement) for judgement, answer in answers]
    )


def kept_results(judgement_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """The registry answers kept with these judgements (one query), by judgement."""
    rows = ListingCheck.objects.filter(judgement_id__in=list(judgement_ids)).order_by()
    return dict(rows.values_list("judgement_id", "results"))


def recorded_numbers(service: Service) -> dict[str, str]:
    if service.pk is None:
        return {}
    return dict(RegistryLink.objects.filter(service=service).values_list("kind", "number"))


def effective_listings(
    service: Service, on: datetime.date | None = None, *, registry: Registry | None = None
) -> EffectiveListings:
    """The registry's answer for ``service`` on ``on`` (default today): three
    queries for a saved service, two for one not yet in the register."""
    on = on or timezone.localdate()
    if registry is None and service.pk is not None:
        return effective_listings_of([service], on)[service.pk]
    numbers = recorded_numbers(service)
    if registry is None:
        registry = Registry.load([service], numbers.values())
    return EffectiveListings(on, check_service(registry, service, numbers, on))


def effective_listings_of(
    services: Iterable[Service], on: datetime.date | None = None
) -> dict[int, EffectiveListings]:
    """The registry's answer for each of several saved services on ``on``
    (default today), by service ID: three queries however many there are
    (the recorded numbers, then ``Registry.load`` of their candidates)."""
    on = on or timezone.localdate()
    by_pk = {service.pk: service for service in services}
    numbers: dict[int, dict[str, str]] = {pk: {} for pk in by_pk}
    links = RegistryLink.objects.filter(service_id__in=list(by_pk)).order_by()
    for service_id, kind, number in links.values_list("service_id", "kind", "number"):
        numbers[service_id][kind] = number
    registry = Registry.load(
        list(by_pk.values()), [n for recorded in numbers.values() for n in recorded.values()]
    )
    return {
        pk: EffectiveListings(on, check_service(registry, service, numbers[pk], on))
        for pk, service in by_pk.items()
    }
