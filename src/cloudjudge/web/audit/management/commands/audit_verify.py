"""``cloudjudge audit verify [--anchor FILE]... [--files]``: check the audit log
and the register against it.

1. The hash chain, whole: 「監査ログの連鎖は正常です（N 件）」 and the newest
   entry's sequence and hash, or the first broken entry. An empty log fails.
2. With ``--anchor FILE`` (written by ``audit anchor``): every anchored entry
   is still there with its hash, and the chain reaches the newest anchor —
   so a truncated or rewritten log fails.
3. The register against its history (``reconcile``): every application's
   status, approvals and verdict, every judgement, review and evidence row
   and every user's role equal what the audited events say; each difference
   is named (application number or user, field, stored and audited values).
4. With ``--files``: every evidence file's content still has its SHA-256.

Exit status 1 if anything fails (the problems go to stderr)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from cloudjudge.web.audit import anchor, reconcile
from cloudjudge.web.audit.chain import (
    DEFAULT_CHUNK_SIZE,
    in_snapshot,
    verify_chain,
)


class Command(BaseCommand):
    help = (
        "Verify the audit log's hash chain (and external anchors), and the register against "
        "the log; exit status 1 if anything was tampered with."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="FILE",
            help="compare with the anchors in FILE, written by audit anchor (repeatable)",
        )
        parser.add_argument(
            "--files",
            action="store_true",
            help="also read every evidence file and check its SHA-256",
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=DEFAULT_CHUNK_SIZE,
            help=f"entries read from the database at a time (default {DEFAULT_CHUNK_SIZE})",
        )

    def handle(self, *args, **options):
        with translation.override(settings.LANGUAGE_CODE):
            chunk_size = max(1, options["chunk_size"])
            problems = self._chain(chunk_size, options["anchor"])
            problems += self._register(chunk_size)
            if options["files"]:
                problems += self._files()
            if problems:
                raise CommandError("\n".join(problems), returncode=1)

    def _ok(self, message: str) -> None:
        self.stdout.write(self.style.SUCCESS(message))

    def _chain(self, chunk_size: int, anchor_files: list[str]) -> list[str]:
        result = verify_chain(chunk_size=chunk_size)
        problems = []
        if result.ok:
            self._ok(
                _("The audit log chain is intact (%(count)s entries).") % {"count": result.checked}
            )
            self.stdout.write(
                _("Newest entry: #%(sequence)s %(hash)s")
                % {"sequence": result.head_sequence, "hash": result.head_hash}
            )
        else:
            problems.append(result.describe())
        for path in anchor_files:
            try:
                checked = anchor.check(anchor.read(path), result.head_sequence)
            except anchor.AnchorError as exc:
                problems.append(str(exc))
                continue
            problems.extend(checked.problems)
            if checked.ok and checked.newest is not None:
                self._ok(
                    _(
                        "The chain matches the anchors in %(file)s "
                        "(newest: #%(sequence)s of %(when)s)."
                    )
                    % {
                        "file": path,
                        "sequence": checked.newest.sequence,
                        "when": checked.newest.created_at,
                    }
                )
            elif checked.ok:
                self.stdout.write(
                    _("Every anchor in %(file)s is older than the pruned part of the log.")
                    % {"file": path}
                )
        return problems

    def _register(self, chunk_size: int) -> list[str]:
        result = in_snapshot(lambda: reconcile.reconcile(chunk_size))
        counts = reconcile.count_text(result.counts)
        if result.ok:
            self._ok(_("The register matches the audit log (%(counts)s).") % {"counts": counts})
            return []
        return [
            _("The register does not match the audit log (%(count)s differences; %(counts)s):")
            % {"count": len(result.findings), "counts": counts},
            *(f"  {result.describe(finding)}" for finding in result.findings),
        ]

    def _files(self) -> list[str]:
        checked, problems = reconcile.check_evidence_files()
        if not problems:
            self._ok(
                _("Every evidence file has its recorded SHA-256 (%(count)s files).")
                % {"count": checked}
            )
            return []
        return [
            _("Evidence files do not match their records (%(count)s):") % {"count": len(problems)},
            *(f"  {problem}" for problem in problems),
        ]
