"""``/api/v1/`` (included from ``cloudjudge.web.urls``).

The operations authenticate themselves (token or session, see ``auth``), so
they are exempt from ``LoginRequiredMiddleware``, which would redirect a
program to the login page; an unauthenticated call gets a 401 instead. The
OpenAPI document needs a token or a session too. The interactive docs page
is for people: it stays behind the login page like every other page.

Every answer here is JSON (``errors``): a path no operation has, a
non-integer ID included, is a 404 from the last pattern; a method the path
does not have is a 405 with ``Allow``; a URL over ``errors.MAX_URL_LENGTH``
characters is a 414, before anything else is done.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, re_path
from django.views.decorators.csrf import csrf_exempt

from cloudjudge.web.api import auth, errors
from cloudjudge.web.api.api import api

app_name = "api"

#: Pages for people (login required), by URL name.
LOGIN_PAGES = frozenset({"openapi-view"})


def _authenticated(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            auth.authenticate(request)
        except auth.Unauthenticated as exc:
            return api.on_exception(request, exc)
        return view(request, *args, **kwargs)

    return wrapper


def _json_errors(view):
    """The API's answers in JSON where ninja or Django would answer text: a
    URL too long (414, checked first) and a method not allowed (405)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if len(request.get_full_path()) > errors.MAX_URL_LENGTH:
            return _refusal(
                request,
                414,
                f"URL が長すぎます（{errors.MAX_URL_LENGTH:,} 文字まで）。",
                "uri_too_long",
            )
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            allowed = response.get("Allow", "")
            response = _refusal(
                request,
                405,
                f"この URL では {request.method} を使えません（{allowed}）。",
                "method_not_allowed",
            )
            response["Allow"] = allowed
        return response

    return wrapper


def _refusal(request: HttpRequest, status: int, detail: str, code: str) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "code": code}, status=status)


def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under ``/api/v1/``: the API's 404, in JSON."""
    return api.on_exception(request, Http404())


def _exempt(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _exempt(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name not in LOGIN_PAGES:
            if pattern.name == "openapi-json":
                pattern.callback = _authenticated(pattern.callback)
            if pattern.name == "api-root":  # ninja's, kept for its name: a 404 as any other
                pattern.callback = csrf_exempt(not_found)
            pattern.callback = _json_errors(pattern.callback)
            login_not_required(pattern.callback)
    return patterns


urlpatterns = [
    *_exempt(api.urls[0]),
    # Exempt from the CSRF check as every operation is (each checks its own
    # session writes): a PATCH to a wrong path is a 404, not Django's 403 page.
    re_path(
        r"^(?P<rest>.*)$",
        csrf_exempt(login_not_required(_json_errors(not_found))),
        name="not-found",
    ),
]
