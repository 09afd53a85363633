"""Authentication backends: django-axes' lockout check in front of Django's
``ModelBackend`` (``AUTHENTICATION_BACKENDS``)."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check, which refuses a login while its username and
    address are locked out after repeated failures.

    Logins through a web request are always checked. ``authenticate()``
    without a request (code run by an operator on the server, e.g. in
    ``manage shell`` or a management command) has no address to lock: Axes'
    own backend refuses such calls outright; here they are passed on to the
    next backend, which checks the password as usual."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
