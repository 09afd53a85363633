"""Fixtures for sign-in with the city's directory, against real servers: an
OpenLDAP ``slapd`` and an OpenID Connect provider, each started once per test
session on free loopback ports and stopped at its end. Conftests import them.

A missing ``slapd`` skips the tests that need it (``scripts/test-deps``
installs it), except under ``CLOUDJUDGE_REQUIRE_TEST_SERVERS=1`` (``make
test`` sets it), where it fails them: CI never passes by skipping.

``directory(settings, ldap=..., oidc=...)`` configures cloudjudge for them
from the same environment variables a city would set, through the same code
(``directory_settings.from_environ``).
"""

from __future__ import annotations

import os

import pytest

from support.ldap_server import LDAPServer
from support.oidc_provider import OIDCProvider


def _missing(what: str) -> None:
    message = f"{what} (run scripts/test-deps)"
    if os.environ.get("CLOUDJUDGE_REQUIRE_TEST_SERVERS") == "1":
        pytest.fail(f"CLOUDJUDGE_REQUIRE_TEST_SERVERS=1 but {message}")
    pytest.skip(message)


def _ldap_server(folder):
    if not LDAPServer.installed():
        _missing("slapd is not installed (Debian packages slapd, ldap-utils)")
    return LDAPServer(folder).start()


@pytest.fixture(scope="session")
def ldap_server(tmp_path_factory):
    """One slapd for the session: tests that change the tree use ``fresh_ldap_server``."""
    server = _ldap_server(tmp_path_factory.mktemp("slapd"))
    yield server
    server.stop()


@pytest.fixture
def fresh_ldap_server(tmp_path):
    """A slapd with the seeded tree, for a test that changes it (about 0.7 s)."""
    server = _ldap_server(tmp_path / "slapd")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    provider = OIDCProvider(tmp_path_factory.mktemp("oidc")).start()
    yield provider
    provider.stop()


@pytest.fixture
def provider(oidc_provider):
    """The session's provider with its people as seeded (after the test too)."""
    oidc_provider.reset_people()
    yield oidc_provider
    oidc_provider.reset_people()


def configure(settings, environ: dict[str, str]) -> None:
    """Apply to Django's settings what cloudjudge reads from ``environ``."""
    from cloudjudge.web.accounts import directory_settings

    for name, value in directory_settings.from_environ(environ, debug=True).items():
        setattr(settings, name, value)


@pytest.fixture
def directory(settings):
    """``directory(ldap=server, oidc=provider, **env)``: cloudjudge signs in through them."""

    def configure_for(ldap=None, oidc=None, **env: str) -> None:
        environ = {}
        if ldap is not None:
            environ.update(ldap.environ())
        if oidc is not None:
            environ.update(oidc.environ())
        environ.update(env)
        configure(settings, environ)

    return configure_for
