"""Re-checking the services in use against the registry: ``registry check``,
the dashboard and the API all call ``check_in_use``.

A service is in use when an application for it is approved, in use, due for
review, sent back for review (見直しが必要) or being ended. For each such
service and each list it declares, or that the registry finds it on, an alert
is raised when on ``today`` the listing

* ``expiring`` — will expire within ``days`` days (no renewal pending),
* ``renewal_pending`` — is past its expiry date and still valid while the
  renewal is pending (ISMAP基本規程 3.5), with how long it has been pending,
* ``expired`` / ``renewal_late`` (renewal applied for after the expiry) /
  ``withdrawn`` / ``lapsed`` / ``suspended`` / ``not_yet_registered`` — is not
  valid,
* ``removed`` — is no longer on the current list,
* ``renewed`` — was renewed under a new number; the re-link awaits the
  security office's confirmation,
* ``unknown`` — (declared) matches no entry,
* ``unverified`` — (declared) cannot be checked: that list was never imported.

The queries are fixed (four, however many services): applications, recorded
numbers, the kinds imported and the entries.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from cloudjudge import registries as core
from cloudjudge.web import figures
from cloudjudge.web.register.models import Application, Service, Status
from cloudjudge.web.registries.listings import (
    STATUS_LABELS,
    KindCheck,
    Registry,
    check_service,
)
from cloudjudge.web.registries.models import (
    RegistryEntry,
    RegistryLink,
    RegistrySnapshot,
)

#: Applications whose service is "in use" for the check.
IN_USE_STATUSES = (
    Status.APPROVED,
    Status.IN_USE,
    Status.REVIEW_DUE,
    Status.NEEDS_REVIEW,
    Status.ENDING,
)
#: Most severe first, for sorting and the dashboard.
SEVERITY = (
    "expired",
    "renewal_late",
    "withdrawn",
    "lapsed",
    "suspended",
    "removed",
    "renewed",
    "unknown",
    "not_yet_registered",
    "expiring",
    "renewal_pending",
    "unverified",
)

_SERVICE_VALUES = (
    "id",
    "number",
    "status",
    "service_id",
    "service__name",
    "service__provider",
    "service__listed_lgwan_asp",
    "service__listed_ismap",
    "service__listed_ismap_liu",
)


@dataclass(frozen=True)
class Alert:
    service_id: int
    service_name: str
    provider: str
    check: KindCheck
    applications: tuple[tuple[int, str, str], ...]  # (id, number, status)
    #: Applications in use left out of ``applications`` (the dashboard lists a few).
    more: int = 0

    @property
    def kind(self) -> str:
        return self.check.kind

    @property
    def status(self) -> str:
        return self.check.status

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))

    @property
    def kind_label(self) -> str:
        return self.check.label

    @property
    def entry(self):
        return self.check.entry

    @property
    def message(self) -> str:
        return f"{self.kind_label}: {self.check.reason()}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "service_id": self.service_id,
            "service_name": self.service_name,
            "provider": self.provider,
            "kind": self.kind,
            "status": self.status,
            "status_label": self.status_label,
            "declared": self.check.declared,
            "number": self.entry.number if self.entry else self.check.number_given,
            "entry_id": self.entry.pk if self.entry else None,
            "expires_on": (
                self.entry.expires_on.isoformat() if self.entry and self.entry.expires_on else None
            ),
            "days_left": self.check.days_left,
            "days_past_expiry": self.check.days_pending[0],
            "days_since_renewal_applied": self.check.days_pending[1],
            "message": self.message,
            "applications": [
                {"id": pk, "number": number, "status": status}
                for pk, number, status in self.applications
            ],
        }


@dataclass
class CheckReport:
    today: datetime.date
    days: int
    services: int = 0
    applications: int = 0
    alerts: list[Alert] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.alerts

    @property
    def by_status(self) -> list[tuple[str, str, int]]:
        counts = Counter(a.status for a in self.alerts)
        return [(s, str(STATUS_LABELS[s]), counts[s]) for s in SEVERITY if counts[s]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "days": self.days,
            "services": self.services,
            "applications": self.applications,
            "alerts": [a.as_dict() for a in self.alerts],
        }


def _order(alert: Alert) -> tuple:
    expires = (
        alert.entry.expires_on if alert.entry and alert.entry.expires_on else datetime.date.max
    )
    return (SEVERITY.index(alert.status), expires, alert.service_name, alert.kind)


def check_in_use(
    applications: QuerySet[Application] | None = None,
    *,
    today: datetime.date | None = None,
    days: int = core.DEFAULT_DAYS_AHEAD,
    progress: Callable[[Iterable], Iterable] | None = None,
) -> CheckReport:
    """Alerts for every service in use among ``applications`` (default: all)."""
    if days < 0:
        raise ValueError("days は 0 以上にしてください")
    today = today or timezone.localdate()
    qs = Application.objects.all() if applications is None else applications
    rows = list(
        qs.filter(status__in=IN_USE_STATUSES)
        .order_by("service_id", "number")
        .values_list(*_SERVICE_VALUES)
    )
    services: dict[int, dict[str, Any]] = {}
    for pk, number, status, sid, name, provider, lgwan, ismap, liu in rows:
        service = services.get(sid)
        if service is None:
            service = services[sid] = {
                "name": name,
                "provider": provider or "",
                "listed_lgwan_asp": lgwan,
                "listed_ismap": ismap,
                "listed_ismap_liu": liu,
                "applications": [],
            }
        service["applications"].append((pk, number, status))
    numbers: dict[int, dict[str, str]] = {}
    links = RegistryLink.objects.filter(
        service__applications__in=qs.filter(status__in=IN_USE_STATUSES)
    )
    for sid, kind, number in (
        links.order_by().distinct().values_list("service_id", "kind", "number")
    ):
        numbers.setdefault(sid, {})[kind] = number
    recorded = [n for by_kind in numbers.values() for n in by_kind.values()]
    registry = Registry.load(services.values(), recorded)

    report = CheckReport(today, days, services=len(services), applications=len(rows))
    items = services.items()
    for sid, service in progress(items) if progress else items:
        for check in check_service(registry, service, numbers.get(sid, {}), today, days):
            if check.is_alert:
                report.alerts.append(
                    Alert(
                        sid,
                        service["name"],
                        service["provider"],
                        check,
                        tuple(service["applications"]),
                    )
                )
    report.alerts.sort(key=_order)
    return report


@dataclass(frozen=True)
class DashboardAlerts:
    """What the dashboard shows: counts by status and the first rows (small,
    so it is cheap to keep in the cache)."""

    count: int
    rows: tuple[Alert, ...]
    by_status: tuple[tuple[str, str, int], ...]
    days: int

    @classmethod
    def of(cls, report: CheckReport, shown: int = 10, numbers: int = 5) -> DashboardAlerts:
        """The first ``shown`` alerts, each with its first ``numbers`` applications
        (at the national size a service is in use by a thousand of them)."""
        return cls(
            count=len(report.alerts),
            rows=tuple(
                replace(
                    alert,
                    applications=alert.applications[:numbers],
                    more=max(0, len(alert.applications) - numbers),
                )
                for alert in report.alerts[:shown]
            ),
            by_status=tuple((code, str(label), n) for code, label, n in report.by_status),
            days=report.days,
        )


#: How long a dashboard's registry check is reused while nothing it reads changed
#: (also the bound on staleness after an edit the version cannot see, such as a
#: service's declared listings changed in the admin).
ALERTS_CACHE_SECONDS = 120


def _data_version(applications: QuerySet[Application]) -> tuple[Any, ...]:
    """What the check reads, summarised: any import, entry edit, recorded
    number, service or application change gives a new value."""
    # Any saved or deleted application bumps this version (at the national
    # size an aggregate over the applications in use costs ~0.4 s a dashboard).
    return (
        figures.version(figures.APPLICATIONS_VERSION_KEY),
        RegistrySnapshot.objects.aggregate(Max("id"))["id__max"],
        RegistryEntry.objects.aggregate(Max("updated_at"))["updated_at__max"],
        RegistryLink.objects.aggregate(Max("updated_at"))["updated_at__max"],
        tuple(Service.objects.aggregate(Count("id"), Max("id")).values()),
    )


def registry_alerts(
    applications: QuerySet[Application], today: datetime.date | None = None
) -> DashboardAlerts:
    """The dashboard's registry alerts among the applications a user may see.

    The check itself walks every service in use (about 50 ms at 10,000
    applications), so the dashboard reuses its last answer for the same
    applications, day and data version; the version query is cheap and exact."""
    today = today or timezone.localdate()
    if applications.query.is_empty():  # e.g. an applicant without a department: no SQL to key on
        return DashboardAlerts.of(check_in_use(applications, today=today))
    return figures.reuse(
        "registry-alerts",
        (str(applications.query), today),
        lambda: DashboardAlerts.of(check_in_use(applications, today=today)),
        of_version=_data_version(applications),
        max_age=ALERTS_CACHE_SECONDS,
        background=False,  # the alerts say nothing of when they were checked
    ).value
