"""Accounts the city's directory owns: what LDAP and OpenID Connect sign-in
share once the directory has answered.

The directory says which mapped groups a person is in and which department
they belong to; :func:`apply` turns that into the account's role, admin-site
access and department, saves it and records every change in the audit trail,
as the admin site does for a local change (``Action.UPDATE`` with before and
after values). A person in no mapped group gets no role: :func:`apply`
refuses them and closes an account they already had (:func:`retire`), so
their open work shows on the dashboard as unowned. A closed account stays
closed until an administrator reopens it in the admin site. Directory
accounts have no local password: ``backends.LocalBackend`` never signs them in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cloudjudge.web.accounts import roles
from cloudjudge.web.accounts.directory_settings import ROLES
from cloudjudge.web.accounts.models import Department, User
from cloudjudge.web.audit import reconcile, trail
from cloudjudge.web.audit.models import Action

#: What the audit trail shows of a change the directory made.
#: What the audit trail keeps of a directory account: everything ``audit
#: verify`` reconciles for a user, and where the account comes from, its names.
AUDITED_FIELDS = [*reconcile.USERS.fields, "source", "first_name", "last_name", "email"]

#: Copied from the directory (LDAP: by django-auth-ldap's AUTH_LDAP_USER_ATTR_MAP).
NAME_FIELDS = ("first_name", "last_name", "email")


class Refused(Exception):
    """The directory knows the person but gives them no role here (or the
    account belongs to another source). The message is for the login page."""


@dataclass
class Profile:
    """What the directory said about one person at sign-in."""

    source: str
    #: The memberships (group DNs, or the OpenID Connect groups claim) as compared.
    memberships: Iterable[str]
    #: The department attribute or claim as the directory spells it.
    department: str = ""
    #: first_name, last_name, email as the directory gives them (LDAP: already on the user).
    names: dict[str, object] = field(default_factory=dict)


def role_for(
    memberships: Iterable[str], role_groups: Mapping[str, Sequence[str]]
) -> tuple[str | None, list[str]]:
    """The role of someone in ``memberships`` and the mapped groups that gave
    it; (None, []) if no mapped group. In several: the first role of
    ``ROLES`` (admin, ciso, security, auditor, applicant)."""
    member = set(memberships)
    for role in ROLES:
        matched = [group for group in role_groups.get(role, ()) if group in member]
        if matched:
            return role, matched
    return None, []


def department_for(value: str) -> Department | None:
    """The department whose code, else whose name, is ``value``."""
    value = (value or "").strip()
    if not value:
        return None
    return (
        Department.objects.filter(code=value).first()
        or Department.objects.filter(name=value).first()
    )


def may_own(user: User, source: str) -> bool:
    """Whether the directory ``source`` may sign ``user`` in and update it: a
    new account, or one already of that source. A local account of the same
    name (the break-glass administrator, say) is never taken over unless an
    administrator set its source."""
    return user.pk is None or user.source == source


def apply(
    user: User, profile: Profile, role_groups: Mapping[str, Sequence[str]], *, request=None
) -> User:
    """Save ``user`` (new or stored) with the role, department and names the
    directory gives; record what changed. Raises :class:`Refused` when the
    person is in no mapped group (and closes the account they had)."""
    if not may_own(user, profile.source):
        raise Refused(_("This user name belongs to a local account. Ask the system administrator."))
    if user.pk is not None and not user.is_active:
        # Closed by the directory sync, a refusal or an administrator: only an
        # administrator reopens it (admin site), never the directory alone.
        raise Refused(_("Your cloudjudge account is closed. Ask the system administrator."))
    role, groups = role_for(profile.memberships, role_groups)
    if role is None:
        if user.pk is not None:
            retire(user, reason="no_mapped_group", request=request)
        raise Refused(
            _(
                "Your directory account is not in any group that may use cloudjudge. "
                "Ask the system administrator."
            )
        )
    department = department_for(profile.department)
    with transaction.atomic():
        stored = User.objects.filter(pk=user.pk).first() if user.pk else None
        before = trail.snapshot(stored, AUDITED_FIELDS) if stored else None
        for name in NAME_FIELDS:  # as long as the column allows, whatever the directory holds
            value = str(profile.names.get(name, getattr(user, name)) or "")
            column = User._meta.get_field(name)
            assert isinstance(column, models.CharField)
            setattr(user, name, value[: column.max_length])
        user.source = profile.source
        roles.set_role(user, role)
        user.department = department
        user.must_change_password = False
        user.set_unusable_password()
        user.directory_checked_at = timezone.now()
        user.save()
        roles.grant_permissions(user)
        extra: dict[str, object] = {"source": profile.source, "groups": groups}
        missing = profile.department if profile.department and department is None else ""
        if missing:
            extra["department_not_found"] = missing
        _record(user, before, extra, request)
    user.department_not_found = missing
    return user


def retire(user: User, *, reason: str, request=None) -> bool:
    """Close the directory account ``user``: it can no longer sign in (nor go
    on with a session: the backends' ``get_user`` refuses inactive users), and
    its open work shows as unowned. ``reason``: ``not_in_directory`` or
    ``no_mapped_group``. False if it was closed already."""
    with transaction.atomic():
        stored = User.objects.select_for_update().filter(pk=user.pk).first()
        if stored is None or not stored.is_active:
            return False
        before = trail.snapshot(stored, AUDITED_FIELDS)
        stored.is_active = False
        stored.is_staff = False
        stored.directory_checked_at = timezone.now()
        stored.save(update_fields=["is_active", "is_staff", "directory_checked_at"])
        _record(stored, before, {"source": stored.source, "reason": reason}, request)
    user.is_active = False
    return True


def _record(user: User, before: dict | None, extra: dict, request) -> None:
    """The directory's change to ``user`` in the audit trail, by nobody (the
    system): the new account, or the fields that changed (nothing if none)."""
    after = trail.snapshot(user, AUDITED_FIELDS)
    if before is None:
        trail.record(Action.CREATE, actor=None, request=request, obj=user, after=after, extra=extra)
        return
    diff = trail.changes(before, after)
    if diff:
        trail.record(
            Action.UPDATE,
            actor=None,
            request=request,
            obj=user,
            before=diff.before,
            after=diff.after,
            extra=extra,
        )


def directory_users(source: str):
    """The active accounts of ``source``."""
    return User.objects.filter(source=source, is_active=True).order_by("username")


def department_missing_message(department: str) -> str:
    """The notice after a sign-in whose department the register does not know."""
    return _(
        "The directory names your department %(department)s, which is not registered in "
        "cloudjudge. Ask the system administrator to add it."
    ) % {"department": department}
