"""Property (hypothesis): any JSON, through the CLI (in-process), the Python
API and ``POST /api/v1/judgements``, is either judged, with the same decision
on all three, or refused naming a field (exit 2 / HTTP 422 or 400 with a
``path``); never a traceback or a 500 (issue 14)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import cloudjudge
from cloudjudge.engine import RequestError
from test_cli import run

pytestmark = pytest.mark.django_db

SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
WORDS = {
    "method": st.sampled_from(
        ["local_breakout", "internet_pc", "lgwan_asp", "government_cloud", "x"]
    ),
    "confidentiality": st.sampled_from(["1", "2", "3A", "3B", "3C", "4"]),
    "breakout_usage": st.sampled_from(["file_import", "no_file_import", "auth_only", None]),
    "listings": st.lists(st.sampled_from(["ismap", "ismap_liu", "lgwan_asp", "x"]), max_size=2),
}
# Requests of the right shape with wrong or right values, and any JSON at all.
REQUESTS = (
    st.fixed_dictionaries(
        {
            "service": st.fixed_dictionaries(
                {"name": st.text(max_size=10)}, optional={"listings": WORDS["listings"] | VALUES}
            ),
            "data": st.fixed_dictionaries(
                {"confidentiality": WORDS["confidentiality"] | VALUES},
                optional={"my_number": st.booleans() | VALUES},
            ),
            "connection": st.fixed_dictionaries(
                {"method": WORDS["method"]},
                optional={"breakout_usage": WORDS["breakout_usage"] | VALUES},
            ),
        },
        optional={
            "exceptions": st.dictionaries(
                st.sampled_from(["internet_only_function", "council_approved_legacy", "x"]),
                st.booleans() | VALUES,
                max_size=2,
            )
        },
    )
    | VALUES
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=REQUESTS)
def test_any_json_is_judged_alike_or_refused_naming_a_field(body, api, applicant):
    text = json.dumps(body, ensure_ascii=False)
    try:
        expected = cloudjudge.judge(body) if isinstance(body, dict) else None
    except RequestError as exc:
        expected = None
        assert exc.errors and all(hasattr(e, "path") for e in exc.errors)

    client = api(applicant)
    client.raise_request_exception = False
    response = client.post("/api/v1/judgements", text, content_type="application/json")
    cli = run("judge", "-", "--format", "json", stdin=text)
    assert b"Traceback" not in cli.stderr

    event("judged" if expected is not None else "refused")
    if expected is None:
        assert response.status_code in (400, 422), response.content[:300]
        assert all("path" in e and e["msg"] for e in response.json()["detail"])
        assert cli.returncode == 2 and cli.stdout == b""
    else:
        assert response.status_code == 200, response.content[:300]
        assert response.json() == expected
        assert cli.returncode == 0
        assert json.loads(cli.stdout) == expected
