"""Sign-in with an OpenID Connect provider (mozilla-django-oidc): Entra ID,
Keycloak, or any provider of the authorization code flow.

The login page's button sends the browser to the provider with a PKCE
challenge, a state and a nonce; the provider sends it back to the callback
with a code, which is exchanged for tokens. The ID token must be signed with
one of the provider's published keys (``CLOUDJUDGE_OIDC_JWKS_ENDPOINT``), be
issued by ``CLOUDJUDGE_OIDC_ISSUER`` for this client, not be expired and
carry the nonce: anything else is refused with a message on the login page.
Claims give the user name, the role (groups claim, ``directory.apply``) and
the department. The provider's own second factor counts as cloudjudge's when
the ID token's ``amr`` or ``acr`` is one the settings trust; otherwise a
privileged role still passes cloudjudge's TOTP. Logging out ends the
provider's session too (``provider_logout_url``).
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.http import Http404
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from cloudjudge.web.accounts import directory, mfa
from cloudjudge.web.accounts.directory_settings import OIDC_BACKEND
from cloudjudge.web.accounts.models import Source, User

logger = logging.getLogger(__name__)

#: Seconds of clock difference with the provider tolerated on ``exp`` and ``iat``.
LEEWAY = 60


def enabled() -> bool:
    return bool(getattr(settings, "CLOUDJUDGE_OIDC_ENABLED", False))


def provider_name() -> str:
    return getattr(settings, "CLOUDJUDGE_OIDC_PROVIDER_NAME", "") or _("the city's directory")


class DirectoryOIDCBackend(OIDCAuthenticationBackend):
    def authenticate(self, request, **kwargs):
        """Only the callback's code is ours to check (not a password form)."""
        if request is None or "code" not in request.GET or "state" not in request.GET:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except directory.Refused as refusal:
            request.directory_refusal = str(refusal)
        except (SuspiciousOperation, jwt.InvalidTokenError) as exc:
            logger.warning("OpenID Connect sign-in refused: %s", exc)
            request.directory_refusal = _(
                "The directory's answer could not be trusted (the token was expired, altered "
                "or not meant for cloudjudge). Sign-in was refused."
            )
        except (requests.RequestException, ValueError, KeyError) as exc:
            logger.warning("OpenID Connect provider did not answer as expected: %s", exc)
            request.directory_refusal = _(
                "The directory could not be reached. Try again later, or ask the system "
                "administrator."
            )
        return None

    def verify_token(self, token, **kwargs):
        """The library checks the signature, ``exp`` (when present) and the
        nonce; the ID token (the call with a nonce) must also come from our
        issuer, be meant for this client and carry ``exp``."""
        payload = super().verify_token(token, **kwargs)
        if "nonce" in kwargs:
            check_id_token_claims(payload)
        return payload

    def verify_claims(self, claims):
        """No e-mail address required: ``username_from`` and the role mapping decide."""
        return True

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        if claims.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("the userinfo is about someone else than the ID token")
        claims = {**payload, **claims}
        username = username_from(claims)
        user = User.objects.filter(username=username).first() or User(username=username)
        profile = directory.Profile(
            source=Source.OIDC,
            memberships=as_list(claims.get(settings.CLOUDJUDGE_OIDC_GROUPS_CLAIM)),
            department=str(claims.get(settings.CLOUDJUDGE_OIDC_DEPARTMENT_CLAIM) or ""),
            names={
                "first_name": claims.get("given_name"),
                "last_name": claims.get("family_name"),
                "email": claims.get("email"),
            },
        )
        user = directory.apply(
            user, profile, settings.CLOUDJUDGE_OIDC_ROLE_GROUPS, request=self.request
        )
        user.directory_mfa = mfa_trusted(payload)
        return user

    def get_user(self, user_id):
        """A session of an OpenID Connect account lasts only while the account is open."""
        return User.objects.filter(pk=user_id, is_active=True, source=Source.OIDC).first()


def check_id_token_claims(payload: dict, now: float | None = None) -> None:
    """OpenID Connect Core 3.1.3.7: issuer, audience (and ``azp`` when there
    are several), expiry, issue time."""
    now = time.time() if now is None else now
    client_id = settings.OIDC_RP_CLIENT_ID
    if payload.get("iss") != settings.CLOUDJUDGE_OIDC_ISSUER:
        raise SuspiciousOperation(f"ID token from another issuer: {payload.get('iss')!r}")
    audience = as_list(payload.get("aud"))
    if client_id not in audience:
        raise SuspiciousOperation("ID token meant for another client")
    if len(audience) > 1 and payload.get("azp") != client_id:
        raise SuspiciousOperation("ID token for several clients without azp = this client")
    expiry = payload.get("exp")
    if not isinstance(expiry, int | float) or expiry < now - LEEWAY:
        raise SuspiciousOperation("ID token expired or without exp")
    issued = payload.get("iat")
    if not isinstance(issued, int | float) or issued > now + LEEWAY:
        raise SuspiciousOperation("ID token without iat or issued in the future")


def as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


def username_from(claims: dict) -> str:
    claim = settings.CLOUDJUDGE_OIDC_USERNAME_CLAIM
    username = str(claims.get(claim) or "").strip().lower()
    try:
        if not username or len(username) > 150:
            raise ValidationError("length")
        UnicodeUsernameValidator()(username)
    except ValidationError:
        raise directory.Refused(
            _(
                "The directory sent no usable user name (claim %(claim)s). Ask the system "
                "administrator."
            )
            % {"claim": claim}
        ) from None
    return username


def mfa_trusted(payload: dict) -> bool:
    """Whether the ID token says the provider checked a second factor in a way
    the settings trust (``amr`` values, or the ``acr`` level)."""
    amr = set(as_list(payload.get("amr")))
    if amr & set(settings.CLOUDJUDGE_OIDC_TRUSTED_AMR):
        return True
    return str(payload.get("acr") or "") in set(settings.CLOUDJUDGE_OIDC_TRUSTED_ACR)


def signed_in_through_oidc(request) -> bool:
    return request.session.get(BACKEND_SESSION_KEY) == OIDC_BACKEND


def provider_logout_url(request) -> str:
    """Where the browser goes after logging out of cloudjudge: the provider's
    end-session endpoint (RP-initiated logout) with the ID token as a hint,
    coming back to the login page; the login page if there is none."""
    login = resolve_url(settings.LOGOUT_REDIRECT_URL)
    endpoint = getattr(settings, "CLOUDJUDGE_OIDC_END_SESSION_ENDPOINT", "")
    if not endpoint:
        return login
    params = {
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri(login),
    }
    id_token = request.session.get("oidc_id_token")
    if id_token:
        params["id_token_hint"] = id_token
    return f"{endpoint}?{urlencode(params)}"


# --------------------------------------------------------------------------- views


@method_decorator(login_not_required, name="dispatch")
class LoginView(OIDCAuthenticationRequestView):
    """The login page's button: off (404) unless OpenID Connect is configured."""

    def __init__(self, **kwargs):
        if enabled():
            super().__init__(**kwargs)
        else:
            View.__init__(self, **kwargs)

    def get(self, request):
        if not enabled():
            raise Http404
        return super().get(request)


@method_decorator(login_not_required, name="dispatch")
class CallbackView(OIDCAuthenticationCallbackView):
    """The provider's answer; a refusal goes back to the login page with its reason."""

    def get(self, request):
        if not enabled():
            raise Http404
        try:
            return super().get(request)
        except SuspiciousOperation as exc:  # a state this browser never asked for
            logger.warning("OpenID Connect callback refused: %s", exc)
            return self.login_failure()

    def login_failure(self):
        reason = getattr(self.request, "directory_refusal", None)
        if reason is None and self.request.GET.get("error"):
            reason = _("The directory did not sign you in (%(error)s).") % {
                "error": self.request.GET["error"][:100]
            }
        messages.error(self.request, reason or _("Sign-in through the directory failed."))
        return redirect(reverse("login"))

    def login_success(self):
        response = super().login_success()
        if getattr(self.user, "directory_mfa", False):
            self.request.session[mfa.DIRECTORY_MFA] = True
        department = getattr(self.user, "department_not_found", "")
        if department:
            messages.warning(self.request, directory.department_missing_message(department))
        return response
