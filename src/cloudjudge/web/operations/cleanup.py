"""What a process killed halfway leaves behind, found and removed.

Every change of the register is one database transaction, so a process that
dies (SIGKILL, a power cut, the OOM killer) leaves the database with all of a
change or none of it. Files cannot join that transaction: an evidence file
or a questionnaire workbook is written to the storage just before its row is
committed, so a process killed in between leaves a stored file that no row
refers to; a backup or a restore killed halfway leaves its work folder. This
module lists both kinds (``cloudjudge cleanup``) and removes them
(``--delete``).

A stored file counts as an orphan only when it is older than a grace period
(default an hour): a file stored a moment ago may belong to an upload whose
row is about to be committed.
"""

from __future__ import annotations

import datetime
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.core.files.storage import default_storage
from django.utils import timezone

from cloudjudge.web.operations.backup import referenced_files, stale_work_folders, storage_files

DEFAULT_GRACE = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class Leftover:
    #: ``"file"``: a stored file no row refers to; ``"folder"``: a dead run's work folder.
    kind: str
    #: The storage name (files) or the filesystem path (folders).
    name: str
    size: int
    modified: datetime.datetime

    def remove(self) -> None:
        if self.kind == "file":
            default_storage.delete(self.name)
        else:
            shutil.rmtree(self.name, ignore_errors=True)


def _size_of(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def orphan_files(grace: datetime.timedelta = DEFAULT_GRACE) -> Iterator[Leftover]:
    """Stored files older than ``grace`` that no ``FileField`` of any row names."""
    referenced = referenced_files()
    cutoff = timezone.now() - grace
    for name in storage_files():
        if name in referenced:
            continue
        modified = default_storage.get_modified_time(name)
        if modified <= cutoff:
            yield Leftover("file", name, default_storage.size(name), modified)


def work_folders(backup_folders: Iterable[str | Path] = ()) -> Iterator[Leftover]:
    """Work folders of dead backups (in ``backup_folders``: where archives are
    written) and of dead restores (in the temporary directory)."""
    for folder in [tempfile.gettempdir(), *backup_folders]:
        for path in stale_work_folders(folder):
            modified = datetime.datetime.fromtimestamp(path.stat().st_mtime, tz=datetime.UTC)
            yield Leftover("folder", str(path), _size_of(path), modified)


def leftovers(
    backup_folders: Iterable[str | Path] = (), grace: datetime.timedelta = DEFAULT_GRACE
) -> list[Leftover]:
    return [*orphan_files(grace), *work_folders(backup_folders)]
