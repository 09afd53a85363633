"""The audit trail's settings, with their defaults.

``CLOUDJUDGE_AUDIT_RETENTION_DAYS``  entries younger than this are never pruned (default 400;
                                     set from the environment in ``settings.py``)
``CLOUDJUDGE_AUDIT_PROXY_HEADER``    e.g. ``"X-Forwarded-For"``: take the client address from
                                     this header, set by a trusted reverse proxy. Unset (the
                                     default): only ``REMOTE_ADDR`` is used, because clients
                                     can send any header they like.
``CLOUDJUDGE_AUDIT_PROXY_COUNT``     how many trusted proxies append to that header (default 1):
                                     the address is the one that many places from the right.
``CLOUDJUDGE_AUDIT_PAGE_SIZE``       entries per page of ``/audit/`` (default 50)
"""

from __future__ import annotations

from django.conf import settings

from cloudjudge.web.accounts.models import Role

DEFAULT_RETENTION_DAYS = 400
#: Roles that may read (and export) the audit log.
READER_ROLES = frozenset({Role.AUDITOR, Role.SECURITY, Role.CISO, Role.ADMIN})


def retention_days() -> int:
    return int(getattr(settings, "CLOUDJUDGE_AUDIT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def proxy_header() -> str:
    """The ``request.META`` key of the trusted proxy header, or ``""``."""
    name = (getattr(settings, "CLOUDJUDGE_AUDIT_PROXY_HEADER", "") or "").strip()
    if not name:
        return ""
    key = name.upper().replace("-", "_")
    return key if key.startswith("HTTP_") else f"HTTP_{key}"


def proxy_count() -> int:
    return max(1, int(getattr(settings, "CLOUDJUDGE_AUDIT_PROXY_COUNT", 1)))


def page_size() -> int:
    return int(getattr(settings, "CLOUDJUDGE_AUDIT_PAGE_SIZE", 50))


def can_read(user) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and getattr(user, "role", None) in READER_ROLES
    )
