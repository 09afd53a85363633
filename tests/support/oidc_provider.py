"""Start and stop the test OpenID Connect provider (``tests/oidc_provider``):
django-oauth-toolkit served by gunicorn on a loopback port, its own process
and database, in a folder of its own.

    provider = OIDCProvider(tmp_folder)   # a free port unless given
    provider.start()                      # about 2 s: tables, people, client, gunicorn
    env = provider.environ()              # CLOUDJUDGE_OIDC_* for cloudjudge
    provider.set_person("hanako", groups=[...])
    provider.stop()

Run by hand: ``scripts/oidc-test-provider start|stop``.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from support import servers

TESTS = Path(__file__).resolve().parents[1]
CLIENT_ID = "cloudjudge-test"
#: Every seeded person's password at the provider.
PASSWORD = "Kumo-no-Ue-2026-oidc!"
#: The Django test client's site; the browser tests register their live server.
TEST_CLIENT_SITE = "http://testserver"

ROLE_GROUPS = servers.ROLE_GROUPS


def person(username, family, given, department, groups, **extra) -> dict:
    return {
        "password": PASSWORD,
        "preferred_username": extra.pop("preferred_username", f"{username}@city.example.jp"),
        "family_name": family,
        "given_name": given,
        "email": f"{username}@city.example.jp",
        "department": department,
        "groups": list(groups),
        **extra,
    }


PEOPLE_SEED = {
    "sakura": person("sakura", "桜井", "さくら", "shimin", ["cloudjudge-applicants"]),
    # The provider checked a second factor: amr says so.
    "tsuyoshi": person(
        "tsuyoshi", "堅牢", "剛", "security", ["cloudjudge-security"], amr=["pwd", "mfa"]
    ),
    "yowai": person("yowai", "弱井", "守", "security", ["cloudjudge-security"], amr=["pwd"]),
    "nobody": person("nobody", "無所属", "太郎", "shimin", ["all-staff"]),
    "expired": person("expired", "期限", "切子", "shimin", ["cloudjudge-applicants"], expired=True),
    "tamper": person("tamper", "改竄", "花子", "shimin", ["cloudjudge-applicants"], tamper=True),
}


@dataclass
class OIDCProvider:
    folder: Path
    port: int = field(default_factory=servers.free_port)
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    process: subprocess.Popen | None = None
    people: dict = field(default_factory=lambda: copy.deepcopy(PEOPLE_SEED))

    @property
    def url(self) -> str:
        return f"http://{servers.HOST}:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.url}/o"

    def _env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CLOUDJUDGE_", "DJANGO_", "DATABASE"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="oidc_provider.settings",
            OIDC_TEST_DIR=str(self.folder),
            OIDC_TEST_ISSUER=self.issuer,
            PYTHONPATH=str(TESTS),
        )
        return env

    def _manage(self, *args: str) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "django", *args],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"provider {args[0]} failed:\n{result.stdout}{result.stderr}")

    # ------------------------------------------------------------------ life

    def start(self) -> OIDCProvider:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("provider.sqlite3*"):
            old.unlink()
        (self.folder / "secret_key").write_text(secrets.token_urlsafe(50))
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (self.folder / "rsa.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self._write_people()
        self._manage(
            "prepare_provider",
            "--client-id",
            CLIENT_ID,
            # One argument: a random secret starting with "-" read as an option
            # (token_urlsafe gives one in 64 runs; CI met one).
            f"--client-secret={self.client_secret}",
            "--site",
            TEST_CLIENT_SITE,
        )
        log = self.folder / "gunicorn.log"
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--bind",
                    f"{servers.HOST}:{self.port}",
                    "--workers",
                    "1",
                    "--threads",
                    "4",
                    "oidc_provider.wsgi:application",
                ],
                env=self._env(),
                cwd=TESTS,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        servers.wait_for_port(self.port, self.process, log)
        return self

    def stop(self) -> None:
        servers.stop(self.process)
        self.process = None

    def register_site(self, site: str) -> None:
        """Let cloudjudge at ``site`` (e.g. the live server) use the client."""
        self._manage("register_site", site)

    # ------------------------------------------------------------------ people

    def _write_people(self) -> None:
        path = self.folder / "people.json"
        path.write_text(json.dumps({"people": self.people}, ensure_ascii=False), encoding="utf-8")

    def set_person(self, username: str, **claims) -> None:
        """Change someone's claims (read by the provider at every request)."""
        self.people[username].update(claims)
        self._write_people()

    def reset_people(self) -> None:
        self.people = copy.deepcopy(PEOPLE_SEED)
        self._write_people()

    # ------------------------------------------------------------------ cloudjudge

    def environ(self, **overrides: str) -> dict[str, str]:
        """The ``CLOUDJUDGE_OIDC_*`` variables of a city using this provider."""
        env = {
            "CLOUDJUDGE_OIDC_ISSUER": self.issuer,
            "CLOUDJUDGE_OIDC_PROVIDER_NAME": "Example City ID",
            "CLOUDJUDGE_OIDC_AUTHORIZATION_ENDPOINT": f"{self.issuer}/authorize/",
            "CLOUDJUDGE_OIDC_TOKEN_ENDPOINT": f"{self.issuer}/token/",
            "CLOUDJUDGE_OIDC_USERINFO_ENDPOINT": f"{self.issuer}/userinfo/",
            "CLOUDJUDGE_OIDC_JWKS_ENDPOINT": f"{self.issuer}/.well-known/jwks.json",
            "CLOUDJUDGE_OIDC_END_SESSION_ENDPOINT": f"{self.issuer}/logout/",
            "CLOUDJUDGE_OIDC_CLIENT_ID": CLIENT_ID,
            "CLOUDJUDGE_OIDC_CLIENT_SECRET": self.client_secret,
            "CLOUDJUDGE_OIDC_TIMEOUT": "10",
            "CLOUDJUDGE_OIDC_TRUSTED_AMR": "mfa",
        }
        for role, group in ROLE_GROUPS.items():
            env[f"CLOUDJUDGE_OIDC_GROUPS_{role.upper()}"] = group
        env.update(overrides)
        return env


if __name__ == "__main__":
    import sys

    sys.exit(
        servers.run_by_hand(
            "oidc-test-provider",
            lambda: OIDCProvider(
                Path(os.environ.get("CLOUDJUDGE_TEST_OIDC_DIR", "/tmp/cloudjudge-test-oidc")),
                port=int(os.environ.get("CLOUDJUDGE_TEST_OIDC_PORT", "25380")),
                client_secret=os.environ.get("CLOUDJUDGE_TEST_OIDC_SECRET", "")
                or secrets.token_urlsafe(32),
            ),
            sys.argv[1:],
        )
    )
