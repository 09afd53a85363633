"""``/api/v1/`` (included from ``cloudjudge.web.urls``).

The operations authenticate themselves (token or session, see ``auth``), so
they are exempt from ``LoginRequiredMiddleware``, which would redirect a
program to the login page; an unauthenticated call gets a 401 instead. The
OpenAPI document needs a token or a session too. The interactive docs page
is for people: it stays behind the login page like every other page.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, URLResolver

from cloudjudge.web.api import auth
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


def _exempt(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _exempt(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name not in LOGIN_PAGES:
            if pattern.name == "openapi-json":
                pattern.callback = _authenticated(pattern.callback)
            login_not_required(pattern.callback)
    return patterns


urlpatterns = _exempt(api.urls[0])
