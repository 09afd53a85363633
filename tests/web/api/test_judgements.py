"""``POST /api/v1/judgements``: the engine over HTTP, with the same decision as
``cloudjudge.judge`` and ``cloudjudge judge --format json``, and the engine's
field paths in 422s."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import cloudjudge
from cloudjudge.engine import RequestError, parse_request

pytestmark = pytest.mark.django_db

URL = "/api/v1/judgements"
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"

GROUPWARE = {
    "service": {
        "name": "クラウド型グループウェア",
        "provider": "株式会社サンプルクラウド",
        "listings": ["ismap"],
        "isms_certifications": ["iso27001", "iso27017"],
    },
    "data": {"confidentiality": "3B", "my_number": False},
    "connection": {"method": "local_breakout", "breakout_usage": "file_import"},
}


def variant(**parts):
    body = copy.deepcopy(GROUPWARE)
    for part, fields in parts.items():
        if fields is None:
            body.pop(part, None)
        elif not isinstance(fields, dict):
            body[part] = fields
        else:
            body.setdefault(part, {}).update(fields)
    return body


def bodies() -> list[tuple[str, dict]]:
    found = [
        (path.stem, yaml.safe_load(path.read_text(encoding="utf-8")))
        for path in sorted(EXAMPLES.glob("*.yaml"))
    ]
    assert len(found) >= 3, "the examples are the reference requests"
    return [
        *found,
        ("lgwan-asp", variant(connection={"method": "lgwan_asp", "breakout_usage": None})),
        (
            "government-cloud-3a",
            variant(
                data={"confidentiality": "3A", "critical_to_citizens": True},
                connection={"method": "government_cloud", "breakout_usage": None},
            ),
        ),
        (
            "my-number-internet-pc",
            variant(
                data={"confidentiality": "3A", "my_number": True},
                connection={"method": "internet_pc", "breakout_usage": None},
            ),
        ),
        (
            "exception-grounds",
            variant(
                service={"listings": []},
                connection={"method": "internet_pc", "breakout_usage": None},
                exceptions={"internet_only_function": True, "limited_external_sharing": True},
            ),
        ),
        ("auth-only", variant(connection={"breakout_usage": "auth_only"})),
    ]


BODIES = bodies()


def post(client, body, **kwargs):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body, ensure_ascii=False)
    return client.post(URL, data, content_type="application/json", **kwargs)


def cli_decisions(bodies: list[dict], tmp_path: Path) -> list[dict]:
    """``cloudjudge judge FILE --format jsonl`` in one subprocess, one
    decision a request, parsed."""
    path = tmp_path / "requests.jsonl"
    lines = (json.dumps(body, ensure_ascii=False) + "\n" for body in bodies)
    path.write_text("".join(lines), encoding="utf-8")
    exe = Path(sys.executable).with_name("cloudjudge")
    command = [str(exe)] if exe.exists() else [shutil.which("cloudjudge") or "cloudjudge"]
    done = subprocess.run(
        [*command, "judge", str(path), "--format", "jsonl"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


# --------------------------------------------------------------------------- decisions


@pytest.mark.parametrize(("name", "body"), BODIES, ids=[name for name, _ in BODIES])
def test_the_decision_is_exactly_the_engines(name, body, api, applicant):
    response = post(api(applicant), body)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == cloudjudge.judge(body)


def test_the_decision_is_exactly_the_clis(api, applicant, tmp_path):
    client = api(applicant)
    verdicts = set()
    by_cli = cli_decisions([body for _, body in BODIES], tmp_path)
    for (name, body), cli_decision in zip(BODIES, by_cli, strict=True):
        decision = post(client, body).json()
        assert decision == cli_decision, name
        verdicts.add(decision["verdict"])
    assert verdicts == {"permitted", "approval_required", "prohibited"}


def test_nothing_is_stored(api, applicant):
    from cloudjudge.web.register.models import Application, Judgement

    post(api(applicant), GROUPWARE)
    assert not Application.objects.exists()
    assert not Judgement.objects.exists()


def test_every_role_may_judge(api, make_user):
    for role in ("applicant", "security", "ciso", "auditor", "admin"):
        assert post(api(make_user(role)), GROUPWARE).status_code == 200, role


# --------------------------------------------------------------------------- invalid requests

INVALID = [
    ("missing", variant(data={"confidentiality": None}), None),
    ("missing-part", variant(data=None), None),
    ("not-a-choice", variant(connection={"method": "fax"}), "connection.method"),
    ("unknown-field", variant(service={"colour": "blue"}), "service.colour"),
    ("not-a-bool", variant(data={"my_number": "maybe"}), "data.my_number"),
    ("breakout-usage-required", variant(connection={"breakout_usage": None}), None),
    ("empty-name", variant(service={"name": "  "}), "service.name"),
    ("not-an-object", variant(data="3B"), "data"),
    ("not-a-list", variant(service={"listings": 3}), "service.listings"),
    ("listing-not-a-choice", variant(service={"listings": ["ismap", "iso"]}), None),
    ("top-level-list", [GROUPWARE], ""),
]


def _drop_nones(value):
    if isinstance(value, dict):
        return {k: _drop_nones(v) for k, v in value.items() if v is not None}
    return value


@pytest.mark.parametrize(("kind", "body", "path"), INVALID, ids=[k for k, _, _ in INVALID])
def test_invalid_requests_are_422_with_the_engines_field_paths(kind, body, path, api, applicant):
    body = _drop_nones(body)
    with pytest.raises(RequestError) as engine:
        parse_request(body)
    response = post(api(applicant), body)
    assert response.status_code == 422, response.content
    detail = response.json()["detail"]
    expected = [
        {
            "loc": ["body", *(int(p) if p.isdigit() else p for p in e.path.split(".") if e.path)],
            "path": e.path,
            "msg": e.message,
        }
        for e in engine.value.errors
    ]
    assert detail == expected
    if path is not None:
        assert [d["path"] for d in detail] == [path]


def test_the_documented_shape_of_a_422(api, applicant):
    body = variant(data={"my_number": True})
    del body["data"]["confidentiality"]
    response = post(api(applicant), body)
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "data", "confidentiality"],
                "path": "data.confidentiality",
                "msg": "必須項目です",
            }
        ]
    }
    body = variant(connection={"breakout_usage": None})
    del body["connection"]["breakout_usage"]
    (error,) = post(api(applicant), body).json()["detail"]
    assert error["path"] == "connection.breakout_usage"
    assert error["loc"] == ["body", "connection", "breakout_usage"]
    assert "ローカルブレイクアウト" in error["msg"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"service": {"name": "x"},', "JSON として読めません（1 行"),
        (b"", "本文が空です"),
        (b"   ", "本文が空です"),
        ('{"service": "グループウェア"}'.encode("shift_jis"), "UTF-8"),
    ],
    ids=["truncated", "empty", "blank", "not-utf-8"],
)
def test_a_body_that_is_not_json_is_400_in_japanese(body, words, api, applicant):
    response = post(api(applicant), body)
    assert response.status_code == 400
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body"] and error["path"] == ""
    assert words in error["msg"]


def test_any_content_type_is_read_as_json(api, applicant):
    client = api(applicant)
    response = client.post(URL, json.dumps(GROUPWARE), content_type="text/plain")
    assert response.status_code == 200
    assert response.json() == cloudjudge.judge(GROUPWARE)


def test_only_post(api, applicant):
    assert api(applicant).get(URL).status_code == 405


def test_a_judgement_costs_one_query_the_token_lookup(api, applicant, django_assert_num_queries):
    client = api(applicant)
    post(client, GROUPWARE)  # the first use also records last_used_at
    with django_assert_num_queries(1):
        assert post(client, GROUPWARE).status_code == 200


def test_a_body_over_the_upload_limit_is_413(api, applicant, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = variant(service={"provider": "x" * 2000})
    response = post(api(applicant), body)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
