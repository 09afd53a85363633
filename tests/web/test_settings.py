"""Settings from the environment: production refuses to start without a secret
key, and turns on the secure defaults."""

import os
import subprocess
import sys
from pathlib import Path

PROBE = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
    "s.SECURE_SSL_REDIRECT, s.ALLOWED_HOSTS, s.DATABASES['default']['ENGINE'], "
    "s.PASSWORD_HASHERS[0].rsplit('.', 1)[1], s.CLOUDJUDGE_REVIEW_INTERVAL_DAYS)"
)


def run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDJUDGE_", "DATABASE"))}
    clean.update(
        DJANGO_SETTINGS_MODULE="cloudjudge.web.settings", CLOUDJUDGE_VAR_DIR=str(tmp_path), **env
    )
    return subprocess.run(
        [sys.executable, "-c", PROBE], env=clean, capture_output=True, text=True, timeout=60
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = run(tmp_path, CLOUDJUDGE_DEBUG="0")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "CLOUDJUDGE_SECRET_KEY" in result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_production_settings_are_secure(tmp_path):
    result = run(
        tmp_path,
        CLOUDJUDGE_DEBUG="0",
        CLOUDJUDGE_SECRET_KEY="k" * 60,
        CLOUDJUDGE_ALLOWED_HOSTS="cloudjudge.city.example.jp",
        DATABASE_URL="postgres://u:p@db.example/cloudjudge",
        CLOUDJUDGE_REVIEW_INTERVAL_DAYS="180",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "True",
        "True",
        "31536000",
        "True",
        "['cloudjudge.city.example.jp']",
        "django.db.backends.postgresql",
        "Argon2PasswordHasher",
        "180",
    ]


def test_development_generates_and_keeps_a_secret_key(tmp_path):
    first = run(tmp_path)
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "secret_key"
    key = key_file.read_text()
    assert len(key) > 50 and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert run(tmp_path).returncode == 0
    assert key_file.read_text() == key
    assert first.stdout.split()[0] == "True"
    assert "sqlite3" in first.stdout
