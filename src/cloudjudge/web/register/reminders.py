"""Daily reminder e-mails: one digest per person, at most one a day.

Who is told what:

* applications awaiting review → every security office user (all submitted
  applications) and every CISO user (only those needing the CISO's approval:
  submitted ones, and approved ones the CISO has not approved yet);
* checklist items past their due date → the item's owner, or the applicant
  when the item has no owner;
* services whose yearly review falls due within
  ``CLOUDJUDGE_REVIEW_LOOKAHEAD_DAYS`` (or has passed) → the applicant, and
  the security office, which follows the reviews up.

Everything one person is to be told goes into one mail (Japanese, plain text
with an HTML alternative) sent through Django's mail framework (SMTP from the
settings). A person is only told about applications they may see. An owner
or applicant who is inactive or has no e-mail address is skipped and reported
(the reviewers told are the security office's and the CISO's active users).

A :class:`ReminderLog` row per person and date, claimed before the mail is
sent and given back if sending fails, makes a second run on the same day send
nothing more (at most one digest a day, a failed one retried by the next run).
``cloudjudge manage send_reminders`` runs :func:`run` (from cron, daily).
"""

from __future__ import annotations

import datetime
import re
import smtplib
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from cloudjudge.presentation import approval_text
from cloudjudge.web.accounts.models import Role, User
from cloudjudge.web.register import checklist, overview, permissions, workflow
from cloudjudge.web.register.models import (
    Application,
    ChecklistItem,
    ReminderLog,
    Status,
)

SENT = "sent"
DRY_RUN = "dry_run"
ALREADY_SENT = "already_sent"
INACTIVE = "inactive"
NO_EMAIL = "no_email"
FAILED = "failed"


@dataclass
class Digest:
    """What one person is reminded of on one day."""

    user: User
    awaiting: list[Application] = field(default_factory=list)
    overdue: list[ChecklistItem] = field(default_factory=list)
    reviews_due: list[Application] = field(default_factory=list)

    @property
    def item_count(self) -> int:
        return len(self.awaiting) + len(self.overdue) + len(self.reviews_due)

    def keep_visible(self) -> None:
        """Drop whatever the user may not see (e.g. an owner moved to another department)."""
        user = self.user
        self.awaiting = [a for a in self.awaiting if permissions.can_view(user, a)]
        self.overdue = [i for i in self.overdue if permissions.can_view(user, i.application)]
        self.reviews_due = [a for a in self.reviews_due if permissions.can_view(user, a)]


@dataclass
class Outcome:
    digest: Digest
    result: str
    error: str = ""


@dataclass
class Report:
    date: datetime.date
    dry_run: bool
    reviews_marked_due: int
    outcomes: list[Outcome]

    def count(self, result: str) -> int:
        return sum(1 for o in self.outcomes if o.result == result)


# --------------------------------------------------------------------------- who is told what


def collect(today: datetime.date) -> list[Digest]:
    """Every person with something to be reminded of on ``today``, ordered by
    user name; inactive users and users without e-mail included (to report them)."""
    digests: dict[int, Digest] = {}

    def digest_for(user: User) -> Digest:
        return digests.setdefault(user.pk, Digest(user))

    everything = Application.objects.all()
    shown = ("service", "department", "applicant")
    # The office's current members: an inactive reviewer account is not told (nor reported).
    reviewers = list(
        User.objects.filter(role__in=(Role.SECURITY, Role.CISO), is_active=True).order_by("pk")
    )

    queues: dict[str, list[Application]] = {}
    for reviewer in reviewers:
        if reviewer.role not in queues:
            queue = overview.awaiting_review(everything, reviewer)
            if reviewer.role == Role.CISO:
                queue = queue.filter(needs_ciso_approval=True)
            queues[reviewer.role] = list(
                queue.select_related(*shown).order_by("submitted_at", "number")
            )
        if queues[reviewer.role]:
            digest_for(reviewer).awaiting = list(queues[reviewer.role])

    overdue = (
        checklist.overdue_items(everything, today)
        .select_related(*(f"application__{name}" for name in shown), "owner")
        .order_by("due_date", "application__number", "position")
    )
    for item in overdue:
        digest_for(item.owner or item.application.applicant).overdue.append(item)

    due = list(
        overview.reviews_due_within(everything, today=today)
        .select_related(*shown)
        .order_by("review_due", "number")
    )
    for application in due:
        digest_for(application.applicant).reviews_due.append(application)
    for reviewer in reviewers:
        if due and reviewer.role == Role.SECURITY:
            digest_for(reviewer).reviews_due.extend(due)

    for digest in digests.values():
        if digest.user.is_active:
            digest.keep_visible()
    return sorted(
        (d for d in digests.values() if d.item_count), key=lambda d: (d.user.username, d.user.pk)
    )


# --------------------------------------------------------------------------- the mail


def message(digest: Digest, today: datetime.date) -> EmailMultiAlternatives:
    """The digest as a Japanese e-mail: plain text, with an HTML alternative."""
    context = {
        "user": digest.user,
        "digest": digest,
        "today": today,
        "base_url": settings.CLOUDJUDGE_BASE_URL.rstrip("/"),
        "lookahead_days": settings.CLOUDJUDGE_REVIEW_LOOKAHEAD_DAYS,
        "APPROVED": Status.APPROVED,
        # The presenter's words: 「統括情報セキュリティ責任者の承認が必要」.
        "CISO_APPROVAL": approval_text(("ciso",), "approval_required"),
    }
    with translation.override("ja"):
        subject = render_to_string("register/email/digest_subject.txt", context)
        text = render_to_string("register/email/digest.txt", context)
        html = render_to_string("register/email/digest.html", context)
    subject = " ".join(subject.split())
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    mail = EmailMultiAlternatives(subject, text, to=[digest.user.email])
    mail.attach_alternative(html, "text/html")
    return mail


def send(
    digests: list[Digest], today: datetime.date, *, dry_run: bool = False, connection=None
) -> list[Outcome]:
    """Send each digest unless its user is inactive, has no address, or was
    already sent one for ``today``. One SMTP connection for the whole run."""
    outcomes: list[Outcome] = []
    sent_before = set(ReminderLog.objects.filter(date=today).values_list("user_id", flat=True))
    connection = connection or get_connection()
    is_open = False
    try:
        for digest in digests:
            user = digest.user
            if not user.is_active:
                outcomes.append(Outcome(digest, INACTIVE))
            elif not user.email:
                outcomes.append(Outcome(digest, NO_EMAIL))
            elif user.pk in sent_before:
                outcomes.append(Outcome(digest, ALREADY_SENT))
            elif dry_run:
                outcomes.append(Outcome(digest, DRY_RUN))
            else:
                mail = message(digest, today)
                with transaction.atomic():
                    log, claimed = ReminderLog.objects.get_or_create(
                        user=user, date=today, defaults={"item_count": digest.item_count}
                    )
                if not claimed:  # another run got there first
                    outcomes.append(Outcome(digest, ALREADY_SENT))
                    continue
                try:
                    if not is_open:
                        connection.open()
                        is_open = True
                    if connection.send_messages([mail]) != 1:
                        raise smtplib.SMTPException("the mail was not sent")
                except (smtplib.SMTPException, OSError) as exc:
                    log.delete()  # not sent: the next run tries again
                    outcomes.append(Outcome(digest, FAILED, str(exc) or type(exc).__name__))
                    connection.close()
                    is_open = False
                else:
                    ReminderLog.objects.filter(pk=log.pk).update(sent_at=timezone.now())
                    outcomes.append(Outcome(digest, SENT))
    finally:
        if is_open:
            connection.close()
    return outcomes


def run(today: datetime.date | None = None, *, dry_run: bool = False) -> Report:
    """The daily job: move reviews that have come due to 見直し期限, then send
    the digests. A dry run changes nothing and sends nothing."""
    today = today or timezone.localdate()
    if dry_run:
        moved = Application.objects.filter(status=Status.IN_USE, review_due__lte=today).count()
    else:
        moved = workflow.mark_reviews_due(today)
    outcomes = send(collect(today), today, dry_run=dry_run)
    return Report(today, dry_run, moved, outcomes)
