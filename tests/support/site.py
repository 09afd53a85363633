"""One cloudjudge installation for tests that run it as an operator would:
the CLI in subprocesses, ``cloudjudge serve`` on a free loopback port, real
PostgreSQL clusters started and stopped by the test, plain HTTP."""

from __future__ import annotations

import contextlib
import hashlib
import http.cookiejar
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG_SERVER = ROOT / "scripts" / "postgres-test-server"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pg_bin() -> Path | None:
    """The newest PostgreSQL server binaries, or None (tests then skip)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name)
    found = [c for c in candidates if (c / "initdb").exists() and (c / "pg_dump").exists()]
    return found[-1] if found else None


class Site:
    """One installation: a database URL, a media folder, a state folder."""

    def __init__(self, folder: Path, database_url: str, **env: str):
        self.folder = folder
        self.media = folder / "media"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "CLOUDJUDGE_MEDIA_ROOT": str(self.media),
            "CLOUDJUDGE_VAR_DIR": str(folder / "var"),
            "CLOUDJUDGE_SECRET_KEY": "site-test-" + "k" * 50,
            "CLOUDJUDGE_DEBUG": "1",
            **env,
        }

    def run(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "cloudjudge.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def ok(self, *args: str) -> subprocess.CompletedProcess:
        result = self.run(*args)
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    def shell(self, code: str) -> str:
        """Run Python in ``cloudjudge manage shell``; its last line of output."""
        return self.ok("manage", "shell", "-c", code).stdout.strip().splitlines()[-1]

    def value(self, code: str):
        """The JSON printed by ``code`` (which must ``print(json.dumps(...))``)."""
        return json.loads(self.shell("import json\n" + code))

    def media_files(self) -> dict[str, str]:
        if not self.media.exists():
            return {}
        return {
            path.relative_to(self.media).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(self.media.rglob("*"))
            if path.is_file()
        }


def token_for(site: Site, username: str) -> str:
    """An API token, issued as an administrator issues one (the last line printed)."""
    return site.ok("manage", "apitoken", username).stdout.strip().splitlines()[-1]


# --------------------------------------------------------------------------- PostgreSQL


class Cluster:
    """A PostgreSQL cluster of the test's own (``scripts/postgres-test-server``
    on a free port and a fresh folder): it may be stopped and started."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.port = free_port()
        # Not under pytest's tmp_path: the postgres user must reach the folder.
        self.folder = Path(tempfile.gettempdir()) / f"cloudjudge-test-pg-{uuid.uuid4().hex[:12]}"
        self.env = {
            **os.environ,
            "CLOUDJUDGE_TEST_PG_PORT": str(self.port),
            "CLOUDJUDGE_TEST_PG_DIR": str(self.folder),
        }

    def start(self) -> None:
        subprocess.run(
            [str(PG_SERVER), "start"], env=self.env, check=True, capture_output=True, timeout=120
        )

    def stop(self) -> None:
        subprocess.run([str(PG_SERVER), "stop"], env=self.env, check=False, timeout=120)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgres://cloudjudge@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres"):
        import psycopg

        return psycopg.connect(self.url(database), autocommit=True)

    def sql(self, statement: str, params=(), database: str = "postgres") -> list[tuple]:
        with contextlib.closing(self.connect(database)) as connection:
            cursor = connection.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def create_database(self, name: str, template: str | None = None) -> None:
        suffix = f" TEMPLATE {template}" if template else ""
        self.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.sql(f"CREATE DATABASE {name}{suffix}")


# --------------------------------------------------------------------------- the server


class Server:
    """``cloudjudge serve`` in its own process group, so that SIGKILL takes
    the master and its workers at once, as a crash or the OOM killer would."""

    def __init__(self, site: Site, log: Path):
        self.site = site
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> Server:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cloudjudge.cli", "serve", "--port", str(self.port)],
                env={"CLOUDJUDGE_WORKERS": "1", "CLOUDJUDGE_THREADS": "4", **self.site.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.base + "/accounts/login/", timeout=5) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise RuntimeError(f"the server did not start: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL to every process of the server, and wait until they are gone."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None


# --------------------------------------------------------------------------- HTTP


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]):
    """A ``multipart/form-data`` body and its content type."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(head.encode() + value.encode() + b"\r\n")
    for name, (filename, data, content_type) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Client:
    """Plain HTTP against one server, with cookies (a session) and an optional bearer token."""

    def __init__(self, base: str, token: str = "", cookies: dict[str, str] | None = None):
        self.base = base
        self.token = token
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )
        host = urllib.parse.urlsplit(base).hostname
        for name, value in (cookies or {}).items():
            self.jar.set_cookie(_cookie(name, value, host))

    def cookie(self, name: str) -> str:
        return next((c.value for c in self.jar if c.name == name), "")

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str = "",
        timeout: float = 30,
        **headers: str,
    ) -> Response:
        request = urllib.request.Request(self.base + path, data=body, method=method)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        if content_type:
            request.add_header("Content-Type", content_type)
        for name, value in headers.items():
            request.add_header(name.replace("_", "-"), value)
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return Response(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, dict(error.headers), error.read())

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post_json(self, path: str, payload, **kwargs) -> Response:
        return self.request(
            "POST", path, json.dumps(payload).encode(), "application/json", **kwargs
        )

    def post_form(self, path: str, fields: dict[str, str], files=None, **kwargs) -> Response:
        if files:
            body, content_type = multipart(fields, files)
        else:
            body = urllib.parse.urlencode(fields).encode()
            content_type = "application/x-www-form-urlencoded"
        return self.request("POST", path, body, content_type, **kwargs)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _cookie(name: str, value: str, host: str) -> http.cookiejar.Cookie:
    return http.cookiejar.Cookie(
        0,
        name,
        value,
        None,
        False,
        host,
        False,
        False,
        "/",
        True,
        False,
        None,
        False,
        None,
        None,
        {},
    )
