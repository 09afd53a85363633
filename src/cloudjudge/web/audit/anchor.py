"""External anchors: the chain's newest entry, kept where the database's
administrators cannot reach it.

A hash chain proves that no entry was altered *relative to the others*; it
cannot prove that the chain was not cut short (entries and the head row
deleted together) or rewritten from scratch with recomputed hashes. What
proves that is a copy of the newest hash taken earlier and kept elsewhere:
``cloudjudge audit anchor`` appends one line to files (a local one, a share
on another machine, a write-once store) and e-mails it; ``cloudjudge audit
verify --anchor FILE`` checks that every anchored entry is still in the chain
with the same hash and that the chain has not fallen behind it.

Each anchor is one line of JSON (:func:`line`)::

    {"format": "cloudjudge-audit-anchor", "version": 1,
     "created_at": "2026-04-01T03:15:00Z", "sequence": 1234, "hash": "…64 hex…",
     "entries": 1234}

``entries`` is the number of entries in the table when anchored (it falls
after ``audit prune``; it is shown, not compared). The anchor entry itself
(``Action.EXPORT``, ``extra.kind == "anchor"``) is recorded first and is the
entry anchored, so the log says when each anchor was taken.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from cloudjudge.web.audit.models import Action, AuditEntry

FORMAT = "cloudjudge-audit-anchor"
VERSION = 1
#: An anchor file gains a line a day; refuse to read something that is not one.
MAX_FILE_BYTES = 16 * 1024 * 1024


class AnchorError(Exception):
    """An anchor file that cannot be read (a Japanese message naming the line)."""


@dataclass(frozen=True)
class Anchor:
    sequence: int
    hash: str
    entries: int
    created_at: str
    #: Where it was read from, for messages: ``FILE:LINE``.
    source: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "created_at": self.created_at,
            "sequence": self.sequence,
            "hash": self.hash,
            "entries": self.entries,
        }


def line(anchor: Anchor) -> str:
    return json.dumps(anchor.as_dict(), ensure_ascii=False, sort_keys=True) + "\n"


def of_entry(entry: AuditEntry, entries: int) -> Anchor:
    stamp = entry.timestamp.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Anchor(entry.sequence, entry.hash, entries, stamp)


def _parse(text: str, source: str) -> Anchor:
    try:
        data = json.loads(text)
    except ValueError:
        raise AnchorError(
            _("%(source)s: not an anchor line (not JSON).") % {"source": source}
        ) from None
    sequence, digest = (
        (data.get("sequence"), data.get("hash")) if isinstance(data, dict) else (0, 0)
    )
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or data.get("version") != VERSION
        or not isinstance(sequence, int)
        or isinstance(sequence, bool)
        or sequence < 1
        or not isinstance(digest, str)
        or len(digest) != 64
    ):
        raise AnchorError(
            _("%(source)s: not an anchor line of cloudjudge (format, version, sequence, hash).")
            % {"source": source}
        )
    entries = data.get("entries")
    return Anchor(
        sequence,
        digest,
        entries if isinstance(entries, int) else 0,
        str(data.get("created_at", "")),
        source,
    )


def read(path: str | Path) -> list[Anchor]:
    """Every anchor in a file written by ``audit anchor`` (blank lines skipped)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise AnchorError(
                _("%(file)s is %(size)s bytes: too large for an anchor file.")
                % {"file": path, "size": f"{size:,}"}
            )
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AnchorError(
            _("Cannot read the anchor file %(file)s: %(error)s")
            % {"file": path, "error": exc.strerror or exc}
        ) from None
    except UnicodeDecodeError:
        raise AnchorError(_("%(file)s is not UTF-8 text.") % {"file": path}) from None
    anchors = [
        _parse(text_line, f"{path}:{number}")
        for number, text_line in enumerate(text.splitlines(), 1)
        if text_line.strip()
    ]
    if not anchors:
        raise AnchorError(_("%(file)s holds no anchor.") % {"file": path})
    return anchors


def _pruned_through() -> int:
    """The last sequence removed by ``audit prune`` (0 if never pruned)."""
    anchor = (
        AuditEntry.objects.filter(action=Action.PRUNE).order_by("-sequence").values("extra").first()
    )
    try:
        return int(anchor["extra"]["pruned_through"]) if anchor else 0
    except (KeyError, TypeError, ValueError):
        return 0


@dataclass(frozen=True)
class AnchorCheck:
    ok: bool
    #: The newest anchor found in the chain as anchored (when ok).
    newest: Anchor | None
    problems: tuple[str, ...] = ()
    #: Anchors older than the pruned part of the chain: nothing left to compare.
    pruned: int = 0


def check(anchors: Iterable[Anchor], head_sequence: int | None) -> AnchorCheck:
    """Compare anchors with the chain: each anchored entry must still be there
    with the anchored hash (a rewritten chain fails), and the chain must reach
    at least the newest anchor (a truncated one fails)."""
    anchors = sorted(anchors, key=lambda a: a.sequence)
    pruned_through = _pruned_through()
    checkable = [a for a in anchors if a.sequence > pruned_through]
    stored = dict(
        AuditEntry.objects.filter(sequence__in={a.sequence for a in checkable}).values_list(
            "sequence", "hash"
        )
    )
    problems = []
    newest = None
    head = head_sequence or 0
    for anchor in checkable:
        found = stored.get(anchor.sequence)
        if found is None and anchor.sequence > head:
            problems.append(
                _(
                    "The chain ends at #%(head)s, but entry #%(sequence)s was anchored on "
                    "%(when)s (%(source)s): entries were cut from the end of the log."
                )
                % {
                    "head": head,
                    "sequence": anchor.sequence,
                    "when": anchor.created_at,
                    "source": anchor.source,
                }
            )
        elif found is None:
            problems.append(
                _(
                    "Entry #%(sequence)s, anchored on %(when)s (%(source)s), is missing "
                    "from the chain."
                )
                % {"sequence": anchor.sequence, "when": anchor.created_at, "source": anchor.source}
            )
        elif found != anchor.hash:
            problems.append(
                _(
                    "Entry #%(sequence)s does not have the hash anchored on %(when)s "
                    "(%(source)s): the chain was rewritten."
                )
                % {"sequence": anchor.sequence, "when": anchor.created_at, "source": anchor.source}
            )
        else:
            newest = anchor
    return AnchorCheck(not problems, newest, tuple(problems), len(anchors) - len(checkable))
