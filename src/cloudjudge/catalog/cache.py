"""Work derived from a catalog file, kept on disk between runs.

Loading a catalog checks every rule with CEL and the engine then asks CEL for
each rule's answer over every combination of facts: most of the start-up time
of ``cloudjudge judge FILE``. Both depend only on the catalog file's bytes (and
on this program's version), so their results are kept as JSON under a key
derived from those bytes, like Python's ``__pycache__``: an edited catalog has
another key and is checked again, and an unreadable, foreign or damaged entry
is ignored and rebuilt.

The folder is ``$CLOUDJUDGE_CACHE_DIR``, else ``$XDG_CACHE_HOME/cloudjudge``,
else ``~/.cache/cloudjudge``; ``CLOUDJUDGE_CACHE_DIR=off`` turns the cache off.
A folder that cannot be written to only costs the time saved.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

#: Part of every key: entries written by another version are never read.
FORMAT = "cloudjudge-cache-2"


def key_for(*parts: bytes | str) -> str:
    digest = hashlib.sha256(FORMAT.encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def cache_dir() -> Path | None:
    configured = os.environ.get("CLOUDJUDGE_CACHE_DIR", "")
    if configured == "off":
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "cloudjudge"


def _path(kind: str, key: str) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / f"{kind}-{key[:40]}.json"


def read(kind: str, key: str) -> Any | None:
    """The value kept under ``key``, or ``None`` when there is none usable."""
    path = _path(kind, key)
    if path is None:
        return None
    try:
        entry = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != key:
        return None
    return entry.get("value")


def write(kind: str, key: str, value: Any) -> None:
    """Keep ``value`` under ``key``; written whole or not at all, never fails."""
    path = _path(kind, key)
    if path is None:
        return
    import tempfile  # only when writing, which a warm start never does

    text = json.dumps({"key": key, "value": value}, ensure_ascii=False, separators=(",", ":"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{kind}-", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
