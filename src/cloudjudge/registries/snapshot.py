"""Comparing two snapshots of a registry, and fingerprints of what was imported.

Entries are keyed by (kind, number). ``diff_entries(before, after)`` lists the
entries added, removed and changed, the last with every field's before/after,
and the renewals under a new number (``renewals``), which are neither added
nor removed.
``file_sha256`` fingerprints the file as uploaded (the same bytes twice is the
same import); ``content_fingerprint`` fingerprints the entries themselves, so a
file re-saved with identical content can be recognised as well.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cloudjudge.registries.entries import CONTENT_FIELDS, FIELD_LABELS, RegistryEntry
from cloudjudge.registries.renewals import Renewal, find_renewals
from cloudjudge.registries.sources import Source, read_bytes

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    before: Any
    after: Any

    @property
    def label(self) -> str:
        return FIELD_LABELS.get(self.field, self.field)


@dataclass(frozen=True, slots=True)
class EntryChange:
    before: RegistryEntry
    after: RegistryEntry
    fields: tuple[FieldChange, ...]

    @property
    def key(self) -> Key:
        return self.after.key


@dataclass(frozen=True)
class RegistryDiff:
    """What changed between two snapshots; each part sorted by (kind, number)."""

    added: tuple[RegistryEntry, ...] = ()
    removed: tuple[RegistryEntry, ...] = ()
    changed: tuple[EntryChange, ...] = ()
    #: Renewed under a new number: the new entry is not in ``added``, nor the
    #: old one, if it left the list, in ``removed``.
    renewed: tuple[Renewal, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.renewed)

    def summary(self) -> str:
        added, removed, changed = len(self.added), len(self.removed), len(self.changed)
        text = f"追加 {added} 件、削除 {removed} 件、変更 {changed} 件"
        return text + (f"、番号が変わった更新 {len(self.renewed)} 件" if self.renewed else "")

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form for the API and the audit log."""

        def value(v: Any) -> Any:
            if isinstance(v, tuple):
                return list(v)
            return v.isoformat() if hasattr(v, "isoformat") else v

        return {
            "added": [e.as_dict() for e in self.added],
            "removed": [e.as_dict() for e in self.removed],
            "changed": [
                {
                    "kind": c.key[0],
                    "number": c.key[1],
                    "fields": [
                        {"field": f.field, "before": value(f.before), "after": value(f.after)}
                        for f in c.fields
                    ],
                }
                for c in self.changed
            ],
            "renewed": [
                {
                    "kind": r.after.kind,
                    "before": r.before.number,
                    "after": r.after.number,
                    "how": r.how,
                    "service_name": r.after.service_name,
                    "provider": r.after.provider,
                    "before_service_name": r.before.service_name,
                }
                for r in self.renewed
            ],
        }


def _keyed(entries: Iterable[RegistryEntry], which: str) -> dict[Key, RegistryEntry]:
    out: dict[Key, RegistryEntry] = {}
    for entry in entries:
        if entry.key in out:
            raise ValueError(f"{which} に同じ登録が2件あります: {entry.kind} {entry.number}")
        out[entry.key] = entry
    return out


def field_changes(before: RegistryEntry, after: RegistryEntry) -> tuple[FieldChange, ...]:
    """Every content field whose value differs, in ``CONTENT_FIELDS`` order."""
    return tuple(
        FieldChange(name, getattr(before, name), getattr(after, name))
        for name in CONTENT_FIELDS
        if getattr(before, name) != getattr(after, name)
    )


def diff_entries(before: Iterable[RegistryEntry], after: Iterable[RegistryEntry]) -> RegistryDiff:
    """Entries added, removed, changed and renewed from ``before`` to ``after``.

    Raises ``ValueError`` if either side holds the same (kind, number) twice.
    """
    old = _keyed(before, "前回")
    new = _keyed(after, "今回")
    changed = []
    for key in sorted(old.keys() & new.keys()):
        fields = field_changes(old[key], new[key])
        if fields:
            changed.append(EntryChange(old[key], new[key], fields))
    renewed = find_renewals(old, new)
    renewed_old = {r.before.key for r in renewed}
    renewed_new = {r.after.key for r in renewed}
    return RegistryDiff(
        added=tuple(new[k] for k in sorted(new.keys() - old.keys() - renewed_new)),
        removed=tuple(old[k] for k in sorted(old.keys() - new.keys() - renewed_old)),
        changed=tuple(changed),
        renewed=renewed,
    )


def file_sha256(source: Source) -> str:
    """SHA-256 (hex) of a file's bytes; ``source`` is a path, bytes or a binary file."""
    return hashlib.sha256(read_bytes(source)).hexdigest()


def content_fingerprint(entries: Iterable[RegistryEntry]) -> str:
    """SHA-256 (hex) of the entries' content, independent of their order and of
    the rows they were read from."""
    rows = sorted((e.as_dict() for e in entries), key=lambda d: (d["kind"], d["number"]))
    canonical = json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
