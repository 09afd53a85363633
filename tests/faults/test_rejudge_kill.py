"""``cloudjudge rejudge`` killed (SIGKILL) in the middle of applying a
revision: run again, it resumes after the last batch it committed and the
register ends exactly as after a run that was never interrupted (verdicts,
statuses, judgements per application, checklist rows and their work).

Two copies of one seeded SQLite register: one applied in one go, the other
killed once the run's record shows some batches done and not all, then run
again. The revision is test data (tests/fixtures/catalogs)."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

from support.site import ROOT, Site

FIXTURES = ROOT / "tests" / "fixtures" / "catalogs"
NEW = "sakai-cloud-usage-criteria@1.1-example"
COUNT = 240

SEED = f"""
from cloudjudge.web.accounts.models import Department, Role, User
from cloudjudge.web.register import applications, checklist
from cloudjudge.web.register.models import ItemStatus, Service
dept = Department.objects.create(code="d", name="課")
user = User.objects.create_user(
    username="applicant", password="x", role=Role.APPLICANT, department=dept
)
for n in range({COUNT}):
    service = Service(name=f"サービス{{n}}", provider="株式会社")
    service.listings = ["ismap"] if n % 3 else []
    service.isms_certifications = ["iso27001"]
    app = applications.create_application(
        user, service, purpose="試験", confidentiality=["3B", "2"][n % 2],
        method="local_breakout", breakout_usage="file_import",
    )
    rows = list(app.checklist_items.all()[:3])
    for row in rows:
        checklist.update_item(row, user, status=ItemStatus.DONE, note="済")
print(json.dumps({COUNT}))
"""

STATE = """
from cloudjudge.web.register.models import Application, ChecklistItem
apps = [
    [a.number, a.status, a.verdict, a.latest_judgement.criteria_version, a.judgements.count()]
    for a in Application.objects.order_by("number")
]
rows = sorted(
    [r.application.number, r.item_id, r.active, r.status, r.note.split("（")[0]]
    for r in ChecklistItem.objects.select_related("application")
)
print(json.dumps([apps, rows]))
"""


def _progress(db) -> tuple[int, int] | None:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2) as conn:
            row = conn.execute(
                "SELECT done, total FROM register_rejudgerun ORDER BY id DESC LIMIT 1"
            ).fetchone()
    except sqlite3.Error:
        return None
    return row


def test_a_killed_apply_resumes_and_ends_as_an_uninterrupted_one(tmp_path):
    env = {"CLOUDJUDGE_CATALOG_DIRS": str(FIXTURES), "CLOUDJUDGE_CATALOG_VERSION": "1.0"}
    first = Site(tmp_path / "a", f"sqlite:///{tmp_path / 'a.sqlite3'}", **env)
    first.ok("manage", "migrate", "--noinput")
    assert first.value(SEED) == COUNT
    shutil.copy(tmp_path / "a.sqlite3", tmp_path / "b.sqlite3")
    pinned = {**env, "CLOUDJUDGE_CATALOG_VERSION": NEW}
    whole = Site(tmp_path / "a", f"sqlite:///{tmp_path / 'a.sqlite3'}", **pinned)
    killed = Site(tmp_path / "b", f"sqlite:///{tmp_path / 'b.sqlite3'}", **pinned)

    whole.ok("rejudge", "--version", NEW, "--batch-size", "5", "--no-progress")

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cloudjudge.cli",
            "rejudge",
            "--version",
            NEW,
            "--batch-size",
            "5",
            "--no-progress",
        ],
        env=killed.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    seen = None
    while time.monotonic() < deadline and process.poll() is None:
        seen = _progress(tmp_path / "b.sqlite3")
        if seen and 0 < seen[0] < seen[1] // 2:
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.01)
    process.wait()
    assert process.returncode == -signal.SIGKILL, f"not killed mid-run (last seen {seen})"
    stopped = _progress(tmp_path / "b.sqlite3")
    assert stopped is not None and 0 < stopped[0] < COUNT

    killed.ok("rejudge", "--version", NEW, "--batch-size", "5", "--no-progress")
    assert _progress(tmp_path / "b.sqlite3") == (COUNT, COUNT)
    assert killed.value(STATE) == whole.value(STATE)
    runs = killed.value(
        "from cloudjudge.web.register.models import RejudgeRun\n"
        "print(json.dumps(RejudgeRun.objects.count()))"
    )
    assert runs == 1  # the second run resumed the first
