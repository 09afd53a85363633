"""Read-side queries over the register: the list, the dashboard, the queues.

Each takes the applications a user may see (``permissions.visible_applications``)
and issues a fixed number of queries however many rows there are. The
reminders and the exports reuse them, so every view of the register agrees.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.functional import cached_property

from cloudjudge.web import figures
from cloudjudge.web.accounts.models import Role, User
from cloudjudge.web.register import checklist
from cloudjudge.web.register.models import (
    Application,
    ChecklistItem,
    Service,
    Status,
    Verdict,
)
from cloudjudge.web.search import search_words

#: ``sort`` parameter → ordering; a leading ``-`` reverses.
SORTS: dict[str, tuple[str, ...]] = {
    "number": ("number",),
    "service": ("service__name", "number"),
    "department": ("department__code", "number"),
    "status": ("status", "number"),
    "verdict": ("verdict", "number"),
    "confidentiality": ("confidentiality", "number"),
    "method": ("method", "number"),
    "review_due": ("review_due", "number"),
    "updated": ("updated_at", "id"),
}
DEFAULT_SORT = "-updated"
IN_SERVICE = (Status.IN_USE, Status.REVIEW_DUE)


def ordering(sort: str) -> tuple[str, ...]:
    key = sort.removeprefix("-")
    if key not in SORTS:
        return ordering(DEFAULT_SORT)
    fields = SORTS[key]
    return tuple(f"-{f}" for f in fields) if sort.startswith("-") else fields


def search_register(
    applications: QuerySet[Application],
    *,
    q: str = "",
    department: Any = None,
    verdict: str = "",
    status: str = "",
    method: str = "",
    confidentiality: str = "",
    sort: str = DEFAULT_SORT,
) -> QuerySet[Application]:
    """The register list: filtered, sorted, with what each row shows joined in."""
    qs = search_words(
        applications,
        q,
        ("number", "purpose"),
        grams=("number", "purpose"),
        related={"service": (Service.objects.all(), ("name", "provider"))},
    )
    if department:
        qs = qs.filter(department=department)
    if verdict:
        qs = qs.filter(verdict=verdict)
    if status:
        qs = qs.filter(status=status)
    if method:
        qs = qs.filter(method=method)
    if confidentiality:
        qs = qs.filter(confidentiality=confidentiality)
    return qs.select_related(
        "department", "service", "applicant", "approved_by", "ciso_approved_by"
    ).order_by(*ordering(sort))


def reviews_due_within(
    applications: QuerySet[Application],
    days: int | None = None,
    today: datetime.date | None = None,
) -> QuerySet[Application]:
    """Services in use whose yearly review falls due within ``days`` (or has passed)."""
    today = today or timezone.localdate()
    days = settings.CLOUDJUDGE_REVIEW_LOOKAHEAD_DAYS if days is None else days
    return applications.filter(
        status__in=IN_SERVICE, review_due__lte=today + datetime.timedelta(days=days)
    )


def awaiting_review(applications: QuerySet[Application], user: User) -> QuerySet[Application]:
    """What waits for this reviewer: submitted applications, and for the CISO
    also approved ones that still need the CISO's approval."""
    if user.role == Role.CISO:
        return applications.filter(
            Q(status=Status.SUBMITTED)
            | Q(
                status=Status.APPROVED,
                needs_ciso_approval=True,
                ciso_approved_at__isnull=True,
            )
        )
    if user.role == Role.SECURITY:
        return applications.filter(status=Status.SUBMITTED)
    return applications.none()


@dataclass
class Dashboard:
    status_verdict: dict[str, dict[str, int]] = field(default_factory=dict)
    status_totals: dict[str, int] = field(default_factory=dict)
    verdict_totals: dict[str, int] = field(default_factory=dict)
    total: int = 0
    overdue_count: int = 0
    overdue: list[ChecklistItem] = field(default_factory=list)
    reviews_due_count: int = 0
    reviews_due: list[Application] = field(default_factory=list)
    awaiting_count: int = 0
    unowned_applications_count: int = 0
    unowned_items_count: int = 0
    unowned_applications: list[Application] = field(default_factory=list)
    unowned_items: list[ChecklistItem] = field(default_factory=list)
    #: When these figures were counted (the dashboard may show a cached board).
    computed_at: datetime.datetime | None = None
    #: The register changed since; these are being counted again (``figures.reuse``).
    recounting: bool = False

    @property
    def unowned_count(self) -> int:
        return self.unowned_applications_count + self.unowned_items_count

    @property
    def rows(self) -> list[tuple[str, str, list[tuple[str, int]], int]]:
        """(status, label, [(verdict, count)…], total) for the table."""
        columns = Verdict.values
        return [
            (
                code,
                label,
                [(v, self.status_verdict.get(code, {}).get(v, 0)) for v in columns],
                self.status_totals.get(code, 0),
            )
            for code, label in Status.choices
        ]


#: Statuses after which an application is nobody's work any more.
CLOSED = (Status.ENDED, Status.REJECTED)


def unowned_work(
    applications: QuerySet[Application],
) -> tuple[QuerySet[Application], QuerySet[ChecklistItem]]:
    """Open applications whose applicant's account is closed, and open
    checklist rows whose owner's is (e.g. someone removed from the city's
    directory): work someone must take over."""
    apps = applications.filter(applicant__is_active=False).exclude(status__in=CLOSED)
    items = checklist.open_items(applications).filter(owner__is_active=False)
    return apps, items


def _secrets_of(*users: str) -> list[str]:
    """The fields of the related users that must not be read: the boards are
    pickled into the shared cache, which must hold no password hash."""
    return [f"{path}__password" for path in users]


def dashboard(
    user: User, applications: QuerySet[Application], today: datetime.date | None = None
) -> Dashboard:
    """Counts by status and verdict, overdue checklist rows, reviews due,
    unowned work: eight queries, and one more for each kind of unowned work."""
    today = today or timezone.localdate()
    board = Dashboard(computed_at=timezone.now())
    for row in applications.values("status", "verdict").annotate(n=Count("id")).order_by():
        board.status_verdict.setdefault(row["status"], {})[row["verdict"]] = row["n"]
        board.status_totals[row["status"]] = board.status_totals.get(row["status"], 0) + row["n"]
        board.verdict_totals[row["verdict"]] = (
            board.verdict_totals.get(row["verdict"], 0) + row["n"]
        )
        board.total += row["n"]
    overdue = checklist.overdue_items(applications, today)
    board.overdue_count = overdue.count()
    board.overdue = list(
        overdue.select_related("application__service", "application__department", "owner")
        .defer(*_secrets_of("owner"))
        .order_by("due_date", "application_id", "position")[:10]
    )
    due = reviews_due_within(applications, today=today)
    board.reviews_due_count = due.count()
    board.reviews_due = list(
        due.select_related("service", "department").order_by("review_due")[:10]
    )
    board.awaiting_count = awaiting_review(applications, user).count()
    apps, items = unowned_work(applications)
    board.unowned_applications_count = apps.count()
    board.unowned_items_count = items.count()
    if board.unowned_applications_count:
        board.unowned_applications = list(
            apps.select_related("service", "applicant")
            .defer(*_secrets_of("applicant"))
            .order_by("number")[:10]
        )
    if board.unowned_items_count:
        board.unowned_items = list(
            items.select_related("application__service", "owner")
            .defer(*_secrets_of("owner"))
            .order_by("application_id", "position")[:10]
        )
    return board


def cached_dashboard(
    user: User, applications: QuerySet[Application], today: datetime.date | None = None
) -> Dashboard:
    """``dashboard()``, reused by everyone who sees the same applications in
    the same role until the register changes (``figures.reuse``). At the
    national size the whole register's counts take seconds; the page says
    when they were counted, and when they are being counted again."""
    today = today or timezone.localdate()
    if applications.query.is_empty():  # nothing to count, and no SQL to key on
        return dashboard(user, applications, today)
    counted = figures.reuse(
        "register-dashboard",
        (str(applications.query), user.role, today),
        lambda: dashboard(user, applications, today),
        of_version=figures.version(),
    )
    board = counted.value
    board.recounting = counted.recounting
    return board


#: A text search counts its matches up to this many, then says "more than".
SEARCH_COUNT_LIMIT = 1000


class CountedPaginator(Paginator):
    """The register list's paginator. Its count (``SELECT count(*)``, the
    list's costliest query at the national size: every matching row) is kept
    in the shared cache under the same version as the dashboard's figures, so
    it is exact until the next change and never older than a minute.

    ``count_limit`` (a text search) counts at most that many and one more:
    a common word matches 70,000 of 520,000 applications, and counting them
    all took 3.2 s for a list whose first page took 70 ms (docs/scale.md);
    ``capped`` then says the list goes on past ``count`` (its pages show
    the first ``count``)."""

    def __init__(self, object_list, per_page, *, count_limit: int | None = None) -> None:
        super().__init__(object_list, per_page)
        self.count_limit = count_limit
        self.capped = False

    @cached_property
    def count(self) -> int:
        objects = self.object_list
        if not isinstance(objects, QuerySet) or objects.query.is_empty():
            return super().count
        limit = self.count_limit
        counted = figures.reuse(
            "register-count",
            (str(objects.query), limit),
            (lambda: objects.order_by().values("pk")[: limit + 1].count())
            if limit
            else (lambda: super(CountedPaginator, self).count),
            of_version=figures.version(),
            background=False,  # the list shows its count as exact
        ).value
        if limit and counted > limit:
            self.capped = True
            return limit
        return counted


# --------------------------------------------------------------------------- your work


@dataclass
class ActionList:
    """「あなたの対応が必要な申請」: what waits for the signed-in user's role."""

    applications: list[Application] = field(default_factory=list)
    application_count: int = 0
    items: list[ChecklistItem] = field(default_factory=list)
    item_count: int = 0

    @property
    def empty(self) -> bool:
        return not (self.application_count or self.item_count)


#: How many rows of each kind the dashboard shows (the counts are exact).
ACTION_LIST_ROWS = 20


def waiting_for(applications: QuerySet[Application], user: User) -> QuerySet[Application]:
    """The applications whose next step is this user's role's (``workflow.state_of``
    says the same per application): applicants their department's drafts,
    returned ones, approved ones ready for 利用開始, reviews due and exits; the
    security office what awaits review and what a worse re-judgement sent back;
    the CISO what awaits the CISO."""
    if user.role == Role.APPLICANT:
        ready = (
            Q(status=Status.APPROVED)
            & ~Q(verdict=Verdict.PROHIBITED)
            & (Q(needs_ciso_approval=False) | Q(ciso_approved_at__isnull=False))
        )
        return applications.filter(
            Q(status__in=(Status.DRAFT, Status.RETURNED, Status.REVIEW_DUE, Status.ENDING)) | ready
        )
    if user.role == Role.SECURITY:
        return applications.filter(
            Q(status=Status.SUBMITTED)
            | Q(status=Status.APPROVED, verdict=Verdict.PROHIBITED)
            | Q(status=Status.NEEDS_REVIEW, needs_ciso_approval=False)
        )
    if user.role == Role.CISO:
        return applications.filter(
            Q(
                status=Status.APPROVED,
                needs_ciso_approval=True,
                ciso_approved_at__isnull=True,
            )
            & ~Q(verdict=Verdict.PROHIBITED)
            | Q(status=Status.NEEDS_REVIEW, needs_ciso_approval=True)
        )
    return applications.none()


def cached_action_list(
    user: User, applications: QuerySet[Application], today: datetime.date | None = None
) -> ActionList:
    """``action_list()``, reused like the dashboard's figures (``cached_dashboard``,
    whose note says when they are being counted again): counting a security
    officer's overdue rows among 16 million takes a second."""
    today = today or timezone.localdate()
    if applications.query.is_empty():
        return action_list(user, applications, today)
    return figures.reuse(
        "register-actions",
        (str(applications.query), user.pk, user.role, today),
        lambda: action_list(user, applications, today),
        of_version=figures.version(),
    ).value


def action_list(
    user: User, applications: QuerySet[Application], today: datetime.date | None = None
) -> ActionList:
    """The dashboard's first section: four queries however many applications."""
    today = today or timezone.localdate()
    work = ActionList()
    waiting = waiting_for(applications, user)
    work.application_count = waiting.count()
    if work.application_count:
        work.applications = list(
            waiting.select_related(
                "service", "department", "applicant", "approved_by", "ciso_approved_by"
            )
            .defer(*_secrets_of("applicant", "approved_by", "ciso_approved_by"))
            .order_by("updated_at", "id")[:ACTION_LIST_ROWS]
        )
    # Checklist rows assigned to the user (applicants), and everyone's overdue rows.
    mine = checklist.open_items(applications).filter(owner=user)
    if user.role != Role.APPLICANT:
        mine = mine.filter(due_date__lt=today)
    work.item_count = mine.count()
    if work.item_count:
        work.items = list(
            mine.select_related("application__service", "owner")
            .defer(*_secrets_of("owner"))
            .order_by("due_date", "application_id", "position")[:ACTION_LIST_ROWS]
        )
    return work
