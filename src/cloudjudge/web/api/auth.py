"""Who is calling: an API token, or a logged-in browser session.

* ``Authorization: Bearer cj_…`` — a per-user token (``ApiToken``). A request
  that sends an ``Authorization`` header is judged by it alone: a wrong,
  revoked or malformed token is a 401 even if a session cookie comes along.
* The Django session — for people trying the API from the docs page while
  logged in. Unsafe methods then need the CSRF token (``X-CSRFToken``), as
  every form of the UI does; tokens need none (a browser never adds them).

Either way ``request.auth`` and ``request.user`` are the user, so the
permission functions and the audit trail see who acted.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from cloudjudge.web.accounts import gate
from cloudjudge.web.api.models import ApiToken

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

MISSING = (
    "認証が必要です。Authorization: Bearer <API トークン> ヘッダーを送ってください"
    "（トークンは cloudjudge manage apitoken で発行します）。"
)
INVALID = "API トークンが無効です（誤っているか、失効しています）。"
NOT_BEARER = "Authorization ヘッダーは Bearer <API トークン> の形で送ってください。"
CSRF_FAILED = (
    "CSRF トークンを確認できません。ログイン中のセッションで書き込むときは "
    "X-CSRFToken ヘッダーを送ってください（API トークンでは不要です）。"
)


class Unauthenticated(AuthenticationError):
    """401 with a Japanese reason (see ``api.py`` for the response)."""

    def __init__(self, message: str = MISSING):
        super().__init__(401, message)


class BearerTokenAuth(HttpBearer):
    openapi_bearerFormat = "cj_…"
    openapi_description = (
        "利用者ごとの API トークン（`cloudjudge manage apitoken ユーザー名` で発行）を "
        "`Authorization: Bearer <トークン>` で送ります。"
    )

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization")
        if header is None:
            return None  # perhaps a session: the next method decides
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            raise Unauthenticated(NOT_BEARER)
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        row = ApiToken.lookup(token)
        if row is None:
            raise Unauthenticated(INVALID)
        row.touch()
        request.api_token = row
        request.user = row.user
        return row.user


class SessionAuth(APIKeyCookie):
    """The browser session of a logged-in user, with Django's CSRF check for
    unsafe methods (only once the session is known to be a logged-in one, so
    an anonymous request gets a 401, not a CSRF error)."""

    param_name = settings.SESSION_COOKIE_NAME
    openapi_description = "ログイン中のブラウザーのセッション（書き込みには X-CSRFToken も）。"

    def __init__(self) -> None:
        super().__init__(csrf=True)  # ``csrf`` also tells the docs page to send the token

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if "Authorization" in request.headers:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if gate.pending_step(request) is not None:
            return None  # second factor or password change still to do
        if (
            request.method not in SAFE_METHODS
            and not getattr(request, "_ninja_csrf_exempt", False)
            and check_csrf(request) is not None
        ):
            raise HttpError(403, CSRF_FAILED)
        return user


bearer = BearerTokenAuth()
session = SessionAuth()
#: Every operation of the API accepts either.
AUTH = [bearer, session]


def authenticate(request: HttpRequest) -> Any:
    """The user behind a request by either method (for views outside ninja's
    operations, e.g. the OpenAPI document); raises :class:`Unauthenticated`."""
    for method in AUTH:
        user = method(request)
        if user:
            return user
    raise Unauthenticated()
