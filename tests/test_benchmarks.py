"""``make bench`` runs benchmarks/ outside the suite: what they import from
cloudjudge must exist, the code they hand to subprocesses as text included
(a module moved to ``web/files`` left ``benchmarks/hostile.py`` naming its
old home, and ``make bench`` stopped there)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
IMPORT = re.compile(r"^\s*from (cloudjudge[\w.]*) import \(?([\w, ]+)", re.MULTILINE)


def defines(module: str, name: str) -> bool:
    """``module`` has a submodule ``name`` or a top-level ``name`` (defined
    or imported there), read from the source: nothing is imported."""
    folder = SRC / module.replace(".", "/")
    if (folder / f"{name}.py").exists() or (folder / name / "__init__.py").exists():
        return True
    source = folder / "__init__.py" if folder.is_dir() else folder.with_suffix(".py")
    if not source.exists():
        return False
    patterns = (
        rf"^(?:async def|def|class) {name}\b",
        rf"^{name}\s*[:=]",
        rf"^\s*(?:from \S+ )?import .*\b{name}\b",
        rf"^\s+{name},?\s*$",  # one name a line of a parenthesised import
    )
    text = source.read_text(encoding="utf-8")
    return any(re.search(p, text, re.MULTILINE) for p in patterns)


def test_every_cloudjudge_name_a_benchmark_imports_exists():
    missing = []
    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        for module, names in IMPORT.findall(script.read_text(encoding="utf-8")):
            for name in (n.strip() for n in names.split(",")):
                if name and not defines(module, name):
                    missing.append(f"{script.name}: from {module} import {name}")
    assert not missing
    assert defines("cloudjudge.web.files", "uploads")
    assert not defines("cloudjudge.web.register", "uploads")  # the old home, gone
