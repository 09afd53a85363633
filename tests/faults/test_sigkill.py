"""SIGKILL in the middle of a change (issue 14): the server killed while a
registry import, an application submission or a questionnaire import is
half written, and ``cloudjudge backup`` killed while writing its archive.
After a restart the database holds none of the change (or, done again, all
of it), the audit chain and the register verify, and nothing is left behind
that ``cloudjudge cleanup`` does not list and remove.

"In the middle" is made certain, not hoped for: the test holds the audit
chain's head row (``SELECT ... FOR UPDATE``), which every change takes last,
inside its transaction, to record itself. The server's transaction then
waits with its rows written but not committed; the test sees it waiting in
``pg_stat_activity``, checks in ``pg_locks`` that it has written the change's
table, kills the whole server (master and workers, SIGKILL), and only then
lets go of the row."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

from support.site import ROOT, Client, Cluster, Server, Site, token_for

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REGISTRY_FILE = ROOT / "tests" / "fixtures" / "registries" / "ismap_list.xlsx"

DRAFT = """
from cloudjudge.web.accounts.models import User
from cloudjudge.web.register import applications
from cloudjudge.web.register.models import Service
user = User.objects.get(username="applicant")
app = applications.create_application(
    user, Service(name="障害試験サービス", provider="試験株式会社"), purpose="障害試験",
    confidentiality="2", method="local_breakout", breakout_usage="auth_only",
)
print(json.dumps(app.pk))
"""

#: A session for the security office with its second factor passed, made
#: server-side as Django's ``force_login`` makes one (the login itself is
#: tested in tests/web/accounts).
SECURITY_SESSION = """
import time
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from cloudjudge.web.accounts.models import User
from cloudjudge.web.accounts.sessions import LAST_SEEN, LOGIN_AT
from cloudjudge.web.register.models import Application
user = User.objects.get(username="security")
device = TOTPDevice.objects.create(user=user, name="fault test", confirmed=True)
session = SessionStore()
session.update({
    SESSION_KEY: str(user.pk), HASH_SESSION_KEY: user.get_session_auth_hash(),
    BACKEND_SESSION_KEY: "cloudjudge.web.accounts.backends.LocalBackend",
    DEVICE_ID_SESSION_KEY: device.persistent_id, LOGIN_AT: time.time(), LAST_SEEN: time.time(),
})
session.create()
app = Application.objects.filter(status="in_use", checklist_items__active=True).first()
print(json.dumps([session.session_key, app.pk]))
"""

#: Evidence big enough (random, so gzip cannot shrink it) that the backup is
#: caught writing its archive.
BIG_EVIDENCE = """
import os
from django.core.files.uploadedfile import SimpleUploadedFile
from cloudjudge.web.accounts.models import User
from cloudjudge.web.register import evidence
from cloudjudge.web.register.models import Application
app = Application.objects.filter(status="in_use").first()
user = User.objects.get(username=app.applicant.username)
for n in range(12):
    body = b"%PDF-1.4\\n%" + os.urandom(2 * 1024 * 1024) + b"\\n%%EOF\\n"
    evidence.store(app, SimpleUploadedFile(f"大きな証跡{n}.pdf", body), user)
print(json.dumps(n + 1))
"""


#: What a reader of the register sees: every application with its state and
#: approvers, every evidence row with its file's hash.
REGISTER = """
from cloudjudge.web.register.models import Application, Evidence
apps = [
    [a.number, a.status, a.verdict, a.approved_by_id, a.ciso_approved_by_id, a.latest_judgement_id]
    for a in Application.objects.order_by("number")
]
files = [[e.pk, e.file.name, e.sha256, e.size] for e in Evidence.objects.order_by("pk")]
print(json.dumps([apps, files]))
"""


def database_of(site: Site) -> str:
    return site.env["DATABASE_URL"].rsplit("/", 1)[1]


@contextlib.contextmanager
def chain_held(cluster: Cluster, database: str):
    """The audit chain's head row locked by the test until the block ends."""
    import psycopg

    with contextlib.closing(psycopg.connect(cluster.url(database))) as connection:
        connection.execute("SELECT last_sequence FROM audit_chainhead WHERE id = 1 FOR UPDATE")
        try:
            yield
        finally:
            connection.rollback()


def blocked_writer(cluster: Cluster, database: str, timeout: float = 60) -> tuple[int, set[str]]:
    """The server's backend waiting for the head row, and the tables it has
    written (``RowExclusiveLock``) in its open transaction."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = cluster.sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' "
            "AND query LIKE %s",
            (database, "%audit_chainhead%"),
        )
        if rows:
            pid = rows[0][0]
            written = cluster.sql(
                "SELECT relation::regclass::text FROM pg_locks WHERE pid = %s "
                "AND mode = 'RowExclusiveLock' AND relation IS NOT NULL",
                (pid,),
                database=database,  # regclass names resolve in the database itself
            )
            return pid, {name for (name,) in written}
        time.sleep(0.02)
    raise AssertionError("the server never reached the audit record of its change")


def gone(cluster: Cluster, pid: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while cluster.sql("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)):
        assert time.monotonic() < deadline, f"backend {pid} still there"
        time.sleep(0.05)


def kill_while_writing(server: Server, cluster: Cluster, site: Site, send, table: str) -> None:
    """Send a request, and SIGKILL the server while its change is half written."""
    database = database_of(site)
    outcome: list = []
    with chain_held(cluster, database):
        thread = threading.Thread(target=lambda: outcome.append(_attempt(send)), daemon=True)
        thread.start()
        pid, written = blocked_writer(cluster, database)
        assert table in written, f"{table} not written yet: {written}"
        server.kill()
    thread.join(30)
    assert outcome and isinstance(outcome[0], Exception), f"the request was answered: {outcome}"
    gone(cluster, pid)


def _attempt(send):
    try:
        return send()
    except Exception as exc:  # the connection dies with the server
        return exc


def count(cluster: Cluster, site: Site, sql: str, *params) -> int:
    return cluster.sql(sql, params, database=database_of(site))[0][0]


def assert_verified(site: Site, *options: str) -> None:
    result = site.run("audit", "verify", *options)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "監査ログの連鎖は正常です" in result.stdout
    assert "台帳は監査ログと一致しています" in result.stdout


def test_killed_during_a_submission(cluster, site, server):
    pk = site.value(DRAFT)
    api = Client(server.base, token_for(site, "applicant"))
    entries = count(cluster, site, "SELECT count(*) FROM audit_auditentry")

    def submit():
        return api.post_json(f"/api/v1/applications/{pk}/actions", {"action": "submit"})

    kill_while_writing(server, cluster, site, submit, "register_application")

    status = cluster.sql(
        "SELECT status FROM register_application WHERE id = %s", (pk,), database=database_of(site)
    )
    assert status == [("draft",)]
    assert (
        count(
            cluster,
            site,
            "SELECT count(*) FROM register_statuschange WHERE application_id = %s",
            pk,
        )
        == 0
    )
    assert count(cluster, site, "SELECT count(*) FROM audit_auditentry") == entries
    assert_verified(site)

    server.start()
    answer = submit()
    assert answer.status == 200, answer.text
    assert answer.json()["status"] == "submitted"
    assert_verified(site)


def test_killed_during_a_registry_import(cluster, site, server):
    api = Client(server.base, token_for(site, "security"))
    snapshots = "SELECT count(*) FROM registries_registrysnapshot"
    entries = "SELECT count(*) FROM registries_registryentry"
    before = count(cluster, site, snapshots), count(cluster, site, entries)

    def upload():
        return api.post_form(
            "/api/v1/registries/imports",
            {"kind": "ismap"},
            files={"file": ("ismap_list.xlsx", REGISTRY_FILE.read_bytes(), XLSX)},
        )

    kill_while_writing(server, cluster, site, upload, "registries_registryentry")

    assert (count(cluster, site, snapshots), count(cluster, site, entries)) == before
    assert_verified(site)

    server.start()
    answer = upload()
    assert answer.status == 201, answer.text
    assert count(cluster, site, snapshots) == before[0] + 1
    assert count(cluster, site, entries) > before[1]
    assert_verified(site)


def test_killed_during_a_questionnaire_import(cluster, site, server):
    session, pk = site.value(SECURITY_SESSION)
    browser = Client(server.base, cookies={"sessionid": session})
    workbook = browser.get(f"/applications/{pk}/questionnaire.xlsx")
    assert workbook.status == 200, workbook.text[:500]
    page = f"/applications/{pk}/questionnaire/import/"
    assert browser.get(page).status == 200
    imports = "SELECT count(*) FROM questionnaires_questionnaireimport"
    before = count(cluster, site, imports)

    def upload():
        return browser.post_form(
            page,
            {"csrfmiddlewaretoken": browser.cookie("csrftoken")},
            files={"workbook": ("確認票.xlsx", workbook.body, XLSX)},
        )

    kill_while_writing(server, cluster, site, upload, "questionnaires_questionnaireimport")

    assert count(cluster, site, imports) == before
    assert_verified(site, "--files")
    # The workbook was stored just before the row that would refer to it.
    listed = site.ok("cleanup", "--older-than-minutes", "0").stdout
    assert "参照している行のない保存ファイル: questionnaires/" in listed, listed
    site.ok("cleanup", "--older-than-minutes", "0", "--delete")
    assert "残りはありません" in site.ok("cleanup", "--older-than-minutes", "0").stdout

    server.start()
    answer = upload()
    assert answer.status == 302, answer.text[:2000]
    assert count(cluster, site, imports) == before + 1
    assert "残りはありません" in site.ok("cleanup", "--older-than-minutes", "0").stdout
    assert_verified(site, "--files")


def test_killed_during_a_backup(cluster, site, tmp_path):
    assert site.value(BIG_EVIDENCE) == 12
    folder = tmp_path / "backups"
    folder.mkdir()
    archive = folder / "cloudjudge.tar.gz"
    backup = subprocess.Popen(
        [sys.executable, "-m", "cloudjudge.cli", "backup", str(archive)],
        env=site.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while not any(
        p.stat().st_size > 0 for p in folder.glob(".cloudjudge-backup-*/archive.partial")
    ):
        assert backup.poll() is None, "the backup ended before it was caught writing"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.killpg(backup.pid, signal.SIGKILL)  # the command and its pg_dump
    backup.wait(30)

    assert not archive.exists()
    (leftover,) = folder.glob(".cloudjudge-backup-*")
    listed = site.ok("cleanup", "--backup-dir", str(folder)).stdout
    assert f"中断したバックアップ・復元の作業フォルダ: {leftover}" in listed
    assert_verified(site)

    again = site.ok("backup", str(archive))
    assert f"中断したバックアップの作業フォルダを削除します: {leftover}" in again.stderr
    assert archive.exists() and not list(folder.glob(".cloudjudge-backup-*"))

    # The archive restores onto a fresh database: the same register, every file.
    fresh = Site(tmp_path / "fresh", cluster.url(f"{database_of(site)}_restored"))
    fresh.folder.mkdir()
    cluster.create_database(database_of(fresh))
    try:
        fresh.ok("restore", str(archive))
        assert_verified(fresh, "--files")
        assert fresh.media_files() == site.media_files()
        assert fresh.value(REGISTER) == site.value(REGISTER)
    finally:
        cluster.sql(f"DROP DATABASE IF EXISTS {database_of(fresh)} WITH (FORCE)")
