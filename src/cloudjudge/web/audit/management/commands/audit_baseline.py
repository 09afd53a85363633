"""``cloudjudge audit baseline [--dry-run]``: once, after upgrading to the
version that reconciles the register with the audit log.

Rows made before cloudjudge recorded everything that ``audit verify`` now
compares (judgements, reviews, the evidence's state, approval times) have no
complete audited state. This command appends a ``baseline`` entry holding
each such row as it is stored — only where everything the log does know
about the row agrees with it. Rows that differ from the log are listed and
left alone (exit status 1): a baseline must not cover an edit. Rows the log
already accounts for are never touched, so running it again does nothing."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from cloudjudge.web.audit import reconcile
from cloudjudge.web.audit.chain import verify_chain


class Command(BaseCommand):
    help = (
        "Record the stored state of rows that predate reconciliation as their audited "
        "state (once, after upgrading)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count only, record nothing")

    def handle(self, *args, **options):
        with translation.override(settings.LANGUAGE_CODE):
            self._handle(options["dry_run"])

    def _handle(self, dry_run: bool) -> None:
        chain = verify_chain()
        if not chain.ok:
            raise CommandError(chain.describe(), returncode=1)
        with transaction.atomic():
            result = reconcile.baseline(dry_run=dry_run)
        if not result.recorded:
            self.stdout.write(_("No row needs a baseline."))
        elif dry_run:
            self.stdout.write(
                _("Would record a baseline for %(counts)s.")
                % {"counts": reconcile.count_text(result.recorded)}
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Recorded a baseline for %(counts)s.")
                    % {"counts": reconcile.count_text(result.recorded)}
                )
            )
        refused = result.refused
        if refused.findings:
            raise CommandError(
                "\n".join(
                    [
                        _(
                            "These rows differ from what the audit log says and get no "
                            "baseline: investigate them (%(count)s):"
                        )
                        % {"count": len(refused.findings)},
                        *(f"  {refused.describe(finding)}" for finding in refused.findings),
                    ]
                ),
                returncode=1,
            )
