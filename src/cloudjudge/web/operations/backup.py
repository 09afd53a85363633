"""Backing up and restoring the whole register: the database and the files.

``cloudjudge backup FILE`` writes one archive (a gzip-compressed tar)::

    manifest.json                  what is inside, with a SHA-256 for every file
    database/cloudjudge.sqlite3    SQLite: a copy made with SQLite's online backup API
    database/cloudjudge.pgdump     PostgreSQL: ``pg_dump --format=custom``
    media/...                      every file in the default storage (the evidence)

The manifest holds the time (UTC), the cloudjudge version, the database vendor,
the applied Django migrations, the audit chain's newest entry, and the path,
size and SHA-256 of every file. The archive is written under a temporary name
and renamed when complete, readable by its owner only: it holds password
hashes and TOTP secrets.

``cloudjudge restore FILE`` first reads the whole archive and checks every
file against the manifest (and that nothing else is in it), then refuses a
backup of another database vendor, a backup made by a newer cloudjudge (with
migrations this one does not know) and, unless ``--force``, a database that
already holds data. Only then does it replace the database (SQLite's backup
API the other way round; ``pg_restore --clean --if-exists --single-transaction``)
and put the files back through the storage API. Both commands are recorded in
the audit trail, and restore verifies the chain afterwards.

Stop the application (or at least writes) while restoring. PostgreSQL tools
are looked for in ``CLOUDJUDGE_PG_BIN``, on ``PATH``, then in the newest
``/usr/lib/postgresql/*/bin``.
"""

from __future__ import annotations

import datetime
import glob
import hashlib
import io
import json
import os
import posixpath
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

import cloudjudge

FORMAT = "cloudjudge-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEDIA_PREFIX = "media/"
DATABASE_FILES = {
    "sqlite": "database/cloudjudge.sqlite3",
    "postgresql": "database/cloudjudge.pgdump",
}
VENDOR_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
#: Tables that a freshly migrated, empty database already fills.
SCHEMA_TABLES = frozenset({"django_migrations", "django_content_type", "auth_permission"})
CHUNK = 1024 * 1024


class BackupError(Exception):
    """Why a backup or a restore was refused or failed (a Japanese message)."""


Say = Callable[[str], None]


def _quiet(message: str) -> None:
    pass


# --------------------------------------------------------------------------- helpers


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def vendor() -> str:
    if connection.vendor not in DATABASE_FILES:
        raise BackupError(
            f"データベース {connection.vendor} のバックアップには対応していません"
            "（SQLite と PostgreSQL のみ）。"
        )
    return connection.vendor


def applied_migrations() -> dict[str, list[str]]:
    """``{app_label: [migration, ...]}`` applied in the current database."""
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return {}
    applied: dict[str, list[str]] = {}
    for app_label, name in sorted(recorder.applied_migrations()):
        applied.setdefault(app_label, []).append(name)
    return applied


def user_tables_with_rows() -> list[str]:
    """Tables holding data (not just what ``migrate`` puts in an empty database)."""
    tables = set(connection.introspection.table_names())
    found = []
    with connection.cursor() as cursor:
        for table in sorted(tables - SCHEMA_TABLES):
            if table.startswith("sqlite_"):
                continue
            cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")
            if cursor.fetchone() is not None:
                found.append(table)
    return found


def storage_files(storage=None, path: str = "") -> Iterator[str]:
    """Every file name in ``storage`` (default: the evidence storage), recursively."""
    storage = storage or default_storage
    try:
        directories, files = storage.listdir(path)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield posixpath.join(path, name) if path else name
    for name in sorted(directories):
        yield from storage_files(storage, posixpath.join(path, name) if path else name)


def referenced_files() -> set[str]:
    """File names the database refers to (every ``FileField`` of every model)."""
    names: set[str] = set()
    for model in apps.get_models():
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, models.FileField):
                values = model._base_manager.exclude(**{model_field.name: ""})
                names.update(v for v in values.values_list(model_field.name, flat=True) if v)
    return names


_SAFE_MEDIA = re.compile(r"^[^/\\\x00]+(/[^/\\\x00]+)*$")


def safe_media_name(name: str) -> bool:
    """A relative storage name with no ``..``, ``.``, empty or absolute part."""
    return bool(_SAFE_MEDIA.match(name)) and not any(
        part in {"", ".", ".."} for part in name.split("/")
    )


# --------------------------------------------------------------------------- PostgreSQL


def pg_tool(name: str) -> str:
    """The path of ``pg_dump`` / ``pg_restore`` / ``psql``."""
    candidates = []
    if os.environ.get("CLOUDJUDGE_PG_BIN"):
        candidates.append(Path(os.environ["CLOUDJUDGE_PG_BIN"]) / name)
    on_path = shutil.which(name)
    if on_path:
        candidates.append(Path(on_path))

    def version(path: str) -> tuple[int, ...]:
        number = Path(path).parent.name
        return tuple(int(p) for p in number.split(".") if p.isdigit())

    for directory in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        candidates.append(Path(directory) / name)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise BackupError(
        f"{name} が見つかりません。PostgreSQL のクライアント（postgresql-client）を入れるか、"
        "CLOUDJUDGE_PG_BIN にその bin ディレクトリを設定してください。"
    )


_PG_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "connect_timeout": "PGCONNECT_TIMEOUT",
}


def pg_environment() -> dict[str, str]:
    """The connection settings as libpq environment variables (the password
    never appears on a command line)."""
    settings_dict = connection.settings_dict
    env = dict(os.environ)
    for key, variable in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if settings_dict.get(key):
            env[variable] = str(settings_dict[key])
    for option, variable in _PG_OPTIONS.items():
        value = (settings_dict.get("OPTIONS") or {}).get(option)
        if value:
            env[variable] = str(value)
    return env


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(
        command, env=pg_environment(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise BackupError(f"{what}に失敗しました（終了状態 {result.returncode}）: {detail}")


# --------------------------------------------------------------------------- work folders

#: A backup works in a hidden folder beside its archive, a restore in one in
#: the temporary directory; both are named with the process ID, so that what
#: a killed run leaves behind is recognisable (:func:`stale_work_folders`): the
#: next backup into the same folder removes it, ``cloudjudge cleanup`` lists it.
BACKUP_WORK_PREFIX = ".cloudjudge-backup-"
RESTORE_WORK_PREFIX = "cloudjudge-restore-"
_WORK_FOLDER = re.compile(r"^\.?cloudjudge-(?:backup|restore)-(\d+)-")


def _work_folder(prefix: str, parent: str | os.PathLike | None = None) -> Path:
    """A new private (0700) folder named ``PREFIX<pid>-<random>``."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def stale_work_folders(folder: str | os.PathLike) -> list[Path]:
    """Work folders in ``folder`` left by a backup or restore whose process is
    gone (killed, or the machine stopped): safe to remove."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    found = []
    for name in names:
        match = _WORK_FOLDER.match(name)
        path = Path(folder) / name
        if match and path.is_dir() and not path.is_symlink() and not _running(int(match[1])):
            found.append(path)
    return found


# --------------------------------------------------------------------------- backup


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    sha256: str
    missing: list[str] = field(default_factory=list)


def _dump_database(target: Path, kind: str) -> None:
    if kind == "sqlite":
        connection.ensure_connection()
        destination = sqlite3.connect(target)
        try:
            connection.connection.backup(destination)
        finally:
            destination.close()
        return
    name = connection.settings_dict["NAME"]
    _run(
        [
            pg_tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            "--no-password",
            f"--file={target}",
            f"--dbname={name}",
        ],
        "pg_dump によるデータベースの書き出し",
    )


def _audit_head() -> dict[str, Any] | None:
    from cloudjudge.web.audit.models import AuditEntry

    newest = AuditEntry.objects.order_by("-sequence").only("sequence", "hash").first()
    if newest is None:
        return None
    return {"sequence": newest.sequence, "hash": newest.hash}


def _record_backup(path: Path, kind: str) -> None:
    from cloudjudge.web.audit.models import Action, AuditEntry
    from cloudjudge.web.audit.trail import record

    if AuditEntry._meta.db_table not in connection.introspection.table_names():
        return  # a database not migrated yet has no audit trail to write to
    record(
        Action.EXPORT,
        object_type="cloudjudge.backup",
        object_repr=path.name[:255],
        extra={"kind": "backup", "file": str(path), "database": kind},
    )


def make_backup(destination: str | os.PathLike, *, force: bool = False, say: Say = _quiet):
    """Write the archive to ``destination``; returns a :class:`BackupResult`.

    Everything is written in a work folder beside ``destination`` and the
    archive renamed into place when complete: a backup killed halfway leaves
    no archive, only that folder, which the next backup there removes."""
    path = Path(destination).expanduser().resolve()
    if path.exists() and not force:
        raise BackupError(f"{path} は既にあります。上書きするときは --force を付けてください。")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent} というディレクトリがありません。")
    kind = vendor()
    for stale in stale_work_folders(path.parent):
        say(f"中断したバックアップの作業フォルダを削除します: {stale}")
        shutil.rmtree(stale, ignore_errors=True)
    # The backup is itself an export of everything: recorded first, so the
    # archive holds the record of its own making.
    _record_backup(path, kind)
    scratch = _work_folder(BACKUP_WORK_PREFIX, path.parent)
    partial = scratch / "archive.partial"
    try:
        database_file = scratch / "database"
        say(f"データベース（{VENDOR_NAMES[kind]}）を書き出しています…")
        _dump_database(database_file, kind)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": _utc_now(),
            "cloudjudge_version": cloudjudge.__version__,
            "database": {
                "vendor": kind,
                "file": DATABASE_FILES[kind],
                "size": database_file.stat().st_size,
                "sha256": sha256_file(database_file),
            },
            "migrations": applied_migrations(),
            "audit_head": _audit_head(),
            "files": [],
        }
        if kind == "postgresql":
            manifest["database"]["server_version"] = connection.pg_version
        # Files after the database: every file a row of the copy refers to
        # existed before that row was committed.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            archive.add(database_file, DATABASE_FILES[kind], False, filter=_private)
            say("証跡ファイルを書き出しています…")
            for name in storage_files():
                entry = _add_storage_file(archive, name)
                manifest["files"].append(entry)
            data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(_now_ts()), 0o600
            archive.addfile(info, io.BytesIO(data))
        os.replace(partial, path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    backed_up = {entry["path"] for entry in manifest["files"]}
    missing = sorted(referenced_files() - backed_up)
    return BackupResult(path, manifest, sha256_file(path), missing)


def _now_ts() -> float:
    return datetime.datetime.now(datetime.UTC).timestamp()


def _private(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
    return info


def _add_storage_file(archive: tarfile.TarFile, name: str) -> dict[str, Any]:
    """Copy one stored file into the archive (hashing it on the way)."""
    with tempfile.TemporaryFile() as spool:
        digest, size = hashlib.sha256(), 0
        with default_storage.open(name, "rb") as source:
            for chunk in iter(lambda: source.read(CHUNK), b""):
                digest.update(chunk)
                spool.write(chunk)
                size += len(chunk)
        spool.seek(0)
        info = tarfile.TarInfo(MEDIA_PREFIX + name)
        info.size, info.mtime, info.mode = size, int(_now_ts()), 0o600
        archive.addfile(info, spool)
    return {"path": name, "size": size, "sha256": digest.hexdigest()}


# --------------------------------------------------------------------------- restore


@dataclass
class Checked:
    """An archive read and verified into ``folder``."""

    folder: Path
    manifest: dict[str, Any]

    @property
    def database_file(self) -> Path:
        return self.folder / self.manifest["database"]["file"]

    def media_file(self, name: str) -> Path:
        return self.folder / "media" / name


def _load_manifest(data: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"manifest.json を読めません: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("cloudjudge のバックアップではありません（manifest.json の format）。")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"このバックアップの形式（版 {manifest.get('format_version')}）には対応していません。"
        )
    database = manifest.get("database")
    files = manifest.get("files")
    if (
        not isinstance(database, dict)
        or database.get("vendor") not in DATABASE_FILES
        or database.get("file") != DATABASE_FILES[database["vendor"]]
        or not isinstance(files, list)
        or not all(isinstance(f, dict) and safe_media_name(str(f.get("path", ""))) for f in files)
    ):
        raise BackupError("manifest.json の内容が正しくありません。")
    return manifest


def _size(n: int) -> str:
    return f"{n / 1024**3:.1f} GB" if n >= 1024**3 else f"{n / 1024**2:.1f} MB"


def read_and_verify(source: str | os.PathLike, folder: Path) -> Checked:
    """Unpack ``source`` into ``folder`` and check every file's size and
    SHA-256 against the manifest; nothing outside ``folder`` is touched."""
    path = Path(source).expanduser()
    if not path.is_file():
        raise BackupError(f"{path} がありません。")
    expected: dict[str, tuple[int, str]] = {}
    found: dict[str, tuple[int, str]] = {}
    manifest = None
    room = shutil.disk_usage(folder).free
    declared = 0
    try:
        with tarfile.open(path, mode="r:*") as archive:
            for member in archive:
                name = member.name
                if member.isdir():
                    continue
                if not member.isfile():
                    raise BackupError(
                        f"バックアップに通常のファイルでないもの（{name}）があります。"
                    )
                # A tar header states its file's size before the data: a
                # compressed archive that would unpack past the free space
                # (a gzip bomb) is refused before a byte of it is written.
                declared += member.size
                if declared > room:
                    raise BackupError(
                        f"バックアップを展開すると {_size(declared)} 以上になり、"
                        f"作業用フォルダの空き（{_size(room)}）を超えます（{name}）。"
                        "何も変更していません。"
                    )
                if name == MANIFEST:
                    manifest = _load_manifest(archive.extractfile(member).read())
                    continue
                relative = name.removeprefix(MEDIA_PREFIX)
                if name in found or not (
                    name in DATABASE_FILES.values()
                    or (name.startswith(MEDIA_PREFIX) and safe_media_name(relative))
                ):
                    raise BackupError(f"バックアップに想定外のファイル（{name}）があります。")
                target = folder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest, size = hashlib.sha256(), 0
                with archive.extractfile(member) as stream, open(target, "wb") as out:
                    for chunk in iter(lambda: stream.read(CHUNK), b""):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
                found[name] = (size, digest.hexdigest())
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(f"バックアップのファイルを読めません（壊れています）: {exc}") from None
    if manifest is None:
        raise BackupError("バックアップに manifest.json がありません。")
    database = manifest["database"]
    expected[database["file"]] = (database.get("size"), database.get("sha256"))
    for entry in manifest["files"]:
        expected[MEDIA_PREFIX + entry["path"]] = (entry.get("size"), entry.get("sha256"))
    for name in sorted(set(expected) | set(found)):
        if name not in found:
            raise BackupError(f"マニフェストにある {name} がバックアップにありません。")
        if name not in expected:
            raise BackupError(f"バックアップの {name} はマニフェストにありません。")
        if found[name] != tuple(expected[name]):
            raise BackupError(
                f"{name} の SHA-256 又は大きさがマニフェストと一致しません"
                "（バックアップが壊れているか、改変されています）。何も変更していません。"
            )
    return Checked(folder, manifest)


def _unknown_migrations(manifest: dict[str, Any]) -> list[str]:
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return [
        f"{app_label}.{name}"
        for app_label, names in sorted(manifest.get("migrations", {}).items())
        for name in names
        if (app_label, name) not in known
    ]


def _pending_migrations() -> int:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def _restore_database(checked: Checked, kind: str) -> None:
    if kind == "sqlite":
        connection.ensure_connection()
        source = sqlite3.connect(checked.database_file)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
        connection.close()
        return
    name = connection.settings_dict["NAME"]
    connection.close()  # pg_restore drops the tables: hold no locks on them
    _run(
        [
            pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={name}",
            str(checked.database_file),
        ],
        "pg_restore によるデータベースの復元",
    )


def _restore_files(checked: Checked) -> int:
    count = 0
    for entry in checked.manifest["files"]:
        name = entry["path"]
        if default_storage.exists(name):
            default_storage.delete(name)
        with open(checked.media_file(name), "rb") as handle:
            saved = default_storage.save(name, File(handle, name=name))
        if saved != name:
            raise BackupError(f"{name} を同じ名前で保存できませんでした（{saved}）。")
        count += 1
    return count


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    files: int
    pending_migrations: int
    chain_ok: bool
    chain_message: str


def restore_backup(source: str | os.PathLike, *, force: bool = False, say: Say = _quiet):
    """Verify ``source`` completely, then replace the database and the files."""
    kind = vendor()
    with tempfile.TemporaryDirectory(prefix=f"{RESTORE_WORK_PREFIX}{os.getpid()}-") as scratch:
        say("バックアップを検査しています（すべてのファイルの SHA-256）…")
        checked = read_and_verify(source, Path(scratch))
        manifest = checked.manifest
        theirs = manifest["database"]["vendor"]
        if theirs != kind:
            raise BackupError(
                f"このバックアップは {VENDOR_NAMES[theirs]} のデータベースのものです。"
                f"現在の設定のデータベース（{VENDOR_NAMES[kind]}）には復元できません。"
                f"DATABASE_URL を {VENDOR_NAMES[theirs]} のデータベースに向けてから"
                "復元してください。"
                "何も変更していません。"
            )
        unknown = _unknown_migrations(manifest)
        if unknown and not force:
            raise BackupError(
                "このバックアップは、この版の cloudjudge が知らない移行（migration）を含みます"
                f"（{', '.join(unknown[:5])}{' ほか' if len(unknown) > 5 else ''}）。"
                f"バックアップを作った版（{manifest.get('cloudjudge_version')}）以降の"
                " cloudjudge で復元してください。何も変更していません。"
            )
        occupied = user_tables_with_rows()
        if occupied and not force:
            raise BackupError(
                "復元先のデータベースにはデータがあります（"
                f"{', '.join(occupied[:5])}{' ほか' if len(occupied) > 5 else ''}）。"
                "上書きするときは --force を付けてください。何も変更していません。"
            )
        say(f"データベース（{VENDOR_NAMES[kind]}）を復元しています…")
        _restore_database(checked, kind)
        say("証跡ファイルを戻しています…")
        files = _restore_files(checked)
    _record_restore(source, manifest)
    from cloudjudge.web.audit.chain import verify_chain

    result = verify_chain()
    if result.ok:
        message = f"監査ログの連鎖は正常です（{result.checked} 件）。"
    else:
        message = (
            f"監査ログの連鎖が壊れています。最初の異常: #{result.first_broken}: {result.reason}"
        )
    return RestoreResult(manifest, files, _pending_migrations(), result.ok, message)


def _record_restore(source, manifest: dict[str, Any]) -> None:
    from cloudjudge.web.audit.models import Action
    from cloudjudge.web.audit.trail import record

    record(
        Action.UPDATE,
        object_type="cloudjudge.database",
        object_repr="restored from a backup",
        extra={
            "kind": "restore",
            "file": str(source),
            "backup_created_at": manifest.get("created_at"),
            "backup_version": manifest.get("cloudjudge_version"),
            "backup_audit_head": manifest.get("audit_head"),
            "files": len(manifest["files"]),
        },
    )
