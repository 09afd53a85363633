"""E-mails sent the moment something happens (the daily digest is ``reminders``).

``needs_review``: a re-judgement made an approved or in-use application's
verdict worse — the security office and the department are told at once,
in Japanese, with the status line and the link to the application.
"""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import translation

from cloudjudge.web.accounts.models import Role, User
from cloudjudge.web.register.models import Application

log = logging.getLogger(__name__)


def needs_review_recipients(application: Application) -> list[str]:
    """The security office's and the department's active users with an address."""
    return _recipients([application])[application.pk]


def _recipients(applications: list[Application]) -> dict[int, list[str]]:
    """``needs_review_recipients`` of each application, with one query."""
    departments = {application.department_id for application in applications}
    users = User.objects.filter(is_active=True).exclude(email="").order_by()
    users = users.filter(
        Q(role=Role.SECURITY) | Q(role=Role.APPLICANT, department_id__in=departments)
    )
    security: set[str] = set()
    by_department: dict[int, set[str]] = {}
    for email, role, department_id in users.values_list("email", "role", "department_id"):
        if role == Role.SECURITY:
            security.add(email)
        else:
            by_department.setdefault(department_id, set()).add(email)
    return {
        application.pk: sorted(security | by_department.get(application.department_id, set()))
        for application in applications
    }


def needs_review(application_id: int, note: str) -> int:
    """Tell the security office and the department; returns how many were told.
    A mail server that is down is logged, never an error for the re-judgement."""
    return needs_review_many([(application_id, note)])


def needs_review_many(notes: list[tuple[int, str]]) -> int:
    """``needs_review`` for several applications (``(id, note)``), e.g. a batch
    of a re-judgement once it has committed: one query for the applications,
    one for the recipients, one connection to the mail server. Returns how
    many messages' recipients were told, in all."""
    from cloudjudge.web.register import workflow

    found = Application.objects.select_related(
        "service", "department", "approved_by", "ciso_approved_by"
    ).in_bulk([application_id for application_id, _note in notes])
    applications = [found[pk] for pk, _note in notes if pk in found]
    if not applications:
        return 0
    recipients = _recipients(applications)
    messages: list[EmailMessage] = []
    numbers: list[str] = []
    told = 0
    base_url = settings.CLOUDJUDGE_BASE_URL.rstrip("/")
    with translation.override("ja"):
        for application_id, note in notes:
            application = found.get(application_id)
            if application is None or not recipients[application_id]:
                continue
            context = {
                "application": application,
                "state": workflow.state_of(application),
                "note": note,
                "base_url": base_url,
            }
            subject = " ".join(
                render_to_string("register/email/needs_review_subject.txt", context).split()
            )
            body = render_to_string("register/email/needs_review.txt", context)
            messages.append(EmailMessage(subject, body, None, recipients[application_id]))
            numbers.append(application.number)
            told += len(recipients[application_id])
    if not messages:
        return 0
    try:
        get_connection().send_messages(messages)
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("needs-review mail for %s not sent: %s", ", ".join(numbers), exc)
        return 0
    return told
