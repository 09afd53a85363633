"""Production settings are the default and pass ``manage.py check --deploy``."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path


def run(tmp_path: Path, args: list[str], **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        # Nothing of the test run leaks in (e.g. the e2e tests' DJANGO_ALLOW_ASYNC_UNSAFE).
        if not k.startswith(("CLOUDJUDGE_", "DATABASE", "PYTEST_", "DJANGO_"))
    }
    clean.update(
        DJANGO_SETTINGS_MODULE="cloudjudge.web.settings", CLOUDJUDGE_VAR_DIR=str(tmp_path), **env
    )
    return subprocess.run(
        [sys.executable, *args], env=clean, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = run(
        tmp_path,
        ["-m", "django", "check", "--deploy", "--fail-level", "DEBUG"],
        CLOUDJUDGE_DEBUG="0",
        CLOUDJUDGE_SECRET_KEY=secrets.token_urlsafe(50),
        CLOUDJUDGE_ALLOWED_HOSTS="cloudjudge.city.example.jp",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_is_the_default(tmp_path):
    """Without CLOUDJUDGE_DEBUG (and outside pytest) the settings are the
    production ones: no secret key, no start."""
    result = run(tmp_path, ["-c", "import django; django.setup()"])
    assert result.returncode != 0
    assert "CLOUDJUDGE_SECRET_KEY is not set" in result.stderr
    probe = "import django; django.setup(); from django.conf import settings as s; " + (
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT)"
    )
    result = run(tmp_path, ["-c", probe], CLOUDJUDGE_SECRET_KEY="k" * 60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "True"]


def test_make_run_turns_development_on():
    makefile = Path(__file__).resolve().parents[3] / "Makefile"
    text = makefile.read_text()
    recipe = text.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    commands = [line.strip() for line in recipe.splitlines()[1:] if line.startswith("\t")]
    assert commands and all(c.startswith("CLOUDJUDGE_DEBUG=1 ") for c in commands)
