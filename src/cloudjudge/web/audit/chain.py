"""The hash chain: canonical form, appending, verification and pruning.

Canonical form
--------------
An entry's hash is ``sha256(canonical_json(content_of(entry))).hexdigest()``
where ``content_of`` is the dict ::

    {"v": 1, "sequence": int, "timestamp": "YYYY-MM-DDTHH:MM:SS.ffffffZ",
     "actor_username": str, "action": str, "source_ip": str,
     "object_type": str, "object_id": str, "object_repr": str,
     "before": JSON|null, "after": JSON|null, "extra": JSON|null,
     "prev_hash": str}

and ``canonical_json`` is ``json.dumps(sort_keys=True, separators=(",", ":"),
ensure_ascii=False, allow_nan=False)`` encoded as UTF-8. The timestamp is
always UTC with six microsecond digits. Because ``prev_hash`` (the previous
entry's ``hash``) and ``sequence`` are inside the hashed content, editing a
row breaks its own hash, and deleting or reordering rows breaks the next row's
``prev_hash`` or leaves a gap in the sequence. ``v`` versions the format.

JSON values are normalised before they are stored (``json_safe``) so that
what PostgreSQL's ``jsonb`` or SQLite's text gives back re-serialises to the
same bytes: keys become strings, integral floats become ints (``jsonb`` would
print ``1e16`` as ``10000000000000000``), NaN/infinity become strings, NUL
characters (which PostgreSQL refuses) and lone surrogates are replaced.

Concurrency
-----------
Appends are serialised by locking one row, :class:`ChainHead` (``pk=1``),
with ``select_for_update()`` inside the append's transaction, rather than
``select_for_update()`` on the newest entry: on PostgreSQL (READ COMMITTED)
a transaction that waited for the lock on "the last row" still gets the row
it first saw, not the one appended meanwhile, so two appenders would both
chain onto it (the unique sequence would then fail one of them), and an
empty table has no row to lock at all. Waiting for the head row instead
returns its newest committed version, so every append sees the true tail.
On SQLite, ``select_for_update`` does nothing, but the project opens
transactions ``IMMEDIATE`` (``settings.py``), so the write lock taken at
``BEGIN`` serialises appenders the same way. The head also lets verification
notice entries cut off the end of the chain.

When ``record()`` runs inside a caller's transaction (``workflow.perform``),
the entry commits or rolls back with the change it describes, and the head
stays locked until then: audited writes are serialised, which is the price
of a single chain and harmless at a city register's write rate.

Pruning
-------
``prune`` removes the oldest entries (a prefix of the chain, all older than
the cutoff) and appends an ``Action.PRUNE`` entry whose ``extra`` holds the
sequence and hash of the last removed entry. That anchor is itself chained
and hashed, so verification starts from it: the first remaining entry must
carry the next sequence and the anchored hash.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import hashlib
import json
import math
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections, models, router, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from cloudjudge.web.audit import conf
from cloudjudge.web.audit.models import GENESIS_HASH, Action, AuditEntry, ChainHead
from cloudjudge.web.bulk import bulk_insert

HASH_VERSION = 1
T = TypeVar("T")
#: The stored fields covered by the hash (with ``"v"``), in the order shown in exports.
CONTENT_FIELDS = (
    "sequence",
    "timestamp",
    "actor_username",
    "action",
    "source_ip",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
    "extra",
    "prev_hash",
)
TEXT_LIMITS = {
    "actor_username": 150,
    "source_ip": 64,
    "object_type": 100,
    "object_id": 64,
    "object_repr": 255,
}
DEFAULT_CHUNK_SIZE = 2000

# --------------------------------------------------------------------------- canonical form


def canonical_timestamp(value: datetime.datetime) -> str:
    if timezone.is_naive(value):
        raise ValueError("audit timestamps must be timezone-aware")
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def content_of(entry: AuditEntry | Mapping[str, Any]) -> dict[str, Any]:
    """The hashed content of an entry (a model instance or a ``values()`` dict)."""
    get = entry.__getitem__ if isinstance(entry, Mapping) else entry.__getattribute__
    content: dict[str, Any] = {name: get(name) for name in CONTENT_FIELDS}
    content["timestamp"] = canonical_timestamp(content["timestamp"])
    content["v"] = HASH_VERSION
    return content


def hash_content(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


def compute_hash(entry: AuditEntry | Mapping[str, Any]) -> str:
    return hash_content(content_of(entry))


def clean_text(value: Any, limit: int | None = None) -> str:
    """A string PostgreSQL and UTF-8 accept, cut to the column's length."""
    text = "" if value is None else str(value)
    text = text.replace("\x00", "\ufffd")
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text[:limit] if limit else text


def json_safe(value: Any) -> Any:
    """``value`` as JSON that survives a round trip through the database unchanged."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return int(value) if value.is_integer() else value
    if isinstance(value, str | Promise):
        return clean_text(value)
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if isinstance(value, Mapping):
        return {clean_text(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        items = [json_safe(item) for item in value]
        return sorted(items, key=canonical_json)
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = value.astimezone(datetime.UTC)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, FieldFile):
        return clean_text(value.name or "")
    if isinstance(value, models.Model):
        return json_safe(value.pk)
    return clean_text(value)


# --------------------------------------------------------------------------- appending


def _db() -> str:
    return router.db_for_write(AuditEntry)


def _lock_head() -> ChainHead:
    """The chain head, locked until the end of the current transaction."""
    heads = ChainHead.objects.using(_db()).select_for_update()
    try:
        return heads.get(pk=1)
    except ChainHead.DoesNotExist:
        pass
    # First use (or a test database that was flushed): start from the newest
    # entry, if any. get_or_create copes with two processes doing this at once.
    newest = AuditEntry.objects.using(_db()).order_by("-sequence").values("sequence", "hash")
    last = newest.first()
    defaults = (
        {"last_sequence": last["sequence"], "last_hash": last["hash"]}
        if last
        else {"last_sequence": 0, "last_hash": GENESIS_HASH}
    )
    head, _created = heads.get_or_create(pk=1, defaults=defaults)
    return head


def _append_locked(head: ChainHead, contents: list[dict[str, Any]]) -> list[AuditEntry]:
    entries = []
    sequence, prev_hash = head.last_sequence, head.last_hash
    for content in contents:
        sequence += 1
        entry = AuditEntry(
            sequence=sequence, timestamp=timezone.now(), prev_hash=prev_hash, **content
        )
        entry.hash = prev_hash = compute_hash(entry)
        entries.append(entry)
    # One INSERT for the lot (what ``AuditEntry.save`` would do row by row).
    bulk_insert(AuditEntry.objects.using(_db()), entries, _append=True)
    head.last_sequence, head.last_hash = sequence, prev_hash
    head.save(using=_db(), update_fields=["last_sequence", "last_hash"])
    return entries


def entry_content(
    action: str,
    *,
    actor=None,
    actor_username: str = "",
    source_ip: str = "",
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    before: Any = None,
    after: Any = None,
    extra: Any = None,
) -> dict[str, Any]:
    """An entry's stored fields, cleaned (everything but its place in the chain)."""
    content = {
        "actor": actor,
        "actor_username": actor_username,
        "action": Action(action).value,
        "source_ip": source_ip,
        "object_type": object_type,
        "object_id": object_id,
        "object_repr": object_repr,
    }
    for name, limit in TEXT_LIMITS.items():
        content[name] = clean_text(content[name], limit)
    content["before"] = json_safe(before)
    content["after"] = json_safe(after)
    content["extra"] = json_safe(extra)
    return content


def append_many(contents: Iterable[Mapping[str, Any]]) -> list[AuditEntry]:
    """Append entries (each an :func:`entry_content`) in this order, under one
    lock of the head and with one INSERT: the chain is the same as appending
    them one by one. Inside the caller's transaction, like :func:`append`."""
    rows = [dict(content) for content in contents]
    if not rows:
        return []
    with transaction.atomic(using=_db()):
        return _append_locked(_lock_head(), rows)


def append(action: str, **fields: Any) -> AuditEntry:
    """Append one entry to the chain (``trail.record`` is the friendly way in);
    ``fields`` as for :func:`entry_content`."""
    return append_many([entry_content(action, **fields)])[0]


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class VerificationResult:
    ok: bool
    #: Entries whose hash and link were checked and found sound.
    checked: int
    #: Sequence number of the first broken entry (possibly a missing one), or None.
    first_broken: int | None = None
    reason: str = ""
    #: Time of the first broken entry, if it exists.
    broken_at: datetime.datetime | None = None
    #: The newest entry checked: record it elsewhere to detect a rewritten chain later.
    head_sequence: int | None = None
    head_hash: str | None = None

    def __bool__(self) -> bool:
        return self.ok

    def describe(self) -> str:
        """What is wrong, for people: the first broken entry, when, and why."""
        if self.first_broken is None:
            return _("The audit log chain is broken: %(reason)s") % {"reason": self.reason}
        when = (
            timezone.localtime(self.broken_at).strftime("%Y-%m-%d %H:%M:%S %Z")
            if self.broken_at
            else _("unknown time")
        )
        return _(
            "The audit log chain is broken. First broken entry: #%(sequence)s "
            "(%(time)s): %(reason)s (%(checked)s entries before it are intact.)"
        ) % {
            "sequence": self.first_broken,
            "time": when,
            "reason": self.reason,
            "checked": self.checked,
        }


def _rows(chunk_size: int) -> Iterator[dict[str, Any]]:
    queryset = AuditEntry.objects.using(_db()).order_by("sequence")
    return queryset.values(*CONTENT_FIELDS, "hash").iterator(chunk_size=chunk_size)


def _anchor_start(anchor: Mapping[str, Any]) -> tuple[int, str] | None:
    extra = anchor.get("extra")
    try:
        sequence = int(extra["pruned_through"])
        last_hash = extra["last_hash"]
    except (KeyError, TypeError, ValueError):
        return None
    if not isinstance(last_hash, str) or sequence < 0:
        return None
    return sequence + 1, last_hash


def _verify(chunk_size: int) -> VerificationResult:
    def broken(sequence, reason, at=None) -> VerificationResult:
        return VerificationResult(
            False, checked, sequence, reason, at, last and last["sequence"], last and last["hash"]
        )

    checked, last = 0, None
    db = _db()
    head = ChainHead.objects.using(db).filter(pk=1).values("last_sequence", "last_hash").first()
    anchor = (
        AuditEntry.objects.using(db)
        .filter(action=Action.PRUNE)
        .order_by("-sequence")
        .values(*CONTENT_FIELDS, "hash")
        .first()
    )
    expected_sequence, expected_prev = 1, GENESIS_HASH
    if anchor is not None:
        start = _anchor_start(anchor)
        if compute_hash(anchor) != anchor["hash"] or start is None:
            return broken(
                anchor["sequence"],
                _("The pruning anchor was altered: the start of the chain cannot be trusted."),
                anchor["timestamp"],
            )
        expected_sequence, expected_prev = start
    head_hash_seen = None
    for row in _rows(chunk_size):
        sequence = row["sequence"]
        if sequence != expected_sequence:
            if sequence < expected_sequence:
                reason = _(
                    "The entry lies before the start recorded by the pruning anchor "
                    "(#%(start)s): entries were reinserted or the anchor is wrong."
                ) % {"start": expected_sequence}
            elif expected_sequence == sequence - 1:
                reason = _("Entry #%(missing)s before this one is missing (deleted).") % {
                    "missing": expected_sequence
                }
            else:
                reason = _(
                    "Entries #%(first)s to #%(last)s before this one are missing (deleted)."
                ) % {"first": expected_sequence, "last": sequence - 1}
            return broken(sequence, reason, row["timestamp"])
        if row["prev_hash"] != expected_prev:
            if last is None:
                reason = _(
                    "The first entry does not continue from the chain's start "
                    "(the genesis value or the pruning anchor): earlier entries were "
                    "altered, removed or moved."
                )
            else:
                reason = _(
                    "The entry does not continue from entry #%(previous)s: that entry was "
                    "altered, or entries were removed or moved."
                ) % {"previous": last["sequence"]}
            return broken(sequence, reason, row["timestamp"])
        if compute_hash(row) != row["hash"]:
            return broken(
                sequence,
                _("The entry's content does not match its hash: it was altered."),
                row["timestamp"],
            )
        checked += 1
        last = row
        expected_sequence, expected_prev = sequence + 1, row["hash"]
        if head is not None and sequence == head["last_sequence"]:
            head_hash_seen = row["hash"]
    newest = last["sequence"] if last else expected_sequence - 1
    if last is None and (head is None or not head["last_sequence"]):
        # Every installation in use has entries (its first user, its first
        # login): a log with none was wiped, together with its head row.
        return broken(
            None,
            _(
                "The audit log holds no entries at all: it was wiped, or this installation "
                "has never been used."
            ),
        )
    if head is None:
        return broken(
            newest + 1,
            _(
                "The chain head record is missing: entries removed from the end "
                "cannot be ruled out."
            ),
        )
    if head["last_sequence"] > newest:
        if head["last_sequence"] == newest + 1:
            reason = _("The newest entry #%(first)s is missing (deleted).") % {"first": newest + 1}
        else:
            reason = _("The newest entries #%(first)s to #%(last)s are missing (deleted).") % {
                "first": newest + 1,
                "last": head["last_sequence"],
            }
        return broken(newest + 1, reason)
    if head["last_sequence"] and head_hash_seen != head["last_hash"]:
        return broken(
            head["last_sequence"],
            _("The entry does not match the hash recorded in the chain head: it was altered."),
        )
    return VerificationResult(
        True, checked, None, "", None, last and last["sequence"], last and last["hash"]
    )


def in_snapshot(function: Callable[[], T]) -> T:
    """``function()`` on one consistent view of the database, so that writes
    committed meanwhile cannot make a check see half of a change. PostgreSQL:
    a REPEATABLE READ, READ ONLY transaction (unless already in one). SQLite:
    a transaction (writers wait for it; the project opens them IMMEDIATE)."""
    connection = connections[_db()]
    if connection.in_atomic_block:
        return function()
    with transaction.atomic(using=_db()):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return function()


def verify_chain(chunk_size: int = DEFAULT_CHUNK_SIZE) -> VerificationResult:
    """Check the whole chain in sequence order, streaming ``chunk_size`` rows at
    a time (memory does not grow with the log), and stop at the first problem.

    Detects an edited entry (its hash), a deleted entry (a gap in the
    sequence, or at the end a chain head ahead of the newest entry), reordered
    entries (``prev_hash``), a recomputed hash (the next entry's ``prev_hash``),
    an altered pruning anchor and an empty log. On PostgreSQL the check runs
    in one snapshot (:func:`in_snapshot`) so that concurrent appends and
    pruning cannot produce a false alarm."""
    connection = connections[_db()]
    if connection.vendor == "postgresql":
        return in_snapshot(lambda: _verify(chunk_size))
    return _verify(chunk_size)


# --------------------------------------------------------------------------- pruning


class RetentionError(Exception):
    """The cutoff would remove entries younger than the retention period."""

    def __init__(self, cutoff: datetime.datetime, limit: datetime.datetime, days: int):
        self.cutoff, self.limit, self.days = cutoff, limit, days
        super().__init__(f"cutoff {cutoff:%Y-%m-%d %H:%M} is after {limit:%Y-%m-%d %H:%M}")


class ChainBrokenError(Exception):
    """Pruning refuses to run on a broken chain: it could destroy the evidence."""

    def __init__(self, result: VerificationResult):
        self.result = result
        super().__init__(f"audit chain broken at #{result.first_broken}: {result.reason}")


class RegisterDiffersError(Exception):
    """Pruning refuses to run while the register differs from the log: the
    entries it would remove may be the evidence (``reconcile``)."""

    def __init__(self, reconciliation):
        self.reconciliation = reconciliation
        super().__init__(f"{len(reconciliation.findings)} rows differ from the audit log")


@dataclass(frozen=True)
class PruneResult:
    count: int
    first: int | None = None
    last: int | None = None
    anchor: AuditEntry | None = None
    dry_run: bool = False
    #: Baseline entries written for the rows whose history was removed.
    carried: int = 0


def retention_limit(now: datetime.datetime | None = None) -> datetime.datetime:
    """The latest cutoff allowed: entries at or after it are within retention."""
    return (now or timezone.now()) - datetime.timedelta(days=conf.retention_days())


def prune(
    cutoff: datetime.datetime, *, dry_run: bool = False, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> PruneResult:
    """Remove the oldest entries, all older than ``cutoff``, and anchor the rest.

    Refuses (:class:`RetentionError`) a cutoff later than now minus the
    retention period, and (:class:`ChainBrokenError`) a chain that does not
    verify, and (:class:`RegisterDiffersError`) while the register differs
    from the log. Removes the longest prefix of the chain whose entries are
    all older than ``cutoff``, then appends an ``Action.PRUNE`` entry
    recording the last removed entry's sequence and hash and a baseline entry
    for each row whose history went (``reconcile.carry_forward``), in one
    transaction."""
    from cloudjudge.web.audit import reconcile  # it builds on this module

    days = conf.retention_days()
    limit = retention_limit()
    if cutoff > limit:
        raise RetentionError(cutoff, limit, days)
    db = _db()
    with transaction.atomic(using=db):
        head = _lock_head()
        result = _verify(chunk_size)
        if not result.ok:
            raise ChainBrokenError(result)
        reconciliation = reconcile.reconcile(chunk_size)
        if not reconciliation.ok:
            raise RegisterDiffersError(reconciliation)
        entries = AuditEntry.objects.using(db).order_by("sequence")
        first_young = entries.filter(timestamp__gte=cutoff).values_list("sequence", flat=True)
        first_young = first_young.first()
        old = entries if first_young is None else entries.filter(sequence__lt=first_young)
        first = old.values("sequence").first()
        if first is None:
            return PruneResult(0, dry_run=dry_run)
        last = old.reverse().values("sequence", "hash", "timestamp").first()
        assert last is not None  # the same rows as ``first``, inside the lock
        count = old.count()
        if dry_run:
            return PruneResult(count, first["sequence"], last["sequence"], dry_run=True)
        carried = reconcile.histories_reaching(last["sequence"])
        table = connections[db].ops.quote_name(AuditEntry._meta.db_table)
        column = connections[db].ops.quote_name(AuditEntry._meta.get_field("sequence").column)
        with connections[db].cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE {column} <= %s", [last["sequence"]])
        extra = {
            "pruned_from": first["sequence"],
            "pruned_through": last["sequence"],
            "last_hash": last["hash"],
            "last_timestamp": canonical_timestamp(last["timestamp"]),
            "count": count,
            "cutoff": cutoff,
            "retention_days": days,
        }
        (anchor,) = _append_locked(head, [entry_content(Action.PRUNE, extra=extra)])
        baselines = reconcile.carry_forward(carried, last["sequence"])
    return PruneResult(count, first["sequence"], last["sequence"], anchor, carried=baselines)
