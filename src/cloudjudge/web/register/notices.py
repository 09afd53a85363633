"""E-mails sent the moment something happens (the daily digest is ``reminders``).

``needs_review``: a re-judgement made an approved or in-use application's
verdict worse — the security office and the department are told at once,
in Japanese, with the status line and the link to the application.
"""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import translation

from cloudjudge.web.accounts.models import Role, User
from cloudjudge.web.register.models import Application

log = logging.getLogger(__name__)


def needs_review_recipients(application: Application) -> list[str]:
    """The security office's and the department's active users with an address."""
    users = User.objects.filter(is_active=True).exclude(email="")
    users = users.filter(
        Q(role=Role.SECURITY) | Q(role=Role.APPLICANT, department_id=application.department_id)
    )
    return sorted(set(users.values_list("email", flat=True)))


def needs_review(application_id: int, note: str) -> int:
    """Tell the security office and the department; returns how many were told.
    A mail server that is down is logged, never an error for the re-judgement."""
    from cloudjudge.web.register import workflow

    application = (
        Application.objects.select_related(
            "service", "department", "approved_by", "ciso_approved_by"
        )
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        return 0
    recipients = needs_review_recipients(application)
    if not recipients:
        return 0
    with translation.override("ja"):
        context = {
            "application": application,
            "state": workflow.state_of(application),
            "note": note,
            "base_url": settings.CLOUDJUDGE_BASE_URL.rstrip("/"),
        }
        subject = " ".join(
            render_to_string("register/email/needs_review_subject.txt", context).split()
        )
        body = render_to_string("register/email/needs_review.txt", context)
    try:
        send_mail(subject, body, None, recipients)
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("needs-review mail for %s not sent: %s", application.number, exc)
        return 0
    return len(recipients)
