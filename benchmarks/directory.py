"""Start-up of the test directory servers and the time of one directory sign-in.

Starts the tests' OpenLDAP server and OpenID Connect provider on free loopback
ports (``tests/support``), configures cloudjudge for both from the same
environment variables a city sets, on a fresh SQLite database under /tmp, and
prints:

* how long each server takes to start (what every test session pays);
* median, p95 and max of ``--n`` sign-ins through the login form against
  slapd (search, bind as the user, group search, role and audit);
* the same for the OpenID Connect flow (cloudjudge's redirect, the provider's
  login form and its redirect back, the code exchange, the keys, userinfo),
  driven as a browser would with ``requests``.

It never asserts and stops both servers at the end:

    .venv/bin/python benchmarks/directory.py --n 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.ldap_server import PASSWORD as LDAP_PASSWORD  # noqa: E402
from support.ldap_server import LDAPServer  # noqa: E402
from support.oidc_provider import PASSWORD as OIDC_PASSWORD  # noqa: E402
from support.oidc_provider import OIDCProvider  # noqa: E402


def timed(label: str, call):
    start = time.perf_counter()
    result = call()
    print(f"{label:<38} {1000 * (time.perf_counter() - start):8.0f} ms")
    return result


def summary(label: str, samples: list[float]) -> None:
    samples = sorted(1000 * s for s in samples)
    p95 = samples[max(0, round(0.95 * len(samples)) - 1)]
    print(
        f"{label:<38} median {statistics.median(samples):6.1f} ms  "
        f"p95 {p95:6.1f} ms  max {samples[-1]:6.1f} ms  (n={len(samples)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="sign-ins of each kind (default 20)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cloudjudge-directory-bench-"))
    ldap = timed("slapd start (CA, seed, listen)", lambda: LDAPServer(folder / "ldap").start())
    provider = None
    try:
        provider = timed(
            "OIDC provider start (migrate, gunicorn)", lambda: OIDCProvider(folder / "oidc").start()
        )
        os.environ.update(ldap.environ())
        os.environ.update(provider.environ())
        os.environ.update(
            CLOUDJUDGE_DEBUG="1",
            CLOUDJUDGE_VAR_DIR=str(folder / "var"),
            DATABASE_URL=f"sqlite:///{folder / 'bench.sqlite3'}",
            DJANGO_SETTINGS_MODULE="cloudjudge.web.settings",
        )
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.test import Client
        from django.test.utils import setup_test_environment

        setup_test_environment()  # the test client's host, testserver, is allowed
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        call_command("migrate", verbosity=0)
        from cloudjudge.web.accounts.models import Department

        Department.objects.create(code="shimin", name="市民課")
        sys.path.insert(0, str(ROOT / "tests" / "web" / "accounts"))
        from helpers import oidc_sign_in

        samples = []
        for i in range(args.n):
            client = Client(REMOTE_ADDR=f"127.0.1.{i % 250 + 1}")
            start = time.perf_counter()
            response = client.post(
                "/accounts/login/", {"username": "hanako", "password": LDAP_PASSWORD}
            )
            samples.append(time.perf_counter() - start)
            assert response.status_code == 302, response
        summary("LDAP sign-in (login form, LDAPS)", samples)

        samples = []
        for _ in range(args.n):
            client = Client()
            start = time.perf_counter()
            response = oidc_sign_in(client, "sakura", OIDC_PASSWORD, follow=False)
            samples.append(time.perf_counter() - start)
            assert response.status_code == 302 and response.url == "/", response
        summary("OIDC sign-in (provider login, code)", samples)
    finally:
        ldap.stop()
        if provider is not None:
            provider.stop()


if __name__ == "__main__":
    main()
