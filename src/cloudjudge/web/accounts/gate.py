"""What a logged-in user must do before using the system, and the middleware
that holds them to it.

In order: pass the second factor if they have a device and it is required
(``mfa``), change an initial password (``User.must_change_password``), enrol
an authenticator if their role requires one and they have none. Until then
only that step's page, the logout and the language switch answer; everything
else redirects there (with ``next`` to come back to).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.http import urlencode

VERIFY = "otp_verify"
PASSWORD = "password_change"
ENROL = "otp_setup"

#: Views open at every step (URL names).
ALWAYS_OPEN = frozenset({"logout", "login", "set_language"})


def pending_step(request) -> str | None:
    """The URL name of the page ``request.user`` must complete first, or None."""
    from cloudjudge.web.accounts import mfa

    user = request.user
    if not user.is_authenticated:
        return None
    if mfa.is_required(user) and not mfa.is_verified(request):
        if mfa.has_device(user):
            return VERIFY
        if user.must_change_password:
            return PASSWORD
        return ENROL
    if user.must_change_password:
        return PASSWORD
    return None


def redirect_to(request, to: str, *, keep_next: bool = True) -> HttpResponse:
    """A redirect to ``to`` (a URL name or path) that brings the user back to
    the page asked for; for an htmx request, an ``HX-Redirect`` of the whole page."""
    url = resolve_url(to)
    if keep_next and request.method == "GET" and not _is_htmx(request):
        url = f"{url}?{urlencode({'next': request.get_full_path()})}"
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


class AccountGateMiddleware:
    """Goes after django-otp's ``OTPMiddleware`` (and the session timeout)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(self.static_prefix):
            return None
        step = pending_step(request)
        if step is None:
            return None
        match = request.resolver_match
        name = match.url_name if match is not None else None
        if name == step or name in ALWAYS_OPEN:
            return None
        return redirect_to(request, step)
