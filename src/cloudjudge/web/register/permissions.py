"""Who may see and change which application: the one place that says so.

Every view, download, export and API endpoint asks here. Scope first: an
applicant sees only their own department's applications; the security office,
the CISO and auditors see all of them (auditors read only); the system
administrator sees the register but approves nothing. Objects outside a user's
scope are looked up through ``visible_*`` querysets, so a typed-in ID is a 404,
not a leak. Which workflow action each role may take is in ``workflow.py``.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from cloudjudge.web.accounts.models import Role, User
from cloudjudge.web.register.models import Application, Evidence, Status

#: Roles that see every department's applications.
SEE_ALL_ROLES = frozenset({Role.SECURITY, Role.CISO, Role.AUDITOR, Role.ADMIN})
#: Roles that review submitted applications.
REVIEWER_ROLES = frozenset({Role.SECURITY, Role.CISO})
#: Statuses in which the applicant may change the facts (and so re-judge).
EDITABLE_STATUSES = frozenset({Status.DRAFT, Status.RETURNED})
#: Statuses in which the checklist and its evidence can still be worked on.
CHECKLIST_OPEN_STATUSES = frozenset(
    {
        Status.DRAFT,
        Status.SUBMITTED,
        Status.RETURNED,
        Status.APPROVED,
        Status.IN_USE,
        Status.REVIEW_DUE,
        Status.ENDING,
        Status.NEEDS_REVIEW,
    }
)


def _active(user: User) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def sees_all(user: User) -> bool:
    return _active(user) and user.role in SEE_ALL_ROLES


def is_read_only(user: User) -> bool:
    """Auditors read everything and change nothing."""
    return not _active(user) or user.role == Role.AUDITOR


def in_department(user: User, application: Application) -> bool:
    return (
        _active(user)
        and user.role == Role.APPLICANT
        and user.department_id is not None
        and user.department_id == application.department_id
    )


# --------------------------------------------------------------------------- scope


def visible_applications(user: User) -> QuerySet[Application]:
    """The applications ``user`` may see: the base of every lookup by ID."""
    qs = Application.objects.all()
    if sees_all(user):
        return qs
    if _active(user) and user.role == Role.APPLICANT and user.department_id:
        return qs.filter(department_id=user.department_id)
    return qs.none()


def visible_application(user: User, pk: int, *related: str) -> Application:
    """The application ``pk`` if ``user`` may see it, with ``related`` joined;
    404 otherwise, so that another department's IDs are not even confirmed."""
    qs = visible_applications(user).select_related("service", "department", *related)
    return get_object_or_404(qs, pk=pk)


def visible_evidence(user: User) -> QuerySet[Evidence]:
    return Evidence.objects.filter(application__in=visible_applications(user))


def can_view(user: User, application: Application) -> bool:
    return sees_all(user) or in_department(user, application)


# --------------------------------------------------------------------------- changes


def can_create_application(user: User) -> bool:
    return _active(user) and user.role == Role.APPLICANT and user.department_id is not None


def can_edit_application(user: User, application: Application) -> bool:
    """Change the stated facts: the department's applicants, while draft or returned."""
    return in_department(user, application) and application.status in EDITABLE_STATUSES


def can_work_checklist(user: User, application: Application) -> bool:
    """Update checklist rows and upload evidence: the department and the security office."""
    if application.status not in CHECKLIST_OPEN_STATUSES:
        return False
    return in_department(user, application) or (_active(user) and user.role == Role.SECURITY)


def can_review(user: User) -> bool:
    return _active(user) and user.role in REVIEWER_ROLES


def can_manage_services(user: User) -> bool:
    """Correct a register entry's listings and certifications."""
    return _active(user) and user.role in {Role.SECURITY, Role.ADMIN}


def can_see_revisions(user: User) -> bool:
    """The criteria versions, their diff and the re-judging report: the reviewers."""
    return can_review(user) or (_active(user) and user.role in {Role.AUDITOR, Role.ADMIN})


def can_rejudge(user: User) -> bool:
    """Applying a criteria version to the register: the security office."""
    return _active(user) and user.role == Role.SECURITY
