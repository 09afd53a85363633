"""When the database cannot be reached: 503, said plainly, and recovery by itself.

A stopped or unreachable database makes every query raise ``OperationalError``
(or ``InterfaceError``), wherever it happens — a view, the session or the
login in a middleware, the API's token check. Django would answer a 500 (a
traceback page in development); :class:`DatabaseOutageMiddleware` answers
503 instead: a Japanese page for people, ``{"detail": ..., "code":
"database_unavailable"}`` for the API, both with ``Retry-After``. Nothing is
retried or cached: each request opens its connection, or checks the one it
keeps (:func:`drop_dead_connections`), so the first request after the
database is back is served normally, without restarting the application.
``connect_timeout``
(``CLOUDJUDGE_DB_CONNECT_TIMEOUT``, settings) keeps an unreachable server
from holding a request for minutes.
"""

from __future__ import annotations

import select
import sys

from django.core.signals import got_request_exception, request_started
from django.db import InterfaceError, OperationalError, connections
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


def _dead(raw) -> bool:
    """A kept PostgreSQL connection the server has given up: closed, or with
    something to read while no query is running (the notice of a server
    shutting down, or the end of the stream). Looking costs no round trip."""
    try:
        return bool(raw.closed or select.select([raw.pgconn.socket], [], [], 0)[0])
    except Exception:  # a connection that cannot even say so is dead
        return True


def drop_dead_connections(sender=None, **kwargs) -> None:
    """At the start of each request, close the kept PostgreSQL connections the
    server has dropped (a restart, an administrator's termination), so that
    the request opens a new one instead of failing on the old one.

    Django's ``CONN_HEALTH_CHECKS`` would ask the server (``SELECT 1``) before
    each request: a round trip and a query that doubled the database work of
    an API call. A connection lost without a word from the server (a cable,
    not a restart) fails its request with a 503 and is closed after it
    (Django closes a connection that had an error and no longer answers)."""
    for conn in connections.all(initialized_only=True):
        raw = conn.connection
        if (
            raw is not None
            and conn.vendor == "postgresql"
            and not conn.in_atomic_block
            and _dead(raw)
        ):
            conn.close()


class DatabaseOutageMiddleware:
    """Put it near the top of ``MIDDLEWARE`` (after the security headers), so
    that it sees every request whose handling failed for want of the database."""

    def __init__(self, get_response):
        self.get_response = get_response
        got_request_exception.connect(_mark, dispatch_uid="cloudjudge.outage")
        request_started.connect(drop_dead_connections, dispatch_uid="cloudjudge.outage.dead")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, _MARK, False):
            return unavailable(request)
        return response
