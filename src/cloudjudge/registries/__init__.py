"""Public registries (ISMAP, ISMAP-LIU, LGWAN-ASP) kept locally: the pure core.

Nothing here knows Django or a database. The web application and the CLI read
files with ``read_registry``, compare snapshots with ``diff_entries``, link
service records with ``RegistryIndex`` and ask ``status_on`` / ``is_listed_on``
what an entry means on a day, and ``find_renewals`` recognises a renewal under
a new number. See ``docs/registries.md``.
"""

from cloudjudge.registries.entries import (
    CONTENT_FIELDS,
    FIELD_LABELS,
    KIND_LABELS,
    KINDS,
    RegistryEntry,
    RegistryKind,
    normalise_number,
)
from cloudjudge.registries.expiry import (
    ALERT_STATUSES,
    DEFAULT_DAYS_AHEAD,
    LISTED_STATUSES,
    STATUS_LABELS,
    ListingStatus,
    days_left,
    ended_status,
    expiry_date,
    expiry_from_audit_end,
    is_listed_on,
    pending_days,
    status_on,
)
from cloudjudge.registries.matching import (
    Match,
    RegistryIndex,
    match,
    normalise_name,
    normalise_provider,
)
from cloudjudge.registries.problems import Problem, RegistryImportError
from cloudjudge.registries.renewals import HOW_LABELS, Renewal, find_renewals
from cloudjudge.registries.snapshot import (
    EntryChange,
    FieldChange,
    RegistryDiff,
    content_fingerprint,
    diff_entries,
    file_sha256,
)
from cloudjudge.registries.spreadsheet import ParsedRegistry, read_registry
from cloudjudge.registries.template import template_bytes, write_template

__all__ = [
    "ALERT_STATUSES",
    "CONTENT_FIELDS",
    "DEFAULT_DAYS_AHEAD",
    "FIELD_LABELS",
    "HOW_LABELS",
    "KINDS",
    "KIND_LABELS",
    "LISTED_STATUSES",
    "STATUS_LABELS",
    "EntryChange",
    "FieldChange",
    "ListingStatus",
    "Match",
    "ParsedRegistry",
    "Problem",
    "RegistryDiff",
    "RegistryEntry",
    "RegistryImportError",
    "RegistryIndex",
    "RegistryKind",
    "Renewal",
    "content_fingerprint",
    "days_left",
    "diff_entries",
    "ended_status",
    "expiry_date",
    "expiry_from_audit_end",
    "file_sha256",
    "find_renewals",
    "is_listed_on",
    "match",
    "normalise_name",
    "normalise_number",
    "normalise_provider",
    "pending_days",
    "read_registry",
    "status_on",
    "template_bytes",
    "write_template",
]
