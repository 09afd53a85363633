"""Who may do what with the registries.

The security office keeps the lists: it imports them, corrects entries and
records registration numbers of services, and may re-judge an application
from the registry's alerts. The CISO, auditors and the system administrator
read the registry pages. Applicants do not see them (the entry pages name the
services in use), but they see the registry's findings on their own
applications and the alerts for them on their dashboard.
"""

from __future__ import annotations

from cloudjudge.web.accounts.models import Role

VIEWER_ROLES = frozenset({Role.SECURITY, Role.CISO, Role.AUDITOR, Role.ADMIN})
EDITOR_ROLES = frozenset({Role.SECURITY})


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def can_view(user) -> bool:
    return _active(user) and user.role in VIEWER_ROLES


def can_edit(user) -> bool:
    """Import lists, edit entries, record numbers, re-judge from an alert."""
    return _active(user) and user.role in EDITOR_ROLES
