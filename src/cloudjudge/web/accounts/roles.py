"""What a role brings with it beyond ``User.role``: the system administrator
works in the admin site (``is_staff``) with the permissions listed here, and
nobody else does. Used by ``manage createuser`` and by directory sign-in, so a
role given by the directory means exactly what a local one does."""

from __future__ import annotations

from django.contrib.auth.models import Permission

from cloudjudge.web.accounts.models import Role, User

#: What the system administrator manages in the admin site: users, departments,
#: their second-factor devices and login lockouts (not the register itself).
ADMIN_PERMISSIONS = [
    ("accounts", "user", ("view", "add", "change")),
    ("accounts", "department", ("view", "add", "change", "delete")),
    ("otp_totp", "totpdevice", ("view", "delete")),
    ("otp_static", "staticdevice", ("view", "delete")),
    ("axes", "accessattempt", ("view", "delete")),
]


def admin_permissions() -> list[Permission]:
    wanted = [
        (app, f"{action}_{model}")
        for app, model, actions in ADMIN_PERMISSIONS
        for action in actions
    ]
    found = Permission.objects.filter(
        content_type__app_label__in={app for app, _ in wanted},
        codename__in={codename for _, codename in wanted},
    ).select_related("content_type")
    return [p for p in found if (p.content_type.app_label, p.codename) in wanted]


def set_role(user: User, role: str) -> None:
    """Give ``user`` the role and the admin-site access that goes with it
    (saved by the caller; then :func:`grant_permissions`)."""
    user.role = role
    user.is_staff = role == Role.ADMIN


def grant_permissions(user: User) -> None:
    """The admin-site permissions of ``user``'s role (the user must be saved)."""
    user.user_permissions.set(admin_permissions() if user.role == Role.ADMIN else [])
