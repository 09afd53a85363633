"""The rules of the mypy baseline that make lint holds the code to: a new
error fails, a fixed one must leave the list, and the core may have none."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from collections import Counter
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "mypy-baseline"


def load_script():
    loader = importlib.machinery.SourceFileLoader("mypy_baseline", str(SCRIPT))
    spec = importlib.util.spec_from_loader("mypy_baseline", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


WEB_ERROR = "src/cloudjudge/web/register/views.py: [arg-type] Argument 1 has incompatible type"
CORE_ERROR = "src/cloudjudge/engine/judge.py: [return-value] Incompatible return value type"


def test_an_error_not_in_the_list_is_new():
    outside, new, fixed = load_script().compare(Counter([WEB_ERROR]), Counter())
    assert (outside, dict(new), dict(fixed)) == ([], {WEB_ERROR: 1}, {})


def test_a_second_copy_of_a_listed_error_is_new_too():
    _, new, _ = load_script().compare(Counter({WEB_ERROR: 2}), Counter({WEB_ERROR: 1}))
    assert dict(new) == {WEB_ERROR: 1}


def test_a_fixed_error_is_reported_so_the_list_shrinks():
    _, new, fixed = load_script().compare(Counter(), Counter([WEB_ERROR]))
    assert (dict(new), dict(fixed)) == ({}, {WEB_ERROR: 1})


def test_the_core_may_not_be_listed():
    outside, _, _ = load_script().compare(Counter([CORE_ERROR]), Counter([CORE_ERROR]))
    assert outside == [CORE_ERROR]


def test_the_committed_list_holds_web_errors_only():
    script = load_script()
    assert all(entry.startswith(script.WEB) for entry in script.read_baseline())
