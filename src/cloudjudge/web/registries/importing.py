"""Importing a list file into the local registry, all or nothing.

``import_registry(kind, file, importer)``:

1. reads the whole file with ``cloudjudge.registries.read_registry``; any
   problem (or a value too long for its column) rejects it: nothing is
   written, the current snapshot stays current, every problem is returned
   naming sheet, row and column;
2. the same bytes as the current snapshot of the kind → nothing changes
   (「同じファイルは取り込み済みです」);
3. otherwise, in one transaction: a new snapshot becomes current, entries are
   upserted by (kind, number), entries on the list before but absent from the
   file are kept and flagged ``removed_in`` the new snapshot (so history,
   links and judgements that named them still resolve, and they never count
   as a listing), and the diff (added / removed / changed / renewed under a
   new number) against the entries on the list before is stored with the
   snapshot and in the audit trail, with the file's warnings (notes that could
   not be read, the template's example row skipped);
4. an entry renewed under a new number points to its successor
   (``renewed_as``), and every service linked to the old number gets a
   re-link proposal for the security office (``relinks``), never a silent
   change and never 「掲載なし」.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import transaction
from django.utils import timezone

from cloudjudge import registries as core
from cloudjudge.registries.sources import Source, read_bytes
from cloudjudge.web.register.models import Application
from cloudjudge.web.registries import audit, entries, relinks
from cloudjudge.web.registries.entries import snapshot_dict
from cloudjudge.web.registries.models import RegistryEntry, RegistrySnapshot

ALREADY_IMPORTED = "同じファイルは取り込み済みです"

ImportStatus = Literal["imported", "unchanged", "rejected"]

#: Field → the model field's maximum length, checked before anything is written.
_LIMITS = {
    name: RegistryEntry._meta.get_field(name).max_length
    for name in ("number", "service_name", "provider", "category", "source_url")
}


@dataclass
class ImportResult:
    status: ImportStatus
    kind: str
    snapshot: RegistrySnapshot | None = None
    diff: core.RegistryDiff | None = None
    problems: tuple[core.Problem, ...] = ()
    warnings: tuple[core.Problem, ...] = ()
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status != "rejected"

    def as_dict(self) -> dict[str, Any]:
        snap = self.snapshot
        return {
            "status": self.status,
            "kind": self.kind,
            "message": self.message,
            "snapshot": snapshot_dict(snap) if snap else None,
            "diff": self.diff.as_dict() if self.diff is not None else None,
            "problems": [p.as_dict() for p in self.problems],
            "warnings": [p.as_dict() for p in self.warnings],
        }


def _too_long(parsed: core.ParsedRegistry) -> list[core.Problem]:
    problems = []
    for entry in parsed.entries:
        for name, limit in _LIMITS.items():
            value = getattr(entry, name)
            if limit and len(value) > limit:
                problems.append(
                    core.Problem(
                        "bad_value",
                        f"長すぎます（{len(value)} 文字、{limit} 文字まで）",
                        sheet=entry.source_sheet,
                        row=entry.source_row,
                        column=parsed.columns.get(name, core.FIELD_LABELS.get(name, name)),
                    )
                )
    return problems


#: Fields an import writes on an entry it changes (besides the snapshot links).
_UPDATED_FIELDS = (
    *RegistryEntry.IMPORTED_FIELDS,
    "name_key",
    "provider_key",
    "expires_on",
    "updated_at",
)


def _new_entry(entry: core.RegistryEntry, snapshot: RegistrySnapshot, now) -> RegistryEntry:
    row = RegistryEntry(kind=entry.kind, number=entry.number, snapshot=snapshot, updated_at=now)
    row.set_from_core(entry)
    row.refresh_derived()
    return row


def import_registry(
    kind: str,
    file: Source,
    importer=None,
    *,
    filename: str | None = None,
    request=None,
) -> ImportResult:
    """Import ``file`` (a path, bytes or a binary file) as the list of ``kind``."""
    if kind not in core.KINDS:
        raise ValueError(f"未知の登録簿の種類です: {kind!r}（{', '.join(core.KINDS)}）")
    name = filename or _name_of(file) or ""
    try:
        data = read_bytes(file, name=name)
        parsed = core.read_registry(data, kind, filename=name)
    except core.RegistryImportError as exc:
        return ImportResult("rejected", kind, problems=exc.problems, message=str(exc))
    sha256 = hashlib.sha256(data).hexdigest()
    problems = _too_long(parsed)
    if problems:
        return ImportResult("rejected", kind, problems=tuple(problems), message="取り込めません")

    with transaction.atomic():
        current = (
            RegistrySnapshot.objects.select_for_update().filter(kind=kind, is_current=True).first()
        )
        if current is not None and current.sha256 == sha256:
            return ImportResult("unchanged", kind, snapshot=current, message=ALREADY_IMPORTED)
        return _apply(kind, parsed, sha256, importer, filename or _name_of(file), current, request)


def _name_of(file: Source) -> str | None:
    name = getattr(file, "name", None)
    if isinstance(name, str):
        return name.rsplit("/", 1)[-1]
    if isinstance(file, str):
        return file.rsplit("/", 1)[-1]
    if hasattr(file, "__fspath__"):
        return str(file.__fspath__()).rsplit("/", 1)[-1]
    return None


def _apply(
    kind: str,
    parsed: core.ParsedRegistry,
    sha256: str,
    importer,
    filename: str | None,
    current: RegistrySnapshot | None,
    request,
) -> ImportResult:
    now = timezone.now()
    existing = {row.number: row for row in RegistryEntry.objects.filter(kind=kind)}
    before = [row.to_core() for row in existing.values() if row.on_list]
    diff = core.diff_entries(before, parsed.entries)

    if current is not None:
        current.is_current = False
        current.save(update_fields=["is_current"])
    snapshot = RegistrySnapshot.objects.create(
        kind=kind,
        source_name=(filename or "")[:255],
        sha256=sha256,
        content_sha256=core.content_fingerprint(parsed.entries),
        file_format=parsed.file_format,
        sheet=parsed.sheet[:255],
        encoding=parsed.encoding or "",
        row_count=parsed.row_count,
        added_count=len(diff.added),
        removed_count=len(diff.removed),
        changed_count=len(diff.changed),
        renewed_count=len(diff.renewed),
        diff=diff.as_dict(),
        warnings=[w.as_dict() for w in parsed.warnings],
        importer=importer if getattr(importer, "pk", None) else None,
        imported_at=now,
        is_current=True,
    )

    changed_keys = {c.key for c in diff.changed}
    to_create: list[RegistryEntry] = []
    to_update: list[RegistryEntry] = []
    for entry in parsed.entries:
        row = existing.get(entry.number)
        if row is None:
            to_create.append(_new_entry(entry, snapshot, now))
        elif entry.key in changed_keys or not row.on_list or row.to_core() != entry:
            row.set_from_core(entry)
            row.refresh_derived()
            row.snapshot = snapshot
            row.removed_in = None
            row.updated_at = now
            to_update.append(row)
    in_file = {e.number for e in parsed.entries}
    for number, row in existing.items():
        if row.on_list and number not in in_file:
            row.removed_in = snapshot
            row.updated_at = now
            to_update.append(row)

    RegistryEntry.objects.bulk_create(to_create, batch_size=500)
    # One UPDATE per changed row: linear, where bulk_update's CASE WHEN grows
    # with the square of the batch on SQLite.
    fields = (*_UPDATED_FIELDS, "snapshot_id", "removed_in_id")
    for row in to_update:
        RegistryEntry.objects.filter(pk=row.pk).update(
            **{name: getattr(row, name) for name in fields}
        )
    # An entry back on the list is nobody's predecessor any more; then the
    # renewals of this list.
    RegistryEntry.objects.filter(kind=kind, number__in=in_file, renewed_as__isnull=False).update(
        renewed_as=None
    )
    proposed = relinks.record_renewals(kind, diff.renewed, snapshot)
    audit.record_import(snapshot, importer, request)
    # The pages show the registry's answer kept with the latest judgement:
    # judge the open applications again, so none keeps yesterday's answer.
    rejudged = entries.rejudge_open(Application.objects.all(), importer, request)
    message = f"{core.KIND_LABELS[kind]} の登録簿を取り込みました（{diff.summary()}）"
    if proposed:
        message += f"。番号が変わった更新により再リンクの確認が {proposed} 件あります"
    if rejudged:
        message += f"。{rejudged} 件の申請を再判定しました"
    if parsed.warnings:
        message += f"。確認が必要な行が {len(parsed.warnings)} 件あります"
    return ImportResult(
        "imported", kind, snapshot=snapshot, diff=diff, warnings=parsed.warnings, message=message
    )
