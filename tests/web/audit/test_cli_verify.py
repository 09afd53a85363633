"""`cloudjudge audit verify` as an operator runs it from cron: a real process on
a real SQLite file, exit status 0 for an intact chain and 1 after tampering."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

CLOUDJUDGE = Path(sys.executable).parent / "cloudjudge"


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLOUDJUDGE), *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_verify_passes_on_an_intact_chain_and_names_the_tampered_entry(tmp_path):
    database = tmp_path / "cloudjudge.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "CLOUDJUDGE_VAR_DIR": str(tmp_path),
    }
    assert run("manage", "migrate", "-v0", env=env).returncode == 0
    assert run("manage", "load_demo", env=env).returncode == 0

    intact = run("audit", "verify", env=env)
    assert intact.returncode == 0, intact.stderr
    assert "正常" in intact.stdout

    with sqlite3.connect(database) as db:
        db.execute("UPDATE audit_auditentry SET object_repr = 'forged' WHERE sequence = 2")

    tampered = run("audit", "verify", env=env)
    assert tampered.returncode == 1
    assert "最初の異常: #2" in tampered.stderr
