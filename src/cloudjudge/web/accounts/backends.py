"""Authentication backends (``AUTHENTICATION_BACKENDS``, built by
``directory_settings.from_environ``): django-axes' lockout check first, then
the directory (LDAP, OpenID Connect) when configured, then local accounts."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import ModelBackend

from cloudjudge.web.accounts.models import Source


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check, which refuses a login while its username and
    address are locked out after repeated failures.

    Logins through a web request are always checked. ``authenticate()``
    without a request (code run by an operator on the server, e.g. in
    ``manage shell`` or a management command) has no address to lock: Axes'
    own backend refuses such calls outright; here they are passed on to the
    next backend, which checks the password as usual. Neither has the
    OpenID Connect callback a user name: the provider locks its own logins."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or username is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class LocalBackend(ModelBackend):
    """Django's password check, for local accounts only: a directory account
    has no local password, and keeps none it had before the directory took it
    over (nor a session after it was changed to a directory account)."""

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and user.source == Source.LOCAL
