"""The catalog cache: a second load gives the same catalog and tables without CEL,
and a missing, damaged or unwritable cache only costs time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cloudjudge.catalog import cache, load_catalog
from cloudjudge.catalog.loader import DEFAULT_CATALOG
from cloudjudge.engine import Judge, judge, parse_request

REQUEST = {
    "service": {"name": "テスト", "listings": []},
    "data": {"confidentiality": "3B"},
    "connection": {"method": "internet_pc"},
}


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("CLOUDJUDGE_CACHE_DIR", str(folder))
    return folder


def _fresh(catalog_path: Path = DEFAULT_CATALOG) -> dict:
    catalog = load_catalog(catalog_path)
    return judge(parse_request(REQUEST), catalog)  # type: ignore[return-value]


def test_a_second_load_comes_from_the_cache_and_decides_alike(cache_dir: Path):
    first = load_catalog(DEFAULT_CATALOG)
    Judge(first)
    kinds = sorted(p.name.split("-")[0] for p in cache_dir.iterdir())
    assert kinds == ["catalog", "tables"]
    second = load_catalog(DEFAULT_CATALOG)
    assert (second.rules, second.items, second.clauses) == (first.rules, first.items, first.clauses)
    assert second.conditions == first.conditions and second.digest == first.digest
    assert Judge(second).decide(parse_request(REQUEST)) == Judge(first).decide(
        parse_request(REQUEST)
    )


def test_a_warm_start_does_not_import_cel(cache_dir: Path):
    """What makes ``cloudjudge judge FILE`` fast: CEL is needed only to build the cache."""
    script = f"import sys, cloudjudge\ncloudjudge.judge({REQUEST!r})\nprint('cel' in sys.modules)"
    env = {"CLOUDJUDGE_CACHE_DIR": str(cache_dir), "PATH": "/usr/bin:/bin"}
    runs = [
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
        for _ in range(2)
    ]
    assert [r.stdout.strip() for r in runs] == ["True", "False"], [r.stderr for r in runs]


def test_a_damaged_or_foreign_entry_is_ignored(cache_dir: Path):
    expected = _fresh()
    for entry in cache_dir.iterdir():
        entry.write_text("{not json", encoding="utf-8")
    assert _fresh() == expected
    for entry in cache_dir.iterdir():
        kept = json.loads(entry.read_text(encoding="utf-8"))
        entry.write_text(json.dumps({**kept, "key": "another"}), encoding="utf-8")
    assert _fresh() == expected


def test_an_edited_catalog_is_checked_again(cache_dir: Path, tmp_path: Path):
    path = tmp_path / "catalog.yaml"
    path.write_text(DEFAULT_CATALOG.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_catalog(path).digest == load_catalog(DEFAULT_CATALOG).digest
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert load_catalog(path).digest != load_catalog(DEFAULT_CATALOG).digest


def test_no_cache_or_an_unwritable_one_still_works(tmp_path: Path, monkeypatch):
    expected = _fresh()
    monkeypatch.setenv("CLOUDJUDGE_CACHE_DIR", "off")
    assert cache.cache_dir() is None
    assert _fresh() == expected
    blocked = tmp_path / "file"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("CLOUDJUDGE_CACHE_DIR", str(blocked / "cache"))
    assert _fresh() == expected
