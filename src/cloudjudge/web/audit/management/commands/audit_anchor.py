"""``cloudjudge audit anchor [--file FILE]... [--email ADDRESS]...``: keep the
chain's newest hash outside the database.

Verifies the chain (a broken one is not anchored), records the anchoring as
an audit entry, and appends that entry's sequence and hash — one JSON line —
to every ``--file`` (e.g. a local file and a share on another server) and
mails it to every ``--email``; the line is printed too. Run it daily from
cron (``docs/deploy.md``); ``cloudjudge audit verify --anchor FILE`` compares.
Exit status 1 if the chain is broken or a file or mail could not be written."""

from __future__ import annotations

import os
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from cloudjudge.web.audit import anchor, trail
from cloudjudge.web.audit.chain import verify_chain
from cloudjudge.web.audit.models import Action, AuditEntry


def append_line(path: str, text: str) -> None:
    """Append and flush to the disk: an anchor that a crash loses is no anchor."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def mail_body(anchored: anchor.Anchor, text: str) -> str:
    return _(
        "The newest entry of cloudjudge's audit log, for tamper detection.\n"
        "Keep this mail where the database's administrators cannot change it.\n"
        "\n"
        "Entry: #%(sequence)s\n"
        "Hash: %(hash)s\n"
        "Entries in the log: %(entries)s\n"
        "Time (UTC): %(time)s\n"
        "\n"
        "To check the log against it, save the line below in a file and run\n"
        "  cloudjudge audit verify --anchor FILE\n"
        "\n"
        "%(line)s"
    ) % {
        "sequence": anchored.sequence,
        "hash": anchored.hash,
        "entries": anchored.entries,
        "time": anchored.created_at,
        "line": text,
    }


class Command(BaseCommand):
    help = "Record the audit chain's newest hash in files and e-mails outside the database."

    def add_arguments(self, parser):
        parser.add_argument(
            "--file",
            action="append",
            default=[],
            metavar="FILE",
            help="append the anchor line to FILE (repeatable: a second location)",
        )
        parser.add_argument(
            "--email",
            action="append",
            default=[],
            metavar="ADDRESS",
            help="mail the anchor to ADDRESS (repeatable)",
        )

    def handle(self, *args, **options):
        with translation.override(settings.LANGUAGE_CODE):
            self._handle(options["file"], options["email"])

    def _handle(self, files: list[str], emails: list[str]) -> None:
        result = verify_chain()
        if not result.ok:
            raise CommandError(
                _(
                    "The audit log chain is broken (#%(sequence)s: %(reason)s): not anchored. "
                    "Investigate with cloudjudge audit verify."
                )
                % {"sequence": result.first_broken, "reason": result.reason},
                returncode=1,
            )
        marker = trail.record(
            Action.EXPORT,
            object_type="cloudjudge.audit_anchor",
            object_repr="audit anchor",
            extra={"kind": "anchor", "files": files, "emails": emails},
        )
        anchored = anchor.of_entry(marker, AuditEntry.objects.count())
        text = anchor.line(anchored)
        self.stdout.write(text, ending="")
        failures = []
        for path in files:
            try:
                append_line(path, text)
            except OSError as exc:
                failures.append(
                    _("Cannot write %(file)s: %(error)s")
                    % {"file": path, "error": exc.strerror or exc}
                )
            else:
                self.stderr.write(_("Written to %(file)s") % {"file": path})
        if emails:
            subject = _("[cloudjudge] Audit log anchor #%(sequence)s") % {
                "sequence": anchored.sequence
            }
            try:
                send_mail(subject, mail_body(anchored, text), None, emails)
            except (smtplib.SMTPException, OSError) as exc:
                failures.append(
                    _("Cannot send the anchor to %(to)s: %(error)s")
                    % {"to": ", ".join(emails), "error": exc}
                )
            else:
                self.stderr.write(_("Sent to %(to)s") % {"to": ", ".join(emails)})
        if failures:
            raise CommandError("\n".join(failures), returncode=1)
