"""Session lifetime: an idle timeout and an absolute lifetime.

* Idle: a session unused for ``CLOUDJUDGE_SESSION_IDLE_MINUTES`` (default 30)
  is logged out at its next request, which is sent to the login page with a
  notice. The time of the last request is kept in the session.
* Absolute: ``SESSION_COOKIE_AGE`` (``CLOUDJUDGE_SESSION_MAX_HOURS``, default
  8 hours) after the login, however active the session: the expiry is fixed at
  login (``set_expiry`` with a date, so neither the cookie nor the stored
  session is extended by later requests) and checked here as well.
"""

from __future__ import annotations

import datetime
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.utils import timezone
from django.utils.translation import gettext as _

from cloudjudge.web.accounts.gate import redirect_to

#: Session keys (seconds since the epoch).
LOGIN_AT = "cloudjudge_login_at"
LAST_SEEN = "cloudjudge_last_seen"
#: Seconds between refreshes of LAST_SEEN.
LAST_SEEN_RESOLUTION = 60


def idle_seconds() -> int:
    return int(settings.CLOUDJUDGE_SESSION_IDLE_MINUTES) * 60


def max_seconds() -> int:
    return int(settings.SESSION_COOKIE_AGE)


def on_login(sender, request, user, **kwargs) -> None:
    """Stamp the login and fix the session's expiry ``SESSION_COOKIE_AGE`` ahead."""
    session = getattr(request, "session", None)
    if session is None:
        return
    now = time.time()
    session[LOGIN_AT] = now
    session[LAST_SEEN] = now
    session.set_expiry(timezone.now() + datetime.timedelta(seconds=max_seconds()))


def connect() -> None:
    user_logged_in.connect(on_login, dispatch_uid="cloudjudge.accounts.session_stamp")


class SessionTimeoutMiddleware:
    """Log out sessions idle too long or older than the absolute lifetime.

    Goes after ``AuthenticationMiddleware`` and ``MessageMiddleware``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            expired = self.expired(request.session)
            if expired:
                logout(request)
                messages.warning(request, expired)
                return redirect_to(request, settings.LOGIN_URL)
            now = time.time()
            # Writing the session costs a database write (SQLite's write lock)
            # on every page; to the minute is precise enough for a 30-minute timeout.
            if now - request.session.get(LAST_SEEN, 0) >= LAST_SEEN_RESOLUTION:
                request.session[LAST_SEEN] = now
        return self.get_response(request)

    @staticmethod
    def expired(session) -> str | None:
        """The notice to show if ``session`` has expired, else None."""
        now = time.time()
        login_at = session.get(LOGIN_AT)
        if login_at is None:  # a session from before this middleware: start counting
            session[LOGIN_AT] = now
            login_at = now
        last_seen = session.get(LAST_SEEN, login_at)
        if now - float(login_at) > max_seconds():
            return _(
                "You were logged out because %(hours)s hours have passed since you logged "
                "in. Please log in again."
            ) % {"hours": _hours(max_seconds())}
        if now - float(last_seen) > idle_seconds():
            return _(
                "You were logged out because there was no activity for %(minutes)s "
                "minutes. Please log in again."
            ) % {"minutes": idle_seconds() // 60}
        return None


def _hours(seconds: int) -> str:
    hours = seconds / 3600
    return str(int(hours)) if hours == int(hours) else f"{hours:.1f}"
