"""Two-factor authentication with django-otp: a TOTP authenticator app and ten
one-time recovery codes (別紙1 ① No.4: counter-measures against impersonation).

Mandatory for the security office, the CISO, auditors, administrators and
anyone with access to the admin site; optional for applicants, who enrol in
their account settings. Whoever has a confirmed device is asked for a token at
every login, whatever their role. After the password, a session counts as
verified once a token was accepted (``request.user.is_verified()``, from
django-otp's ``OTPMiddleware``), or when an OpenID Connect provider checked
a second factor the settings trust (``DIRECTORY_MFA``); until then
``AccountGateMiddleware`` lets the user reach only the token page (or the
enrolment page) and the logout.

A TOTP token is six digits; a recovery code is eight letters and digits and
works once (django-otp's ``StaticDevice`` deletes it when it is used). Both
kinds of device are throttled by django-otp after failures (1, 2, 4, ...
seconds), on top of the login lockout of django-axes.
"""

from __future__ import annotations

import base64

import segno
from django.db import transaction
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cloudjudge.web.accounts.models import Role, User

#: Roles that must use a second factor.
MANDATORY_ROLES = frozenset({Role.SECURITY, Role.CISO, Role.AUDITOR, Role.ADMIN})
RECOVERY_CODE_COUNT = 10
#: Session key: at this sign-in the directory checked a second factor the
#: settings trust (OpenID Connect ``amr``/``acr``; ``oidc_signin.mfa_trusted``).
DIRECTORY_MFA = "cloudjudge_directory_mfa"
TOTP_DEVICE_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery codes"
TOTP_DIGITS = 6


def is_mandatory(user: User) -> bool:
    """Whether ``user``'s role (or admin-site access) requires a second factor."""
    return bool(
        user.is_authenticated
        and (user.role in MANDATORY_ROLES or user.is_staff or user.is_superuser)
    )


def has_device(user: User) -> bool:
    """Whether ``user`` has a confirmed authenticator app or recovery codes."""
    return user.is_authenticated and any(devices_for_user(user, confirmed=True))


def has_authenticator(user: User) -> bool:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def is_required(user: User) -> bool:
    """Whether ``user`` must pass a second factor before using the system."""
    return is_mandatory(user) or has_device(user)


def is_verified(request) -> bool:
    """Whether this session passed a second factor: a token here, or the
    directory's own (trusted) second factor at sign-in."""
    user = request.user
    if getattr(request, "session", {}).get(DIRECTORY_MFA) is True and user.is_authenticated:
        return True
    return bool(getattr(user, "is_verified", None) and user.is_verified())


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --------------------------------------------------------------------------- enrolment


def pending_device(user: User) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled (a new secret if none)."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name=TOTP_DEVICE_NAME, confirmed=False, digits=TOTP_DIGITS
        )
    return device


def secret_base32(device: TOTPDevice) -> str:
    """The secret for typing into an authenticator app, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(device: TOTPDevice) -> str:
    """``otpauth://totp/...``: what the QR code holds (issuer from ``OTP_TOTP_ISSUER``)."""
    return device.config_url


def qr_svg(data: str) -> str:
    """An inline ``<svg>`` of ``data`` as a QR code (no script, no style attribute)."""
    code = segno.make(data, error="m")
    return code.svg_inline(
        scale=5, dark="#000", light="#fff", border=4, svgclass="qr", lineclass=None
    )


def confirm_device(request, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the enrolment of ``device`` with its first ``token``.

    On success the device replaces any earlier authenticator, the session is
    verified with it, and ten new recovery codes (replacing any earlier ones)
    are returned to be shown once. On failure, None."""
    token = normalise(token)
    if not (token.isdigit() and len(token) == device.digits):
        return None
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update().filter(pk=device.pk, confirmed=False).first()
        )
        if device is None or not device.verify_token(token):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        codes = issue_recovery_codes(device.user)
    mark_verified(request, device)
    return codes


def issue_recovery_codes(user: User) -> list[str]:
    """Ten new one-time recovery codes for ``user``; earlier ones stop working."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
        codes = []
        while len(codes) < RECOVERY_CODE_COUNT:
            code = StaticToken.random_token()
            if code not in codes:
                codes.append(code)
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def remove_devices(user: User) -> int:
    """Remove every second-factor device of ``user`` (e.g. a lost phone)."""
    removed = 0
    for device in devices_for_user(user, confirmed=None):
        device.delete()
        removed += 1
    return removed


# --------------------------------------------------------------------------- verification


def normalise(token: str) -> str:
    """Tokens as typed: spaces and hyphens dropped, letters lower-cased."""
    return "".join(c for c in str(token) if c not in " -\u3000").lower()


class Throttled(Exception):
    """Too many wrong tokens in a row: django-otp asks to wait a little."""


def verify(request, token: str):
    """Check ``token`` against the user's devices: six digits go to the
    authenticator, anything else (eight letters and digits) to the recovery
    codes (each works once).
    The session is verified with the device that accepted it, which is
    returned; None if none did. Raises :class:`Throttled` while django-otp
    holds the device back after failures."""
    user = request.user
    token = normalise(token)
    if not token:
        return None
    model = TOTPDevice if token.isdigit() and len(token) == TOTP_DIGITS else StaticDevice
    with transaction.atomic():
        devices = list(model.objects.devices_for_user(user, confirmed=True).select_for_update())
        throttled = False
        for device in devices:
            allowed, _ = device.verify_is_allowed()
            if not allowed:
                throttled = True
                continue
            if device.verify_token(token):
                break
        else:
            if throttled:
                raise Throttled
            return None
    mark_verified(request, device)
    return device


def mark_verified(request, device) -> None:
    """Record in the session that ``device`` verified this user (and give
    the session a new key: the privilege changed)."""
    request.session.cycle_key()
    otp_login(request, device)
