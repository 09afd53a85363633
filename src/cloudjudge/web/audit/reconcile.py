"""Reconciling the register with its own history.

The hash chain proves that the audit log was not altered. It says nothing
about the register's tables, which anyone with the database's password can
edit without going near the log: an application moved to 承認 with an UPDATE,
another approver written in, a judgement's verdict changed. Reconciliation
closes that gap for the rows that carry a decision: it derives from the
audit log what each row must hold now and compares it with what it holds.

What is reconciled (:data:`KINDS`)
----------------------------------
* 申請 ``register.application``: its department, applicant, service, every
  stated fact, its status and both approvals (who and when); and its
  latest judgement, verdict, ``needs_ciso_approval`` and ``pia_required``,
  which must be those of the newest audited judgement of that application;
* 判定 ``register.judgement``: the application, verdict, criteria version,
  actor and a SHA-256 over the stored request and decision;
* 審査 ``register.review``: application, judgement, reviewer, action, comment;
* 証跡 ``register.evidence``: application, checklist row, exit step, stored
  file name, original name, size, SHA-256 and uploader;
* 利用者 ``accounts.user``: username, role, department, active, staff, superuser.

How the audited state is derived (:func:`audited`)
--------------------------------------------------
The entries about one object are folded in sequence order: a ``create``
(or ``evidence_upload``) sets its fields from ``after``; an ``update``,
``state_change`` or ``approval`` changes the fields in ``after`` — and its
``before`` must equal what the log said until then, otherwise the row had
been edited outside cloudjudge before that change (an edit later overwritten
is still found); a ``delete`` removes it; a ``baseline`` sets the whole state
and forgets earlier findings (see below). Only what the application changed
on purpose reaches ``after`` (``trail.changes``), so a later legitimate
change cannot launder a direct edit of a field it did not touch.

Findings name the row (application number, username), the field, the stored
value and the audited one, and the entry that said so.

Rows older than reconciliation (:func:`baseline`)
-------------------------------------------------
Entries written before cloudjudge recorded everything reconciled lack some
fields (approval times, judgements, reviews, the evidence's state): such
rows are reported as not in the log or incomplete until ``cloudjudge audit
baseline`` is run once after upgrading. It appends a ``baseline`` entry with
the row as stored for each of them — only where the fields the log does know
agree with the row, so a row edited before the upgrade is still reported, and
never for a row the log already accounts for. ``audit prune`` writes the same
entries for the rows whose history it removes (it refuses to run while
reconciliation finds anything), so pruning never loses a row's audited state.

What is not reconciled: services, checklist rows, exit steps, questionnaire
imports, registry entries, departments, group and permission assignments,
API tokens, second-factor devices, sessions. ``docs/security.md`` §6.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.apps import apps
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cloudjudge.web.audit import chain, trail
from cloudjudge.web.audit.models import Action, AuditEntry

#: Sets an object's whole state.
_CREATES = frozenset({Action.CREATE, Action.EVIDENCE_UPLOAD})
#: Change the fields in ``after``, starting from the ones in ``before``.
_CHANGES = frozenset({Action.UPDATE, Action.STATE_CHANGE, Action.APPROVAL})


@dataclass(frozen=True)
class Computed:
    """A reconciled value that is not a column: computed from the columns read."""

    label: Promise
    reads: tuple[str, ...]
    compute: Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Kind:
    """One model whose rows are reconciled, and what is compared."""

    label: str
    fields: tuple[str, ...]
    computed: Mapping[str, Computed] = field(default_factory=dict)
    #: Columns read besides: to name the row, and for the checks on the side.
    also_reads: tuple[str, ...] = ()

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.label)

    @property
    def noun(self) -> str:
        return str(self.model._meta.verbose_name)

    @property
    def names(self) -> tuple[str, ...]:
        """Everything compared: the fields, then the computed values."""
        return (*self.fields, *self.computed)

    def model_field(self, name: str) -> models.Field[Any, Any]:
        found = self.model._meta.get_field(name)
        assert isinstance(found, models.Field), f"{self.label}.{name} is a column"
        return found

    def column(self, name: str) -> str:
        return self.model_field(name).attname

    def field_label(self, name: str) -> str:
        if name in self.computed:
            return f"{self.computed[name].label}（{name}）"
        return f"{self.model_field(name).verbose_name}（{name}）"

    def _columns(self) -> list[str]:
        reads = {read for computed in self.computed.values() for read in computed.reads}
        return [self.column(name) for name in self.fields] + sorted(reads)

    def state_of_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        state = {name: chain.json_safe(row[self.column(name)]) for name in self.fields}
        for name, computed in self.computed.items():
            state[name] = chain.json_safe(computed.compute(row))
        return state

    def state(self, instance: models.Model) -> dict[str, Any]:
        """What the audit trail keeps of ``instance``: record it as ``after``."""
        return self.state_of_row({column: getattr(instance, column) for column in self._columns()})

    def stored(self, chunk_size: int) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
        """``(object_id, state, row)`` for every stored row, streamed."""
        columns = {*self._columns(), *self.also_reads}
        queryset = self.model._base_manager.order_by("pk").values("pk", *sorted(columns))
        for row in queryset.iterator(chunk_size=chunk_size):
            yield str(row["pk"]), self.state_of_row(row), row


#: The users are reconciled here (accounts and audit know each other); every
#: other app names its own reconciled models in its AppConfig's
#: ``reconciled_kinds()``, so the audit app imports no app above it.
USERS = Kind(
    "accounts.user",
    ("username", "role", "department", "is_active", "is_staff", "is_superuser"),
)


@cache
def kinds() -> dict[str, Kind]:
    """The reconciled models by label (built on first use: the apps must be loaded)."""
    found = [USERS]
    for config in apps.get_app_configs():
        declare = getattr(config, "reconciled_kinds", None)
        if declare is not None:
            found.extend(declare())
    return {kind.label: kind for kind in found}


def kind_of(instance: models.Model) -> Kind:
    return kinds()[instance._meta.label_lower]


def state(instance: models.Model) -> dict[str, Any]:
    """The reconciled fields of ``instance`` as the audit trail keeps them::

    record(Action.CREATE, actor=actor, obj=review, after=reconcile.state(review))
    """
    return kind_of(instance).state(instance)


#: Application fields that follow the newest judgement, from its audited state.
JUDGED_FIELDS = {
    "latest_judgement": None,
    "verdict": "verdict",
    "needs_ciso_approval": "needs_ciso_approval",
    "pia_required": "pia_required",
}


# --------------------------------------------------------------------------- findings


class Problem(enum.StrEnum):
    #: A field differs from its audited value.
    DIFFERS = "differs"
    #: A change started from a value the log never had: an edit, since overwritten.
    CHANGED_OUTSIDE = "changed_outside"
    #: A row the log knows nothing of.
    NOT_AUDITED = "not_audited"
    #: A row the log knows only in part (recorded before this version).
    INCOMPLETE = "incomplete"
    #: A row the log knows that the database no longer has.
    DELETED_OUTSIDE = "deleted_outside"


@dataclass(frozen=True)
class Finding:
    """One difference between a row and its history."""

    kind: str
    object_id: str
    problem: str
    field: str = ""
    stored: Any = None
    audited: Any = None
    #: The entry that gave the audited value (or the last one about the object).
    sequence: int | None = None
    #: Fields with no audited value (``INCOMPLETE``).
    missing: tuple[str, ...] = ()


@dataclass
class Audited:
    """What the log says about one object so far (``state`` None: nothing, or deleted)."""

    state: dict[str, Any] | None = None
    #: The entry that last set each field.
    source: dict[str, int] = field(default_factory=dict)
    #: The last entry about the object.
    sequence: int = 0
    findings: list[Finding] = field(default_factory=list)

    def start(self, kind: Kind, after: Mapping[str, Any], sequence: int) -> None:
        self.state = {name: after[name] for name in kind.names if name in after}
        self.source = dict.fromkeys(self.state, sequence)

    def change(
        self,
        kind: Kind,
        object_id: str,
        before: Mapping[str, Any],
        after: Mapping[str, Any],
        sequence: int,
    ) -> None:
        if self.state is None:
            self.state = {}
        for name in kind.names:
            if name in before and name in self.state and not _same(before[name], self.state[name]):
                self.findings.append(
                    Finding(
                        kind.label,
                        object_id,
                        Problem.CHANGED_OUTSIDE,
                        name,
                        before[name],
                        self.state[name],
                        sequence,
                    )
                )
            if name in after:
                self.state[name] = after[name]
                self.source[name] = sequence


def _entries(label: str, chunk_size: int) -> Iterator[dict[str, Any]]:
    queryset = AuditEntry.objects.filter(object_type=label).order_by("sequence")
    columns = ("sequence", "action", "object_id", "before", "after")
    return queryset.values(*columns).iterator(chunk_size=chunk_size)


def _same(a: Any, b: Any) -> bool:
    """Equal as stored JSON (``True`` and ``1`` differ)."""
    if type(a) is type(b) and a == b:
        return True
    return chain.canonical_json(a) == chain.canonical_json(b)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def audited(kind: Kind, chunk_size: int = chain.DEFAULT_CHUNK_SIZE) -> dict[str, Audited]:
    """Fold the log's entries about ``kind`` into each object's audited state."""
    objects: dict[str, Audited] = {}
    for entry in _entries(kind.label, chunk_size):
        sequence, action, object_id = entry["sequence"], entry["action"], entry["object_id"]
        known = objects.setdefault(object_id, Audited())
        known.sequence = sequence
        if action == Action.BASELINE:
            known.findings.clear()
            known.start(kind, _dict(entry["after"]), sequence)
        elif action in _CREATES:
            known.start(kind, _dict(entry["after"]), sequence)
        elif action in _CHANGES:
            known.change(kind, object_id, _dict(entry["before"]), _dict(entry["after"]), sequence)
        elif action == Action.DELETE:
            known.state = None
    return objects


# --------------------------------------------------------------------------- comparing


@dataclass(frozen=True)
class Reconciliation:
    findings: tuple[Finding, ...]
    #: Rows compared, by kind label.
    counts: Mapping[str, int]
    #: How each object found wanting is named: ``{(kind, id): "利用申請 CJ-2026-00001"}``.
    names: Mapping[tuple[str, str], str]

    @property
    def ok(self) -> bool:
        return not self.findings

    def describe(self, finding: Finding) -> str:
        return describe(finding, self.names.get((finding.kind, finding.object_id), ""))


#: What a finding's name is made of, kept for the rows that have one.
_NAMING = ("number", "username", "original_name", "application_id")


def _compare(
    kind: Kind,
    known: dict[str, Audited],
    chunk_size: int,
    newest: Mapping[str, tuple[str, Audited]] | None,
) -> tuple[list[Finding], int, dict[str, dict[str, Any]]]:
    """Findings for one kind, the number of rows compared, and the naming data
    of the rows found wanting."""
    findings: list[Finding] = []
    named: dict[str, dict[str, Any]] = {}
    count = 0
    for object_id, stored, row in kind.stored(chunk_size):
        count += 1
        found = list(_row_findings(kind, object_id, stored, known.pop(object_id, None)))
        if newest is not None:
            found.extend(_judged_findings(object_id, row, newest.get(object_id)))
        if found:
            findings.extend(found)
            named[object_id] = {name: row[name] for name in _NAMING if name in row}
    for object_id, history in known.items():
        if history.state is not None:
            findings.append(
                Finding(kind.label, object_id, Problem.DELETED_OUTSIDE, sequence=history.sequence)
            )
    return findings, count, named


def _row_findings(
    kind: Kind, object_id: str, stored: Mapping[str, Any], history: Audited | None
) -> Iterator[Finding]:
    if history is None or history.state is None:
        yield Finding(kind.label, object_id, Problem.NOT_AUDITED)
        return
    yield from history.findings
    missing = tuple(name for name in kind.names if name not in history.state)
    if missing:
        yield Finding(
            kind.label, object_id, Problem.INCOMPLETE, sequence=history.sequence, missing=missing
        )
    for name in kind.names:
        if name in history.state and not _same(stored[name], history.state[name]):
            yield Finding(
                kind.label,
                object_id,
                Problem.DIFFERS,
                name,
                stored[name],
                history.state[name],
                history.source.get(name),
            )


def _judged_findings(
    object_id: str, row: Mapping[str, Any], newest: tuple[str, Audited] | None
) -> Iterator[Finding]:
    """An application's latest judgement, verdict, CISO and PIA flags are those
    of its newest audited judgement. (An application with no audited judgement
    at all has nothing to compare: its judgements are reported themselves.)"""
    if newest is None:
        return
    judgement_id, history = newest
    audited_state = history.state or {}
    application = kinds()["register.application"]
    for name, source in JUDGED_FIELDS.items():
        stored = chain.json_safe(row[application.column(name)])
        if source is None:
            expected, sequence = int(judgement_id), history.source.get("application")
        elif source in audited_state:
            expected, sequence = audited_state[source], history.source.get(source)
        else:
            continue
        if not _same(stored, expected):
            yield Finding(
                application.label, object_id, Problem.DIFFERS, name, stored, expected, sequence
            )


def _newest_judgements(known: Mapping[str, Audited]) -> dict[str, tuple[str, Audited]]:
    """``{application id: (judgement id, its history)}`` for the newest audited judgement."""
    newest: dict[str, tuple[str, Audited]] = {}
    for judgement_id, history in known.items():
        if history.state is None or "application" not in history.state:
            continue
        application = str(history.state["application"])
        current = newest.get(application)
        if current is None or int(judgement_id) > int(current[0]):
            newest[application] = (judgement_id, history)
    return newest


def reconcile(chunk_size: int = chain.DEFAULT_CHUNK_SIZE) -> Reconciliation:
    """Compare every reconciled row with its audited state (see the module).
    Run it on one view of the database: :func:`chain.in_snapshot`."""
    findings: list[Finding] = []
    counts: dict[str, int] = {}
    named: dict[tuple[str, str], dict[str, Any]] = {}
    judgements = audited(kinds()["register.judgement"], chunk_size)
    newest = _newest_judgements(judgements)
    for label, kind in kinds().items():
        known = judgements if label == "register.judgement" else audited(kind, chunk_size)
        found, counts[label], rows = _compare(
            kind, known, chunk_size, newest if label == "register.application" else None
        )
        findings.extend(found)
        named.update({(label, object_id): row for object_id, row in rows.items()})
    return Reconciliation(tuple(findings), counts, _names(findings, named))


# --------------------------------------------------------------------------- naming


def _names(
    findings: Iterable[Finding], rows: Mapping[tuple[str, str], Mapping[str, Any]]
) -> dict[tuple[str, str], str]:
    """How each object found wanting is named: application number, username."""
    numbers = dict(apps.get_model("register.application")._base_manager.values_list("pk", "number"))
    names: dict[tuple[str, str], str] = {}
    for finding in findings:
        key = (finding.kind, finding.object_id)
        if key not in names:
            names[key] = _name(finding.kind, finding.object_id, rows.get(key), numbers)
    return names


def _name(label: str, object_id: str, row: Mapping[str, Any] | None, numbers) -> str:
    noun = kinds()[label].noun
    if row is None:  # gone from the database: as the log last described it
        last = (
            AuditEntry.objects.filter(object_type=label, object_id=object_id)
            .order_by("-sequence")
            .values_list("object_repr", flat=True)
            .first()
        )
        return f"{noun} #{object_id}「{last or ''}」"
    if label == "register.application":
        return f"{noun} {row['number'] or '#' + object_id}"
    if label == "accounts.user":
        return f"{noun} {row['username']}"
    values = {
        "noun": noun,
        "id": object_id,
        "number": numbers.get(row.get("application_id"), ""),
        "name": row.get("original_name", ""),
    }
    if label == "register.evidence":
        return _("%(noun)s #%(id)s 「%(name)s」 of application %(number)s") % values
    return _("%(noun)s #%(id)s of application %(number)s") % values


def _show(kind: Kind, name: str, value: Any) -> str:
    if value is None:
        return _("(none)")
    text = value if isinstance(value, str) else chain.canonical_json(value).decode("utf-8")
    if name not in kind.computed:
        related = kind.model_field(name).related_model
        if isinstance(related, type) and related._meta.label_lower == "accounts.user":
            username = (
                apps.get_model("accounts.user")
                ._base_manager.filter(pk=value)
                .values_list("username", flat=True)
                .first()
            )
            return f"{text}（{username}）" if username else text
    return text if len(text) <= 80 else text[:77] + "…"


#: Each finding said as a sentence naming the row, the field and both values.
MESSAGES = {
    Problem.DIFFERS: gettext_lazy(
        "%(object)s: %(field)s is %(stored)s in the database, but %(audited)s in the "
        "audit log (entry #%(sequence)s): changed outside cloudjudge."
    ),
    Problem.CHANGED_OUTSIDE: gettext_lazy(
        "%(object)s: %(field)s was %(stored)s when entry #%(sequence)s changed it, but "
        "%(audited)s in the audit log before: changed outside cloudjudge before that."
    ),
    Problem.NOT_AUDITED: gettext_lazy(
        "%(object)s: not in the audit log (created outside cloudjudge, e.g. directly "
        "in the database, or before this version: see cloudjudge audit baseline)."
    ),
    Problem.INCOMPLETE: gettext_lazy(
        "%(object)s: the audit log holds no value for %(fields)s (recorded before this "
        "version of cloudjudge: run cloudjudge audit baseline once)."
    ),
    Problem.DELETED_OUTSIDE: gettext_lazy(
        "%(object)s: in the audit log (entry #%(sequence)s) but not in the database: "
        "deleted outside cloudjudge."
    ),
}


def describe(finding: Finding, name: str) -> str:
    """One finding as a sentence (:data:`MESSAGES`)."""
    kind = kinds()[finding.kind]
    values = {"object": name, "sequence": finding.sequence, "fields": ", ".join(finding.missing)}
    if finding.field:
        values.update(
            field=kind.field_label(finding.field),
            stored=_show(kind, finding.field, finding.stored),
            audited=_show(kind, finding.field, finding.audited),
        )
    return str(MESSAGES[Problem(finding.problem)]) % values


# --------------------------------------------------------------------------- baseline


@dataclass(frozen=True)
class BaselineResult:
    #: Rows given a baseline entry, by kind label.
    recorded: Mapping[str, int]
    #: Findings that a baseline must not cover (a row that differs from its history).
    refused: Reconciliation


#: What a baseline may settle: rows the log does not know (fully) yet.
_SETTLED_BY_BASELINE = frozenset({Problem.NOT_AUDITED, Problem.INCOMPLETE})


def record_baseline(instance: models.Model, reason: str, **extra: Any) -> AuditEntry:
    return trail.record(
        Action.BASELINE, obj=instance, after=state(instance), extra={"reason": reason, **extra}
    )


def baseline(*, dry_run: bool = False, chunk_size: int = chain.DEFAULT_CHUNK_SIZE):
    """Give every row the log does not know (or knows only in part) a baseline
    entry holding the row as stored — unless anything else is wrong with that
    row (a differing field, an edit before a change): those are refused and
    stay reported. Call inside a transaction (the command does)."""
    result = reconcile(chunk_size)
    blocked = {
        (f.kind, f.object_id) for f in result.findings if f.problem not in _SETTLED_BY_BASELINE
    }
    wanted: dict[str, set[str]] = {}
    for finding in result.findings:
        key = (finding.kind, finding.object_id)
        if finding.problem in _SETTLED_BY_BASELINE and key not in blocked:
            wanted.setdefault(finding.kind, set()).add(finding.object_id)
    recorded: dict[str, int] = {}
    for label, ids in wanted.items():
        model = kinds()[label].model
        rows = model._base_manager.filter(pk__in=[int(i) for i in ids]).order_by("pk")
        if not dry_run:
            for instance in rows.iterator():
                record_baseline(instance, "upgrade")
        recorded[label] = len(ids)
    refused = [f for f in result.findings if (f.kind, f.object_id) in blocked]
    return BaselineResult(recorded, Reconciliation(tuple(refused), result.counts, result.names))


def histories_reaching(through: int) -> dict[str, list[int]]:
    """The stored rows with entries at or before ``through``, by kind label:
    the rows whose history a prune up to there removes."""
    found = {}
    for label, kind in kinds().items():
        ids = (
            AuditEntry.objects.filter(object_type=label, sequence__lte=through)
            .values_list("object_id", flat=True)
            .distinct()
        )
        wanted = sorted({int(i) for i in ids if i.isdigit()})
        found[label] = [
            pk
            for start in range(0, len(wanted), 500)
            for pk in kind.model._base_manager.filter(pk__in=wanted[start : start + 500])
            .order_by("pk")
            .values_list("pk", flat=True)
        ]
    return found


def carry_forward(rows: Mapping[str, list[int]], pruned_through: int) -> int:
    """After a prune: a baseline entry for each of ``rows`` (see
    :func:`histories_reaching`), so that each keeps an audited state. Sound
    only on a clean reconciliation, which ``prune`` makes sure of first."""
    count = 0
    for label, ids in rows.items():
        model = kinds()[label].model
        for start in range(0, len(ids), 500):
            for instance in model._base_manager.filter(pk__in=ids[start : start + 500]).order_by(
                "pk"
            ):
                record_baseline(instance, "prune", pruned_through=pruned_through)
                count += 1
    return count


def count_text(counts: Mapping[str, int]) -> str:
    """``申請 3 件、判定 5 件、…`` for a summary line."""
    return _(", ").join(
        _("%(noun)s: %(count)s") % {"noun": kinds()[label].noun, "count": count}
        for label, count in counts.items()
    )


# --------------------------------------------------------------------------- evidence files


def check_evidence_files() -> tuple[int, list[str]]:
    """Read every evidence file back and compare its SHA-256 with the row's
    (which reconciliation compares with the log): ``(files checked, problems)``."""
    from django.core.files.storage import default_storage

    kind = kinds()["register.evidence"]
    numbers = dict(apps.get_model("register.application")._base_manager.values_list("pk", "number"))
    rows = kind.model._base_manager.order_by("pk").values(
        "pk", "file", "sha256", "original_name", "application_id"
    )
    checked, problems = 0, []
    for row in rows.iterator(chunk_size=500):
        checked += 1
        name = _name(kind.label, str(row["pk"]), row, numbers)
        digest = hashlib.sha256()
        try:
            with default_storage.open(row["file"], "rb") as handle:
                while chunk := handle.read(1024 * 1024):
                    digest.update(chunk)
        except OSError:
            problems.append(
                _("%(object)s: the file %(file)s is missing.")
                % {"object": name, "file": row["file"]}
            )
            continue
        if digest.hexdigest() != row["sha256"]:
            problems.append(
                _(
                    "%(object)s: the file %(file)s has SHA-256 %(found)s, not the recorded "
                    "%(recorded)s: its content was replaced."
                )
                % {
                    "object": name,
                    "file": row["file"],
                    "found": digest.hexdigest(),
                    "recorded": row["sha256"],
                }
            )
    return checked, problems
