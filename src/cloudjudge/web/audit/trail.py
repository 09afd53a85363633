"""Writing to the audit trail: the API for the rest of the application.

::

    from cloudjudge.web.audit import trail
    from cloudjudge.web.audit.models import Action

    before = trail.snapshot(application, FIELDS)
    ...change and save...
    diff = trail.changes(before, trail.snapshot(application, FIELDS))
    if diff:
        trail.record(Action.UPDATE, request=request, obj=application,
                     before=diff.before, after=diff.after)

``record`` appends inside the caller's transaction if there is one, so an
entry exists exactly when the change it describes was committed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from django.core.exceptions import FieldDoesNotExist
from django.db import models

from cloudjudge.web.audit import chain, conf
from cloudjudge.web.audit.chain import VerificationResult, verify_chain
from cloudjudge.web.audit.middleware import current_request
from cloudjudge.web.audit.models import Action, AuditEntry

__all__ = [
    "REDACTED",
    "Action",
    "Changes",
    "VerificationResult",
    "changes",
    "client_ip",
    "entry",
    "is_secret",
    "record",
    "record_many",
    "snapshot",
    "verify_chain",
]

_MISSING = object()
#: What a secret field's value is replaced with in a snapshot.
REDACTED = "[redacted]"
_SECRET_PARTS = ("password", "secret", "token", "otp", "recovery")


def is_secret(name: str) -> bool:
    """Fields never copied into the log (password hashes, TOTP keys, API tokens)."""
    name = name.lower()
    return name == "key" or name.endswith("_key") or any(part in name for part in _SECRET_PARTS)


def _valid_ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return ""


def client_ip(request) -> str:
    """The client's address: ``REMOTE_ADDR``, or, only when
    ``CLOUDJUDGE_AUDIT_PROXY_HEADER`` names a header set by a trusted reverse
    proxy, the address that proxy saw (``CLOUDJUDGE_AUDIT_PROXY_COUNT`` places
    from the right of a comma-separated list). Not an address: ``""``."""
    if request is None:
        return ""
    meta = getattr(request, "META", {})
    header = conf.proxy_header()
    if header:
        hops = [hop.strip() for hop in str(meta.get(header, "")).split(",") if hop.strip()]
        count = conf.proxy_count()
        if len(hops) >= count:
            address = _valid_ip(hops[-count])
            if address:
                return address
    return _valid_ip(str(meta.get("REMOTE_ADDR", "")))


def _actor(actor, request):
    if actor is None and request is not None:
        actor = getattr(request, "user", None)
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.pk is None:
        return None
    return actor


def entry(
    action: str,
    *,
    actor=None,
    request=None,
    obj: models.Model | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    object_repr: str | None = None,
) -> dict[str, Any]:
    """An entry to append with :func:`record_many` (``record`` takes the same arguments).

    ``action``: an :class:`Action` (its code). ``actor``: the user who acted;
    default ``request.user`` when authenticated; None for the system or an
    anonymous client. ``request``: gives the source IP (see :func:`client_ip`);
    without it, the request ``AuditRequestMiddleware`` saw, if installed.
    ``obj``: the model instance acted on; its ``app_label.model``, pk and
    ``str()`` are kept (``object_type``/``object_id``/``object_repr`` set or
    override them, e.g. for settings that are not rows). ``before``/``after``:
    field values (see :func:`snapshot` and :func:`changes`). ``extra``: any
    other JSON, e.g. ``{"sha256": ...}`` of an uploaded file.
    """
    user = _actor(actor, request)
    source = request if request is not None else current_request()
    if obj is not None:
        object_type = object_type if object_type is not None else obj._meta.label_lower
        object_id = object_id if object_id is not None else obj.pk
        object_repr = object_repr if object_repr is not None else str(obj)
    return chain.entry_content(
        action,
        actor=user,
        actor_username=user.get_username() if user is not None else "",
        source_ip=client_ip(source),
        object_type=object_type or "",
        object_id="" if object_id is None else object_id,
        object_repr=object_repr or "",
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
        extra=dict(extra) if extra is not None else None,
    )


def record(action: str, **fields: Any) -> AuditEntry:
    """Append an entry and return it; ``fields`` as for :func:`entry`."""
    return chain.append_many([entry(action, **fields)])[0]


def record_many(entries: Iterable[Mapping[str, Any]]) -> list[AuditEntry]:
    """Append several entries (each made by :func:`entry`), in order, with one
    lock of the chain's head and one INSERT: a batch of changes audited in one go."""
    return chain.append_many(entries)


def _field_value(instance: models.Model, name: str) -> Any:
    try:
        field = instance._meta.get_field(name)
    except FieldDoesNotExist:  # a property or plain attribute (e.g. Service.listings)
        return getattr(instance, name)
    if field.many_to_many:
        if instance.pk is None:
            return []
        return sorted(getattr(instance, name).values_list("pk", flat=True))
    if field.is_relation and not field.concrete:
        raise ValueError(f"{name!r} is a reverse relation: snapshot its own rows instead")
    # A foreign key by its ID, without loading the related row.
    return getattr(instance, field.attname)


def snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The values of ``fields`` (default: every concrete field) of ``instance``
    as a JSON-safe dict: foreign keys as their IDs, dates and times in ISO
    form (UTC for aware times), decimals and UUIDs as strings, files by name.
    Secrets (``is_secret``: ``password``, ``*_token``, ``key``, ...) are left
    out of the default set and shown as ``REDACTED`` when asked for: record a
    password change as ``Action.PASSWORD_CHANGE`` instead."""
    if fields is None:
        fields = [f.name for f in instance._meta.concrete_fields if not is_secret(f.name)]
    return {
        name: REDACTED if is_secret(name) else chain.json_safe(_field_value(instance, name))
        for name in fields
    }


class Changes(NamedTuple):
    """The fields that differ: their old values and their new ones. False when
    nothing changed; unpacks as ``before, after``."""

    before: dict[str, Any]
    after: dict[str, Any]

    def __bool__(self) -> bool:
        return bool(self.before or self.after)

    @property
    def fields(self) -> list[str]:
        return sorted(set(self.before) | set(self.after))


def _same(a: Any, b: Any) -> bool:
    # Compared as stored (canonical JSON): True and 1 differ, 1 and 1.0 do not.
    return chain.canonical_json(chain.json_safe(a)) == chain.canonical_json(chain.json_safe(b))


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> Changes:
    """Only the fields whose values differ between two snapshots. A field
    present on one side only appears on that side."""
    before, after = before or {}, after or {}
    old, new = {}, {}
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name, _MISSING), after.get(name, _MISSING)
        if a is not _MISSING and b is not _MISSING and _same(a, b):
            continue
        if a is not _MISSING:
            old[name] = a
        if b is not _MISSING:
            new[name] = b
    return Changes(old, new)


def record_refusal(
    request,
    reason: Any,
    *,
    status: int = 403,
    code: str = "",
    obj: models.Model | None = None,
) -> AuditEntry:
    """An アクセス拒否 entry for a refused request: who (None when not signed
    in), from where, which URL and method, the status returned and why.

    Called for every 403 (``RefusalAuditMiddleware``), every failed workflow
    guard (the views) and every API 401/403/409 (``api.api._refusal``)."""
    details: dict[str, Any] = {
        "url": request.get_full_path()[:500],
        "method": request.method,
        "status": status,
        "reason": str(reason or "")[:500],
    }
    if code:
        details["code"] = code
    return record(Action.ACCESS_DENIED, request=request, obj=obj, extra=details)
