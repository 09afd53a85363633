"""``cloudjudge manage audit_verify``: check the whole audit chain.

Prints 「監査ログの連鎖は正常です（N 件）」 and the newest entry's sequence and
hash (note them elsewhere: a chain rewritten from scratch would no longer
contain that hash), or names the first broken entry and exits with status 1."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cloudjudge.web.audit.chain import DEFAULT_CHUNK_SIZE, verify_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exit status 1 if it was tampered with."

    def add_arguments(self, parser):
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=DEFAULT_CHUNK_SIZE,
            help=f"entries read from the database at a time (default {DEFAULT_CHUNK_SIZE})",
        )

    def handle(self, *args, **options):
        with translation.override(settings.LANGUAGE_CODE):
            result = verify_chain(chunk_size=max(1, options["chunk_size"]))
            if result.ok:
                self.stdout.write(
                    self.style.SUCCESS(
                        _("The audit log chain is intact (%(count)s entries).")
                        % {"count": result.checked}
                    )
                )
                if result.head_sequence is not None:
                    self.stdout.write(
                        _("Newest entry: #%(sequence)s %(hash)s")
                        % {"sequence": result.head_sequence, "hash": result.head_hash}
                    )
                return
            when = (
                timezone.localtime(result.broken_at).strftime("%Y-%m-%d %H:%M:%S %Z")
                if result.broken_at
                else _("unknown time")
            )
            raise CommandError(
                _(
                    "The audit log chain is broken. First broken entry: #%(sequence)s "
                    "(%(time)s): %(reason)s (%(checked)s entries before it are intact.)"
                )
                % {
                    "sequence": result.first_broken,
                    "time": when,
                    "reason": result.reason,
                    "checked": result.checked,
                },
                returncode=1,
            )
