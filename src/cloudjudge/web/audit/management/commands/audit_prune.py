"""``cloudjudge manage audit_prune --before DATE | --older-than-days N``:
remove audit entries past the retention period, keeping the chain verifiable.

Refuses a cutoff that would remove entries younger than
``CLOUDJUDGE_AUDIT_RETENTION_DAYS`` (default 400) and refuses to touch a
broken chain. The removed prefix is replaced by an anchor entry (sequence
and hash of the last removed entry) appended to the chain, in one
transaction. ``--dry-run`` only counts."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cloudjudge.web.audit import chain
from cloudjudge.web.audit.search import start_of


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(_("Not a date (YYYY-MM-DD): %(value)s") % {"value": text}) from None


class Command(BaseCommand):
    help = "Remove audit entries older than the retention period, keeping the chain verifiable."

    def add_arguments(self, parser):
        when = parser.add_mutually_exclusive_group(required=True)
        when.add_argument("--before", metavar="DATE", help="remove entries before this local date")
        when.add_argument(
            "--older-than-days", type=int, metavar="N", help="remove entries older than N days"
        )
        parser.add_argument("--dry-run", action="store_true", help="count only, remove nothing")

    def handle(self, *args, **options):
        with translation.override(settings.LANGUAGE_CODE):
            self._handle(options)

    def _handle(self, options):
        if options["before"]:
            cutoff = start_of(_date(options["before"]))
        else:
            if options["older_than_days"] < 0:
                raise CommandError(_("The number of days cannot be negative."))
            cutoff = timezone.now() - datetime.timedelta(days=options["older_than_days"])
        try:
            result = chain.prune(cutoff, dry_run=options["dry_run"])
        except chain.RetentionError as exc:
            raise CommandError(
                _(
                    "Refused: entries younger than the retention period (%(days)s days, "
                    "CLOUDJUDGE_AUDIT_RETENTION_DAYS) must be kept. The latest cutoff "
                    "allowed now is %(limit)s."
                )
                % {"days": exc.days, "limit": f"{timezone.localtime(exc.limit):%Y-%m-%d %H:%M}"}
            ) from None
        except chain.ChainBrokenError as exc:
            raise CommandError(
                _(
                    "Refused: the audit log chain is broken at #%(sequence)s (%(reason)s). "
                    "Investigate it before removing anything."
                )
                % {"sequence": exc.result.first_broken, "reason": exc.result.reason}
            ) from None
        except chain.RegisterDiffersError as exc:
            found = exc.reconciliation
            raise CommandError(
                "\n".join(
                    [
                        _(
                            "Refused: the register differs from the audit log in %(count)s "
                            "places. Investigate them before removing anything:"
                        )
                        % {"count": len(found.findings)},
                        *(f"  {found.describe(finding)}" for finding in found.findings),
                    ]
                )
            ) from None
        stamp = f"{timezone.localtime(cutoff):%Y-%m-%d %H:%M}"
        if not result.count:
            self.stdout.write(_("No entries older than %(cutoff)s.") % {"cutoff": stamp})
        elif result.dry_run:
            self.stdout.write(
                _("Would remove %(count)s entries (#%(first)s to #%(last)s).")
                % {"count": result.count, "first": result.first, "last": result.last}
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    _(
                        "Removed %(count)s entries (#%(first)s to #%(last)s). Anchor entry "
                        "#%(anchor)s keeps the hash of #%(last)s."
                    )
                    % {
                        "count": result.count,
                        "first": result.first,
                        "last": result.last,
                        "anchor": result.anchor.sequence,
                    }
                )
            )
            if result.carried:
                self.stdout.write(
                    _(
                        "Baseline entries keep the audited state of %(count)s rows whose "
                        "history was removed."
                    )
                    % {"count": result.carried}
                )
