"""Sign-in with the city's directory, configured from environment variables.

:func:`from_environ` turns the ``CLOUDJUDGE_LDAP_*`` and ``CLOUDJUDGE_OIDC_*``
variables into Django settings: ``AUTHENTICATION_BACKENDS``, django-auth-ldap's
``AUTH_LDAP_*``, mozilla-django-oidc's ``OIDC_*``, the role mappings
(``CLOUDJUDGE_LDAP_ROLE_GROUPS``, ``CLOUDJUDGE_OIDC_ROLE_GROUPS``) and the
content security policy's form targets (the provider's logout page). Both
kinds of directory are off unless configured: with none of these variables
set, only local accounts sign in. A half-made configuration (no user base, no
role mapped, an LDAP connection without TLS, an OIDC provider without HTTPS in
production) refuses to start with a message naming the variable, as a missing
secret key does. ``docs/deploy.md`` lists every variable.

The module reads no Django setting and touches no model: ``settings.py``
imports it, and the tests build the same settings for their own servers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

#: Roles in the order a person in several mapped groups gets one: the first.
ROLES = ("admin", "ciso", "security", "auditor", "applicant")

LOCKOUT_BACKEND = "cloudjudge.web.accounts.backends.LockoutBackend"
LDAP_BACKEND = "cloudjudge.web.accounts.ldap_signin.DirectoryLDAPBackend"
OIDC_BACKEND = "cloudjudge.web.accounts.oidc_signin.DirectoryOIDCBackend"
LOCAL_BACKEND = "cloudjudge.web.accounts.backends.LocalBackend"


def from_environ(environ: Mapping[str, str], *, debug: bool) -> dict[str, Any]:
    """Every authentication setting that depends on the directory."""
    env = _Env(environ)
    result: dict[str, Any] = {
        "CLOUDJUDGE_LDAP_ENABLED": False,
        "CLOUDJUDGE_OIDC_ENABLED": False,
        "CLOUDJUDGE_LDAP_ROLE_GROUPS": {},
        "CLOUDJUDGE_OIDC_ROLE_GROUPS": {},
    }
    # Local accounts before the directory: the break-glass administrator signs
    # in without a round trip to a directory that may be down. Each backend
    # refuses the others' accounts (``LocalBackend``, ``directory.may_own``).
    backends = [LOCKOUT_BACKEND, LOCAL_BACKEND]
    if env.get("CLOUDJUDGE_LDAP_URL"):
        result.update(ldap_settings(env))
        backends.append(LDAP_BACKEND)
    if env.get("CLOUDJUDGE_OIDC_CLIENT_ID") or env.get("CLOUDJUDGE_OIDC_ISSUER"):
        result.update(oidc_settings(env, debug=debug))
        backends.append(OIDC_BACKEND)
    result["AUTHENTICATION_BACKENDS"] = backends
    return result


class _Env:
    def __init__(self, environ: Mapping[str, str]):
        self.environ = environ

    def get(self, name: str, default: str = "") -> str:
        return (self.environ.get(name) or "").strip() or default

    def required(self, name: str, why: str) -> str:
        value = self.get(name)
        if not value:
            raise ImproperlyConfigured(f"{name} is not set: {why}")
        return value

    def flag(self, name: str) -> bool:
        return self.get(name).lower() in {"1", "true", "yes", "on"}

    def seconds(self, name: str, default: int) -> int:
        value = self.get(name)
        if not value:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must be a number of seconds, not {value!r}"
            ) from None
        if number <= 0:
            raise ImproperlyConfigured(f"{name} must be more than 0 seconds")
        return number

    def words(self, name: str, sep: str = ",") -> list[str]:
        return [part.strip() for part in self.get(name).split(sep) if part.strip()]

    def role_groups(self, prefix: str, normalise) -> dict[str, list[str]]:
        """``{role: [group, ...]}`` from ``PREFIX_ADMIN`` ... ``PREFIX_APPLICANT``
        (several groups separated by ``;``); at least one must be set."""
        groups = {}
        for role in ROLES:
            found = [normalise(g) for g in self.words(f"{prefix}_{role.upper()}", ";")]
            if found:
                groups[role] = found
        if not groups:
            names = ", ".join(f"{prefix}_{role.upper()}" for role in ROLES)
            raise ImproperlyConfigured(
                f"No directory group is mapped to a role: set at least one of {names}. "
                "Without one nobody could sign in through the directory."
            )
        return groups


# --------------------------------------------------------------------------- LDAP


def normalise_dn(dn: str) -> str:
    """A DN as compared: parsed and re-joined (spacing after commas does not
    matter), lower-cased (attribute names and the usual values are not case
    sensitive)."""
    import ldap.dn

    try:
        return ldap.dn.dn2str(ldap.dn.str2dn(dn.strip())).lower()
    except ldap.DECODING_ERROR:
        raise ImproperlyConfigured(f"{dn!r} is not a distinguished name (DN)") from None


def ldap_settings(env: _Env) -> dict[str, Any]:
    import ldap
    from django_auth_ldap.config import (
        GroupOfNamesType,
        LDAPSearch,
        NestedGroupOfNamesType,
    )

    url = env.get("CLOUDJUDGE_LDAP_URL")
    scheme = urlsplit(url).scheme.lower()
    start_tls = env.flag("CLOUDJUDGE_LDAP_START_TLS")
    if scheme not in {"ldap", "ldaps"}:
        raise ImproperlyConfigured(
            f"CLOUDJUDGE_LDAP_URL must start with ldaps:// or ldap://, not {url!r}"
        )
    if scheme == "ldap" and not start_tls:
        raise ImproperlyConfigured(
            "CLOUDJUDGE_LDAP_URL is ldap:// without CLOUDJUDGE_LDAP_START_TLS=1: passwords "
            "would cross the network in the clear. Use ldaps:// or set CLOUDJUDGE_LDAP_START_TLS=1."
        )
    user_filter = env.get("CLOUDJUDGE_LDAP_USER_FILTER", "(uid=%(user)s)")
    if "%(user)s" not in user_filter:
        raise ImproperlyConfigured(
            "CLOUDJUDGE_LDAP_USER_FILTER must contain %(user)s (where the user name goes), "
            f"e.g. (sAMAccountName=%(user)s); it is {user_filter!r}"
        )
    timeout = env.seconds("CLOUDJUDGE_LDAP_TIMEOUT", 10)
    options: dict[int, Any] = {
        ldap.OPT_REFERRALS: 0,  # Active Directory's referrals need a second bind
        ldap.OPT_NETWORK_TIMEOUT: timeout,
        ldap.OPT_TIMEOUT: timeout,
        ldap.OPT_X_TLS_REQUIRE_CERT: ldap.OPT_X_TLS_DEMAND,
    }
    ca_file = env.get("CLOUDJUDGE_LDAP_CA_FILE")
    if ca_file:
        options[ldap.OPT_X_TLS_CACERTFILE] = ca_file
    options[ldap.OPT_X_TLS_NEWCTX] = 0  # last: applies the TLS options above
    nested = env.flag("CLOUDJUDGE_LDAP_NESTED_GROUPS")
    return {
        "CLOUDJUDGE_LDAP_ENABLED": True,
        "AUTH_LDAP_SERVER_URI": url,
        "AUTH_LDAP_START_TLS": start_tls,
        "AUTH_LDAP_CONNECTION_OPTIONS": options,
        "AUTH_LDAP_BIND_DN": env.get("CLOUDJUDGE_LDAP_BIND_DN"),
        "AUTH_LDAP_BIND_PASSWORD": env.get("CLOUDJUDGE_LDAP_BIND_PASSWORD"),
        "AUTH_LDAP_USER_SEARCH": LDAPSearch(
            env.required("CLOUDJUDGE_LDAP_USER_BASE", "where to look for users"),
            ldap.SCOPE_SUBTREE,
            user_filter,
        ),
        "AUTH_LDAP_GROUP_SEARCH": LDAPSearch(
            env.required("CLOUDJUDGE_LDAP_GROUP_BASE", "where to look for the role groups"),
            ldap.SCOPE_SUBTREE,
            env.get("CLOUDJUDGE_LDAP_GROUP_FILTER", "(objectClass=groupOfNames)"),
        ),
        "AUTH_LDAP_GROUP_TYPE": NestedGroupOfNamesType() if nested else GroupOfNamesType(),
        "AUTH_LDAP_USER_ATTR_MAP": {
            "first_name": env.get("CLOUDJUDGE_LDAP_ATTR_FIRST_NAME", "givenName"),
            "last_name": env.get("CLOUDJUDGE_LDAP_ATTR_LAST_NAME", "sn"),
            "email": env.get("CLOUDJUDGE_LDAP_ATTR_EMAIL", "mail"),
        },
        "CLOUDJUDGE_LDAP_DEPARTMENT_ATTR": env.get(
            "CLOUDJUDGE_LDAP_DEPARTMENT_ATTR", "departmentNumber"
        ),
        "CLOUDJUDGE_LDAP_ROLE_GROUPS": env.role_groups("CLOUDJUDGE_LDAP_GROUPS", normalise_dn),
        # Role, department and names are read again at every sign-in.
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,
        "AUTH_LDAP_CACHE_TIMEOUT": 0,
    }


# --------------------------------------------------------------------------- OpenID Connect


def oidc_settings(env: _Env, *, debug: bool) -> dict[str, Any]:
    why = "every OpenID Connect setting is needed once one is set"
    issuer = env.required("CLOUDJUDGE_OIDC_ISSUER", why)
    endpoints = {
        "OIDC_OP_AUTHORIZATION_ENDPOINT": env.required(
            "CLOUDJUDGE_OIDC_AUTHORIZATION_ENDPOINT", why
        ),
        "OIDC_OP_TOKEN_ENDPOINT": env.required("CLOUDJUDGE_OIDC_TOKEN_ENDPOINT", why),
        "OIDC_OP_USER_ENDPOINT": env.required("CLOUDJUDGE_OIDC_USERINFO_ENDPOINT", why),
        "OIDC_OP_JWKS_ENDPOINT": env.required("CLOUDJUDGE_OIDC_JWKS_ENDPOINT", why),
    }
    logout = env.get("CLOUDJUDGE_OIDC_END_SESSION_ENDPOINT")
    for name, url in [("CLOUDJUDGE_OIDC_ISSUER", issuer), *_env_names(endpoints, logout)]:
        scheme = urlsplit(url).scheme
        if scheme != "https" and not (debug and scheme == "http"):
            raise ImproperlyConfigured(
                f"{name} must be an https:// address (http:// only with CLOUDJUDGE_DEBUG=1), "
                f"not {url!r}"
            )
    sign_algo = env.get("CLOUDJUDGE_OIDC_SIGN_ALGO", "RS256")
    if not sign_algo.startswith(("RS", "ES", "PS")):
        raise ImproperlyConfigured(
            "CLOUDJUDGE_OIDC_SIGN_ALGO must be a public-key algorithm (RS256, ES256, ...): "
            f"the provider's keys are read from CLOUDJUDGE_OIDC_JWKS_ENDPOINT, not {sign_algo!r}"
        )
    return {
        "CLOUDJUDGE_OIDC_ENABLED": True,
        "CLOUDJUDGE_OIDC_ISSUER": issuer,
        "CLOUDJUDGE_OIDC_PROVIDER_NAME": env.get("CLOUDJUDGE_OIDC_PROVIDER_NAME"),
        **endpoints,
        "CLOUDJUDGE_OIDC_END_SESSION_ENDPOINT": logout,
        "OIDC_RP_CLIENT_ID": env.required("CLOUDJUDGE_OIDC_CLIENT_ID", why),
        "OIDC_RP_CLIENT_SECRET": env.required("CLOUDJUDGE_OIDC_CLIENT_SECRET", why),
        "OIDC_RP_SIGN_ALGO": sign_algo,
        "OIDC_RP_SCOPES": env.get("CLOUDJUDGE_OIDC_SCOPES", "openid profile email"),
        "OIDC_USE_PKCE": True,
        "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
        "OIDC_USE_NONCE": True,
        "OIDC_STORE_ID_TOKEN": True,  # the provider's logout wants it back
        "OIDC_TIMEOUT": env.seconds("CLOUDJUDGE_OIDC_TIMEOUT", 10),
        "OIDC_CREATE_USER": True,
        "OIDC_AUTHENTICATION_CALLBACK_URL": "oidc_callback",
        "LOGIN_REDIRECT_URL_FAILURE": "login",
        "OIDC_OP_LOGOUT_URL_METHOD": "cloudjudge.web.accounts.oidc_signin.provider_logout_url",
        "CLOUDJUDGE_OIDC_USERNAME_CLAIM": env.get(
            "CLOUDJUDGE_OIDC_USERNAME_CLAIM", "preferred_username"
        ),
        "CLOUDJUDGE_OIDC_GROUPS_CLAIM": env.get("CLOUDJUDGE_OIDC_GROUPS_CLAIM", "groups"),
        "CLOUDJUDGE_OIDC_DEPARTMENT_CLAIM": env.get(
            "CLOUDJUDGE_OIDC_DEPARTMENT_CLAIM", "department"
        ),
        "CLOUDJUDGE_OIDC_ROLE_GROUPS": env.role_groups("CLOUDJUDGE_OIDC_GROUPS", str.strip),
        "CLOUDJUDGE_OIDC_TRUSTED_AMR": env.words("CLOUDJUDGE_OIDC_TRUSTED_AMR"),
        "CLOUDJUDGE_OIDC_TRUSTED_ACR": env.words("CLOUDJUDGE_OIDC_TRUSTED_ACR"),
        # The logout form's redirect to the provider is a form target.
        "CLOUDJUDGE_CONTENT_SECURITY_POLICY": form_action_allowing(logout),
    }


def _env_names(endpoints: dict[str, str], logout: str):
    names = {
        "OIDC_OP_AUTHORIZATION_ENDPOINT": "CLOUDJUDGE_OIDC_AUTHORIZATION_ENDPOINT",
        "OIDC_OP_TOKEN_ENDPOINT": "CLOUDJUDGE_OIDC_TOKEN_ENDPOINT",
        "OIDC_OP_USER_ENDPOINT": "CLOUDJUDGE_OIDC_USERINFO_ENDPOINT",
        "OIDC_OP_JWKS_ENDPOINT": "CLOUDJUDGE_OIDC_JWKS_ENDPOINT",
    }
    pairs = [(names[key], url) for key, url in endpoints.items()]
    if logout:
        pairs.append(("CLOUDJUDGE_OIDC_END_SESSION_ENDPOINT", logout))
    return pairs


def form_action_allowing(url: str) -> dict[str, list[str]]:
    """The default content security policy, with ``url``'s origin added to
    ``form-action``: browsers apply it to the redirects that follow a form
    (the log-out button's redirect to the provider)."""
    from cloudjudge.web.security.middleware import DEFAULT_CSP

    policy = {name: list(sources) for name, sources in DEFAULT_CSP.items()}
    if url:
        parts = urlsplit(url)
        policy["form-action"].append(f"{parts.scheme}://{parts.netloc}")
    return policy
