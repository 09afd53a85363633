"""Every 403 of the site goes into the audit trail as アクセス拒否.

``RefusalAuditMiddleware`` (in ``MIDDLEWARE`` after the audit request
middleware) catches a ``PermissionDenied`` raised by any view, records who
was refused what (``trail.record_refusal``) and answers with the site's 403
page, which names the reason. Django would otherwise log the exception with
its traceback; this writes one line instead (``cloudjudge.refusals``).

Workflow guards that fail in a view, and the API's 401/403/409, are recorded
where they are answered (``register.views``, ``api.api._refusal``), with the
same function.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.urls import get_resolver, get_urlconf

from cloudjudge.web.audit.trail import record_refusal

logger = logging.getLogger("cloudjudge.refusals")

#: The reason kept when a view refuses without saying why (as the API words it).
NO_REASON = "この操作は許可されていません。"


def log_refusal(request, status: int, reason: str) -> None:
    user = getattr(request, "user", None)
    name = user.get_username() if user is not None and user.is_authenticated else "-"
    logger.warning(
        "refused %s %s %s user=%s: %s", status, request.method, request.path, name, reason
    )


class RefusalAuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, PermissionDenied):
            return None
        reason = str(exception) or NO_REASON
        record_refusal(request, reason, status=403)
        log_refusal(request, 403, reason)
        handler = get_resolver(get_urlconf()).resolve_error_handler(403)
        response = handler(request, exception=exception)
        # Django's own "Forbidden: /path" line would repeat ours.
        response._has_been_logged = True
        return response


def csrf_failure(request, reason: str = ""):
    """``CSRF_FAILURE_VIEW``: a form sent without its token (or from another
    site) is refused like any 403, and recorded."""
    from django.views.csrf import csrf_failure as django_csrf_failure

    record_refusal(request, f"CSRF: {reason}", status=403, code="csrf")
    log_refusal(request, 403, f"CSRF: {reason}")
    response = django_csrf_failure(request, reason=reason)
    setattr(response, "_has_been_logged", True)  # noqa: B010 (Django's own flag)
    return response
