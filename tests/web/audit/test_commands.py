"""``audit_export`` (``audit_verify`` and ``audit_prune`` are exercised in
test_tamper.py and test_prune.py)."""

from __future__ import annotations

import csv
import datetime
import io
import json

import pytest
from django.utils import timezone

from cloudjudge.web.audit import chain, trail
from cloudjudge.web.audit.models import Action, AuditEntry

from .helpers import run

pytestmark = pytest.mark.django_db


@pytest.fixture
def log(entries, make_user, at_time):
    user = make_user(username="carol")
    with at_time(timezone.now() - datetime.timedelta(days=10)):
        trail.record(Action.LOGIN, actor=user)
    entries(3)
    trail.record(Action.LOGOUT, actor=user)


@pytest.mark.usefixtures("log")
def test_csv_to_a_file(tmp_path):
    target = tmp_path / "audit.csv"
    status, out, _ = run("audit_export", "--format", "csv", "--output", str(target))
    assert status == 0 and out == ""
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0][0] == "連番" and len(table) == 1 + 5
    export = AuditEntry.objects.get(action=Action.EXPORT)
    assert export.actor is None
    assert export.extra == {
        "format": "csv",
        "filters": {},
        "via": "audit_export",
        "output": str(target),
    }
    assert trail.verify_chain().ok


@pytest.mark.usefixtures("log")
def test_jsonl_to_stdout_with_filters():
    today = timezone.localdate()
    status, out, _ = run(
        "audit_export", "--format", "jsonl", "--actor", "carol", "--since", today.isoformat()
    )
    assert status == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(line["sequence"], line["action"]) for line in lines] == [(5, "logout")]
    content = {key: value for key, value in lines[0].items() if key != "hash"}
    assert chain.hash_content(content) == lines[0]["hash"]


@pytest.mark.usefixtures("log")
def test_until_and_action(tmp_path):
    moment = timezone.now().isoformat()
    _, out, _ = run("audit_export", "--format", "jsonl", "--until", moment)
    assert len(out.splitlines()) == 5
    until = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    _, out, _ = run("audit_export", "--format", "jsonl", "--until", until)
    assert [json.loads(line)["sequence"] for line in out.splitlines()] == [1]
    _, out, _ = run("audit_export", "--format", "jsonl", "--action", "update")
    assert [json.loads(line)["sequence"] for line in out.splitlines()] == [3]


@pytest.mark.usefixtures("log")
def test_bad_arguments_are_refused_without_an_export_entry(tmp_path):
    status, _, error = run("audit_export", "--action", "format_disk")
    assert status == 1 and "format_disk" in error
    status, _, error = run("audit_export", "--since", "yesterday")
    assert status == 1 and "yesterday" in error
    status, _, error = run("audit_export", "--output", str(tmp_path / "missing" / "a.csv"))
    assert status == 1
    assert not AuditEntry.objects.filter(action=Action.EXPORT).exists()
