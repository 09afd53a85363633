"""Logins, failed logins and logouts, from Django's authentication signals.

A failed login keeps the username that was tried (as the object, and in
``extra``) and whether such an account exists; never the password, which
Django has already masked in ``credentials`` and which is not read here."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from cloudjudge.web.audit import trail
from cloudjudge.web.audit.models import Action


def on_login(sender, request, user, **kwargs) -> None:
    trail.record(Action.LOGIN, actor=user, request=request, obj=user)


def on_logout(sender, request, user, **kwargs) -> None:
    if user is None:  # logging out without a session
        return
    trail.record(Action.LOGOUT, actor=user, request=request, obj=user)


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    User = get_user_model()
    username = credentials.get(User.USERNAME_FIELD) or credentials.get("username") or ""
    username = str(username)[:150]
    account = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
    trail.record(
        Action.LOGIN_FAILED,
        actor=None,
        request=None if request is None else _Anonymous(request),
        object_type=User._meta.label_lower,
        object_id=account.pk if account else "",
        object_repr=username,
        extra={"username": username, "account_exists": account is not None},
    )


class _Anonymous:
    """The request's address without its user: a failed login has no actor,
    even when someone else's session is open in the same browser."""

    def __init__(self, request):
        self.META = request.META


def connect() -> None:
    user_logged_in.connect(on_login, dispatch_uid="cloudjudge.audit.login")
    user_logged_out.connect(on_logout, dispatch_uid="cloudjudge.audit.logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="cloudjudge.audit.login_failed")
