"""Optional: make the current request known to ``trail.record`` so that code
without a ``request`` at hand (``applications``, ``workflow``, ``evidence``,
``checklist``) still records the client's address.

Add ``"cloudjudge.web.audit.middleware.AuditRequestMiddleware"`` to
``MIDDLEWARE`` after ``AuthenticationMiddleware``. The request is kept in a
context variable (per thread and per asyncio task) for the duration of the
request only. It supplies the source IP alone: the actor is always the one
passed to ``record`` (or the ``request=`` given explicitly)."""

from __future__ import annotations

from contextvars import ContextVar

_current_request: ContextVar = ContextVar("cloudjudge_audit_request", default=None)


def current_request():
    """The request being handled in this thread or task, or None."""
    return _current_request.get()


class AuditRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)
