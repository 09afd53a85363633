"""When the database cannot be reached: 503, said plainly, and recovery by itself.

A stopped or unreachable database makes every query raise ``OperationalError``
(or ``InterfaceError``), wherever it happens — a view, the session or the
login in a middleware, the API's token check. Django would answer a 500 (a
traceback page in development); :class:`DatabaseOutageMiddleware` answers
503 instead: a Japanese page for people, ``{"detail": ..., "code":
"database_unavailable"}`` for the API, both with ``Retry-After``. Nothing is
retried or cached: each request opens (or health-checks) its connection
(``CONN_HEALTH_CHECKS``), so the first request after the database is back
is served normally, without restarting the application. ``connect_timeout``
(``CLOUDJUDGE_DB_CONNECT_TIMEOUT``, settings) keeps an unreachable server
from holding a request for minutes.
"""

from __future__ import annotations

import sys

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

#: The API answers JSON (``urls.py`` mounts it here).
API_PREFIX = "/api/"
RETRY_AFTER_SECONDS = 30
_MARK = "_cloudjudge_database_unavailable"


#: PostgreSQL error classes that mean "the server is not there for you now":
#: connection exception, insufficient resources, operator intervention (shutdown).
_OUTAGE_SQLSTATES = ("08", "53", "57P")
#: SQLite's operational errors that are the program's fault, not an outage.
_PROGRAM_ERRORS = ("no such table", "no such column", "syntax error", "has no column")


def is_outage(exc: BaseException | None) -> bool:
    """A database that is stopped, unreachable, restarting, full or locked —
    not a missing table or a bad query, which stay the errors they are."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    sqlstate = getattr(exc.__cause__, "sqlstate", None)  # psycopg: None without a server
    if sqlstate:
        return sqlstate.startswith(_OUTAGE_SQLSTATES)
    text = str(exc).lower()
    return not any(part in text for part in _PROGRAM_ERRORS)


def unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 answer: JSON under ``/api/``, the page elsewhere. Rendered
    without the request, so that nothing in it can touch the database."""
    message = _("The database cannot be reached. Please try again in a little while.")
    if request.path_info.startswith(API_PREFIX):
        response: HttpResponse = JsonResponse(
            {"detail": message, "code": "database_unavailable"}, status=503
        )
    else:
        response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _mark(sender, request: HttpRequest | None = None, **kwargs) -> None:
    """Django is handling an uncaught exception (signal sent before its 500):
    note whether it was the database, for the middleware around everything."""
    if request is not None and is_outage(sys.exc_info()[1]):
        setattr(request, _MARK, True)


class DatabaseOutageMiddleware:
    """Put it near the top of ``MIDDLEWARE`` (after the security headers), so
    that it sees every request whose handling failed for want of the database."""

    def __init__(self, get_response):
        self.get_response = get_response
        got_request_exception.connect(_mark, dispatch_uid="cloudjudge.outage")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, _MARK, False):
            return unavailable(request)
        return response
