"""Any JSON at all, through the Python API and the CLI: a decision, or a rejection
naming the field, never a traceback (issue 14).

The values are arbitrary JSON, and valid requests with one part replaced by
arbitrary JSON (which reaches deeper into the schema than random JSON does).
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cloudjudge
from cloudjudge.engine import RequestError, parse_request_json

CLI = Path(sys.executable).parent / "cloudjudge"

JSON: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["3B", "lgwan_asp", "ismap", "yes", "1", "local_breakout"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=16,
)


def any_json(valid: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[Any]:
    """Arbitrary JSON, valid requests, and valid requests with one field or part
    replaced by arbitrary JSON."""

    @st.composite
    def damaged(draw: st.DrawFn) -> Any:
        request = copy.deepcopy(draw(valid))
        part = draw(st.sampled_from(["service", "data", "connection", "exceptions", "extra"]))
        replacement = draw(JSON)
        fields = request.get(part)
        if isinstance(fields, dict) and fields and draw(st.booleans()):
            fields[draw(st.sampled_from(sorted(fields)))] = replacement
        else:
            request[part] = replacement
        return request

    return JSON | damaged() | valid


def _judged_or_named(value: Any) -> None:
    try:
        decision = cloudjudge.judge(value)
    except RequestError as exc:
        assert exc.errors
        if isinstance(value, dict):
            assert all(error.path for error in exc.errors), exc.errors
        return
    assert decision["verdict"] in {"prohibited", "approval_required", "permitted"}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_python_api_judges_or_names_the_field(request_dicts, data):
    value = data.draw(any_json(request_dicts))
    _judged_or_named(value)
    text = json.dumps(value)
    try:
        parsed = parse_request_json(text)
    except RequestError:
        return
    assert cloudjudge.judge(parsed) == cloudjudge.judge(value)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_cli_judges_or_names_the_field_line_by_line(request_dicts, data):
    """Through ``cloudjudge judge --format jsonl``: every line is either one decision on
    stdout or 「行 N: field: message」 on stderr; exit 2 iff a line was refused."""
    values = data.draw(st.lists(any_json(request_dicts), min_size=1, max_size=25))
    lines = [json.dumps(v, ensure_ascii=False) for v in values]
    result = subprocess.run(
        [str(CLI), "judge", "-f", "jsonl", "-"],
        input="".join(f"{line}\n" for line in lines).encode(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr
    refused = set()
    for problem in stderr.splitlines():
        number, _, rest = problem.partition(": ")
        assert number.startswith("行 "), problem
        n = int(number.removeprefix("行 "))
        refused.add(n)
        if isinstance(values[n - 1], dict):
            assert rest.split(": ")[0] and not rest.startswith(" "), problem
    judged = result.stdout.decode().splitlines()
    assert len(judged) + len(refused) == len(values)
    assert result.returncode == (2 if refused else 0)
    expected = [cloudjudge.judge(v) for n, v in enumerate(values, 1) if n not in refused]
    assert [json.loads(line) for line in judged] == expected
