"""The register's models → the plain data the document builders take.

``cloudjudge.documents`` knows nothing of Django: this module reads an
application (its latest judgement, active checklist rows with their evidence,
its lifecycle history) into a ``QuestionnaireRequest``, an
``ApplicationSummary`` or ``RegisterRow``\\ s. The documents are Japanese
whatever language the reader's UI is in, so the words that belong to the web
layer (application status, role, action) are given in Japanese here.

Queries are bounded: an application report costs the same few queries however
many checklist rows and evidence files the application has.

It also names the downloads (RFC 6266: a Japanese ``filename*`` and an ASCII
``filename`` for older clients).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator
from enum import Enum
from itertools import islice

from django.db.models import Prefetch, QuerySet
from django.utils import timezone, translation

from cloudjudge.catalog import Catalog, default_catalog
from cloudjudge.documents import (
    ApplicationSummary,
    ApprovalRecord,
    ChecklistRow,
    QuestionnaireRequest,
    RegisterRow,
)
from cloudjudge.labels import CHECKLIST_STATUS_LABELS, label
from cloudjudge.presentation.dates import format_date
from cloudjudge.web.accounts.models import Role
from cloudjudge.web.register.models import (
    Application,
    ChecklistItem,
    Evidence,
    Judgement,
    Service,
    StatusChange,
)
from cloudjudge.web.registries.listings import Registry, check_service
from cloudjudge.web.registries.models import RegistryLink
from cloudjudge.web.templatetags.city_dates import date_style

#: Lifecycle steps (``workflow.Step`` codes) as a record prints them: nouns,
#: not the buttons' verbs.
ACTION_LABELS: dict[str, str] = {
    "submit": "申請",
    "approve": "承認",
    "ciso_approve": "統括承認",  # the role column names the CISO; the action column is narrow
    "return": "差戻し",
    "reject": "却下",
    "start_use": "利用開始",
    "mark_review_due": "見直し期限到来",
    "review_done": "年次見直し完了",
    "begin_exit": "利用終了手続開始",
    "end": "利用終了",
}
#: The actor of steps the system takes (the review date arriving).
SYSTEM_ACTOR = "システム"

#: Days from today to the questionnaire's default due date.
DEFAULT_DUE_DAYS = 14


class DocumentUnavailable(Exception):
    """The application cannot have this document now; ``message`` says why (Japanese)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def status_line(application: Application) -> str:
    """The application's one status line (``workflow.state_of``), in Japanese."""
    from cloudjudge.web.register.workflow import state_of

    with translation.override("ja"):
        return str(state_of(application).line)


def exception_grounds(application: Application) -> tuple[str, ...]:
    """The application's exception grounds as its page shows them, in Japanese."""
    with translation.override("ja"):
        return tuple(application.exception_grounds)


def japanese(choices: type[Enum], code: str) -> str:
    """A ``TextChoices`` label in Japanese, whatever the active language."""
    if code not in getattr(choices, "values", ()):
        return code
    with translation.override("ja"):
        return str(choices(code).label)


# --------------------------------------------------------------------------- judgement


def latest_judgement(application: Application) -> Judgement:
    judgement = application.latest_judgement
    if judgement is None:
        raise DocumentUnavailable("この申請はまだ判定されていません。")
    return judgement


def catalog_for(judgement: Judgement) -> Catalog:
    """The criteria the judgement was made under (only the current one is shipped)."""
    catalog = default_catalog()
    if judgement.criteria_version != catalog.label:
        raise DocumentUnavailable(
            f"この申請の判定は判断基準 {judgement.criteria_version} によるもので、"
            f"現在の判断基準 {catalog.label} と異なります。申請を判定し直してください。"
        )
    return catalog


def default_due_date(today: datetime.date | None = None) -> datetime.date:
    return (today or timezone.localdate()) + datetime.timedelta(days=DEFAULT_DUE_DAYS)


def default_contact(user) -> str:
    """Who the vendor returns the workbook to: the downloading user."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    parts = []
    if user.department_id:
        parts.append(user.department.name)
    elif user.role == Role.SECURITY:
        parts.append(japanese(Role, Role.SECURITY))
    parts.append(user.display_name)
    if user.email:
        parts.append(user.email)
    return "　".join(parts)


def questionnaire_request(
    application: Application,
    *,
    due_date: datetime.date | None = None,
    contact: str = "",
    issued_on: datetime.date | None = None,
) -> QuestionnaireRequest:
    """The questionnaire for the application's latest judgement.

    Reading a workbook back needs only the identity (number, criteria, items),
    so the same call without a due date serves the import.
    """
    judgement = latest_judgement(application)
    return QuestionnaireRequest(
        catalog=catalog_for(judgement),
        date_style=date_style(),
        application_number=application.number,
        service_name=application.service.name,
        provider=application.service.provider,
        department=application.department.name,
        decision=judgement.decision,
        due_date=due_date,
        contact=contact,
        issued_on=issued_on,
    )


# --------------------------------------------------------------------------- application report


def report_application(applications: QuerySet[Application], pk: int) -> Application:
    """The application with everything its report reads joined or prefetched.

    Raises ``Application.DoesNotExist`` outside ``applications`` (the caller's scope).
    """
    items = (
        ChecklistItem.objects.filter(active=True)
        .select_related("owner")
        .prefetch_related(
            Prefetch("evidence", queryset=Evidence.objects.order_by("uploaded_at", "id"))
        )
        .order_by("position", "id")
    )
    return (
        applications.select_related("service", "department", "applicant", "latest_judgement")
        .prefetch_related(
            Prefetch("checklist_items", queryset=items, to_attr="report_items"),
            Prefetch(
                "status_changes",
                queryset=StatusChange.objects.select_related("actor").order_by("created_at", "id"),
                to_attr="report_history",
            ),
        )
        .get(pk=pk)
    )


def _note(item: ChecklistItem) -> str:
    parts = []
    if item.na_reason:
        parts.append(f"該当なしの理由: {item.na_reason}")
    if item.note:
        parts.append(item.note)
    return "\n".join(parts)


def checklist_rows(items: Iterable[ChecklistItem]) -> tuple[ChecklistRow, ...]:
    return tuple(
        ChecklistRow(
            item_id=item.item_id,
            title=item.title,
            clause=item.clause,
            status=label(CHECKLIST_STATUS_LABELS, item.status),
            owner=item.owner.display_name if item.owner else "",
            due_date=item.due_date,
            evidence=tuple(e.original_name for e in item.evidence.all()),
            note=_note(item),
        )
        for item in items
    )


def approval_records(changes: Iterable[StatusChange]) -> tuple[ApprovalRecord, ...]:
    """Every step of the lifecycle: who, in which role, did what, when."""
    records = []
    for change in changes:
        actor = change.actor
        records.append(
            ApprovalRecord(
                actor=actor.display_name if actor else SYSTEM_ACTOR,
                role=japanese(Role, actor.role) if actor else "",
                action=ACTION_LABELS.get(change.action, change.action),
                at=timezone.localtime(change.created_at),
                comment=change.comment,
            )
        )
    return tuple(records)


def application_summary(
    application: Application, *, generated_at: datetime.datetime | None = None
) -> ApplicationSummary:
    """The judgement report's content. ``application`` should come from
    :func:`report_application`; without its prefetches it still works, with
    more queries."""
    judgement = latest_judgement(application)
    items = getattr(application, "report_items", None)
    if items is None:
        items = application.checklist_items.filter(active=True).select_related("owner")
    history = getattr(application, "report_history", None)
    if history is None:
        history = application.status_changes.select_related("actor")
    return ApplicationSummary(
        number=application.number,
        service_name=application.service.name,
        provider=application.service.provider,
        department=application.department.name,
        applicant=application.applicant.display_name,
        purpose=application.purpose,
        exception_grounds=exception_grounds(application),
        facts=judgement.request,
        decision=judgement.decision,
        checklist=checklist_rows(items),
        approvals=approval_records(history),
        criteria_version=judgement.criteria_version,
        status=status_line(application),
        generated_at=generated_at or timezone.localtime(),
        date_style=date_style(),
    )


# --------------------------------------------------------------------------- register report


def registry_statuses(services: Iterable[Service], on: datetime.date) -> dict[int, str]:
    """Each service's standing in the public lists on ``on``, as the register
    report prints it: one line per list it is declared on or found in, e.g.
    「ISMAP 失効（有効期限 令和8年3月31日）」 (the registries' own words and
    matching, ``registries.listings``). Three queries for any number of services."""
    services = list({s.pk: s for s in services}.values())
    numbers: dict[int, dict[str, str]] = {}
    links = RegistryLink.objects.filter(service__in=services).order_by()
    for sid, kind, number in links.values_list("service_id", "kind", "number"):
        numbers.setdefault(sid, {})[kind] = number
    registry = Registry.load(
        services, [n for by_kind in numbers.values() for n in by_kind.values()]
    )
    style = date_style()
    out: dict[int, str] = {}
    with translation.override("ja"):
        for service in services:
            lines = []
            for check in check_service(registry, service, numbers.get(service.pk, {}), on):
                if not check.relevant:
                    continue
                line = f"{check.label} {check.status_label}"
                if check.entry is not None and check.entry.expires_on is not None:
                    line += f"（有効期限 {format_date(check.entry.expires_on, style)}）"
                lines.append(line)
            out[service.pk] = "\n".join(lines)
    return out


def register_rows(
    applications: QuerySet[Application], on: datetime.date | None = None, batch: int = 500
) -> Iterator[RegisterRow]:
    """One row per application, in the queryset's order, with its service's
    registry status on ``on`` (default today): a few queries per ``batch`` rows."""
    on = on or timezone.localdate()
    rows = applications.select_related(
        "service", "department", "approved_by", "ciso_approved_by"
    ).iterator(chunk_size=batch)
    while chunk := list(islice(rows, batch)):
        statuses = registry_statuses((a.service for a in chunk), on)
        for application in chunk:
            yield RegisterRow(
                number=application.number,
                department=application.department.name,
                service_name=application.service.name,
                method=application.method,
                confidentiality=application.confidentiality,
                verdict=application.verdict,
                status=status_line(application),
                review_due=application.review_due,
                provider=application.service.provider,
                registry_status=statuses.get(application.service_id, ""),
            )


# --------------------------------------------------------------------------- download names

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def safe_name_part(text: str, limit: int = 40) -> str:
    """A piece of a file name: no path separators, reserved or control characters."""
    cleaned = _UNSAFE.sub("_", text).strip(" ._")
    return cleaned[:limit].rstrip(" ._")


def _number(application: Application) -> str:
    return safe_name_part(application.number or str(application.pk))


def questionnaire_filename(application: Application) -> tuple[str, str]:
    number = _number(application)
    service = safe_name_part(application.service.name)
    name = f"事業者確認票_{number}_{service}.xlsx" if service else f"事業者確認票_{number}.xlsx"
    return name, f"questionnaire_{number}.xlsx"


def procurement_filename(application: Application | None, extension: str) -> tuple[str, str]:
    if application is None:
        label_ = safe_name_part(default_catalog().label.replace("@", "_"))
        return f"調達仕様書記載事項_{label_}.{extension}", f"procurement_{label_}.{extension}"
    number = _number(application)
    return f"調達仕様書記載事項_{number}.{extension}", f"procurement_{number}.{extension}"


def report_filename(application: Application) -> tuple[str, str]:
    number = _number(application)
    return f"クラウドサービス利用判断報告書_{number}.pdf", f"judgement-report_{number}.pdf"


def register_report_filename(today: datetime.date) -> tuple[str, str]:
    stamp = today.strftime("%Y%m%d")
    return f"クラウドサービス利用台帳_{stamp}.pdf", f"cloud-service-register_{stamp}.pdf"
