"""``cloudjudge cleanup``: what a process killed halfway left behind — stored
files no row refers to, work folders of dead backups and restores — listed,
and removed with ``--delete`` (recorded in the audit log). Files still in use,
files younger than the grace period and live work folders are left alone.
(The kills themselves are in tests/faults/test_sigkill.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from cloudjudge.web.audit.models import Action, AuditEntry
from cloudjudge.web.register import evidence

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_temporary_directory(monkeypatch, tmp_path):
    """Restores work in the temporary directory: the test's own, not the machine's."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))


def cleanup(*args: str) -> str:
    out = StringIO()
    call_command("cleanup", *args, stdout=out)
    return out.getvalue()


def aged(name: str, seconds: float = 7200) -> None:
    path = default_storage.path(name)
    past = time.time() - seconds
    os.utime(path, (past, past))


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_an_orphan_file_older_than_the_grace_period_is_listed_then_removed(
    make_application, applicant
):
    kept = evidence.store(
        make_application(), SimpleUploadedFile("証跡.pdf", b"%PDF-1.4\n%x\n"), applicant
    )
    orphan = default_storage.save("evidence/1/0123456789abcdef", ContentFile(b"%PDF-1.4\n"))
    young = default_storage.save("evidence/1/fedcba9876543210", ContentFile(b"%PDF-1.4\n"))
    aged(kept.file.name)
    aged(orphan)

    listed = cleanup()
    assert f"参照している行のない保存ファイル: {orphan}" in listed
    assert kept.file.name not in listed and young not in listed
    assert "1 件あります。削除するときは --delete" in listed
    assert default_storage.exists(orphan)

    assert "1 件を削除しました" in cleanup("--delete")
    assert not default_storage.exists(orphan)
    assert default_storage.exists(kept.file.name) and default_storage.exists(young)
    entry = AuditEntry.objects.get(action=Action.DELETE, object_type="cloudjudge.leftover")
    assert entry.extra == {"files": [orphan], "folders": []}
    # The young one counts once the grace period is shortened.
    assert young in cleanup("--older-than-minutes", "0")


def test_work_folders_of_dead_runs_are_listed_and_live_ones_left_alone(tmp_path):
    dead = tmp_path / f".cloudjudge-backup-{dead_pid()}-abc123"
    dead.mkdir()
    (dead / "archive.partial").write_bytes(b"\x1f\x8b" + b"0" * 100)
    live = tmp_path / f".cloudjudge-backup-{os.getpid()}-def456"
    live.mkdir()
    unrelated = tmp_path / ".cloudjudge-backup-notes"
    unrelated.mkdir()

    listed = cleanup("--backup-dir", str(tmp_path))
    assert f"中断したバックアップ・復元の作業フォルダ: {dead}（102 バイト" in listed
    assert str(live) not in listed and str(unrelated) not in listed

    cleanup("--backup-dir", str(tmp_path), "--delete")
    assert not dead.exists() and live.exists() and unrelated.exists()


def test_nothing_left_says_so():
    assert "中断した処理の残りはありません" in cleanup()
