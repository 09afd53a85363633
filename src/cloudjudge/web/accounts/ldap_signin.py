"""Sign-in with LDAP / Active Directory (django-auth-ldap).

The login form's user name and password are checked by a bind as the user,
found by a search with the service account (``CLOUDJUDGE_LDAP_*``, see
``directory_settings``). Their groups give the role and an attribute gives
the department (``directory.apply``) at every sign-in; someone in no mapped
group is refused and their account closed. :func:`check` asks the directory
about one account without a password: ``manage directory_sync`` runs it for
every LDAP account, to close those deleted from the directory or taken out of
every mapped group even if they never try to sign in again.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django_auth_ldap.backend import LDAPBackend, ldap_error, populate_user

from cloudjudge.web.accounts import directory
from cloudjudge.web.accounts.directory_settings import normalise_dn
from cloudjudge.web.accounts.models import Source, User

logger = logging.getLogger(__name__)


class DirectoryUnavailable(Exception):
    """The directory could not be asked (unreachable, TLS refused, the service
    account's bind failed): nothing is concluded about anyone."""


class DirectoryLDAPBackend(LDAPBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        self.request = request
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_or_build_user(self, username, ldap_user):
        user, built = super().get_or_build_user(username, ldap_user)
        if not directory.may_own(user, Source.LDAP):
            # Caught by django-auth-ldap as a failed sign-in; the local
            # password is then checked by LocalBackend as usual.
            raise ldap_user.AuthenticationFailed("a local account has this user name")
        return user, built

    def get_user(self, user_id):
        """A session of an LDAP account lasts only while the account is open."""
        user = User.objects.filter(pk=user_id, is_active=True, source=Source.LDAP).first()
        return user


def on_populate_user(sender, user, ldap_user, **kwargs) -> None:
    """django-auth-ldap's hook before it saves the user: role and department
    from the directory (names and e-mail are already copied)."""
    backend = ldap_user.backend
    request = getattr(backend, "request", None)
    attribute = settings.CLOUDJUDGE_LDAP_DEPARTMENT_ATTR
    values = (ldap_user.attrs or {}).get(attribute) or [""]
    profile = directory.Profile(
        source=Source.LDAP,
        memberships=[normalise_dn(dn) for dn in ldap_user.group_dns],
        department=values[0],
    )
    try:
        directory.apply(user, profile, settings.CLOUDJUDGE_LDAP_ROLE_GROUPS, request=request)
    except directory.Refused as refusal:
        if request is not None:
            request.directory_refusal = str(refusal)
        raise ldap_user.AuthenticationFailed(str(refusal)) from None


def connect() -> None:
    populate_user.connect(
        on_populate_user, sender=DirectoryLDAPBackend, dispatch_uid="cloudjudge.accounts.ldap"
    )


def check(user: User) -> str:
    """Ask the directory about ``user`` (an LDAP account) and bring the account
    up to date: ``"ok"`` (role and department refreshed), ``"no_mapped_group"``
    or ``"not_in_directory"`` (the account is closed). Raises
    :class:`DirectoryUnavailable` if the directory could not be asked."""
    errors = []

    def on_error(sender, context, exception, **kwargs):
        errors.append(exception)

    ldap_error.connect(on_error, sender=DirectoryLDAPBackend, weak=False)
    try:
        found = DirectoryLDAPBackend().populate_user(user.get_username())
    finally:
        ldap_error.disconnect(on_error, sender=DirectoryLDAPBackend)
    if errors:
        raise DirectoryUnavailable(str(errors[0]))
    if found is not None:
        return "ok"
    user.refresh_from_db()
    if not user.is_active:  # refused by on_populate_user: in no mapped group
        return "no_mapped_group"
    directory.retire(user, reason="not_in_directory")
    return "not_in_directory"
