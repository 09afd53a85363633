"""The request type of every signed-in page.

``LoginRequiredMiddleware`` lets no anonymous request reach a view that is not
marked ``login_not_required``, so behind it ``request.user`` is always one of
our users: views annotate ``request: AuthenticatedRequest`` and the type
checker knows it (django-stubs' recommended alias)."""

from __future__ import annotations

from django.http import HttpRequest

from cloudjudge.web.accounts.models import User


class AuthenticatedRequest(HttpRequest):
    user: User
