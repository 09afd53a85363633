"""External anchors (issue 14): ``audit_anchor`` keeps the chain's newest hash
in files and e-mails outside the database, and ``audit_verify --anchor``
catches what no hash chain can see alone — the end cut off together with the
head row, and a log rewritten from scratch."""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import timezone

from cloudjudge.web.audit.models import Action, AuditEntry, ChainHead

from .helpers import raw, raw_delete, raw_update, row, run

pytestmark = pytest.mark.django_db


def anchor(*args: str) -> tuple[int, str, str]:
    return run("audit_anchor", *args)


def test_an_anchor_goes_to_every_file_and_the_chain_matches_it(entries, tmp_path):
    entries(4)
    local, share = tmp_path / "anchors.jsonl", tmp_path / "share" / "cloudjudge.jsonl"
    share.parent.mkdir()
    status, out, _ = anchor("--file", str(local), "--file", str(share))
    assert status == 0
    assert local.read_text() == share.read_text() == out
    line = json.loads(out)
    marker = AuditEntry.objects.get(sequence=5)  # the anchoring is itself recorded, and anchored
    assert (marker.action, marker.extra["kind"]) == (Action.EXPORT, "anchor")
    assert line["format"] == "cloudjudge-audit-anchor"
    assert (line["sequence"], line["hash"], line["entries"]) == (5, marker.hash, 5)

    entries(2)
    anchor("--file", str(local))  # a day later: a second line
    assert len(local.read_text().splitlines()) == 2
    status, out, _ = run("audit_verify", "--anchor", str(local), "--anchor", str(share))
    assert status == 0
    assert f"{local} のアンカーと一致しています（最新:" in out and "#8）" in out


def test_cutting_the_end_with_the_head_row_is_caught(entries, tmp_path):
    """The attack the chain alone passes: the newest entries deleted and the
    head row rewound to the new end."""
    entries(4)
    anchors = tmp_path / "anchors.jsonl"
    anchor("--file", str(anchors))
    entries(2)
    for sequence in (7, 6, 5):
        raw_delete(sequence)
    ChainHead.objects.filter(pk=1).update(last_sequence=4, last_hash=row(4)["hash"])
    assert run("audit_verify")[0] == 0  # what the chain cannot see

    status, _, error = run("audit_verify", "--anchor", str(anchors))
    assert status == 1
    assert "連鎖は #4 で終わっていますが" in error and "記録 #5" in error
    assert "末尾から記録が削除されています" in error


def test_a_log_rewritten_from_scratch_is_caught(entries, tmp_path):
    entries(3)
    anchors = tmp_path / "anchors.jsonl"
    anchor("--file", str(anchors))
    # Everything deleted, head row included, and a new, self-consistent history written.
    raw("DELETE FROM {t}")
    ChainHead.objects.all().delete()
    entries(6)
    assert run("audit_verify")[0] == 0

    status, _, error = run("audit_verify", "--anchor", str(anchors))
    assert status == 1
    assert "記録 #4 のハッシュが" in error and "連鎖が作り直されています" in error


def test_a_broken_chain_is_not_anchored(entries, tmp_path):
    entries(3)
    raw_update(2, object_repr="forged")
    anchors = tmp_path / "anchors.jsonl"
    status, _, error = anchor("--file", str(anchors))
    assert status == 1 and "アンカーを記録しません" in error and "#2" in error
    assert not anchors.exists()
    assert AuditEntry.objects.count() == 3


def test_the_anchor_is_mailed_and_the_mail_can_be_checked_against(entries, smtp, tmp_path):
    entries(2)
    status, out, error = anchor("--email", "audit@city.example.jp")
    assert status == 0, error
    (message,) = smtp.to("audit@city.example.jp")
    assert message["Subject"].strip() == "[cloudjudge] 監査ログのアンカー #3"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "記録: #3" in body and "cloudjudge audit verify --anchor" in body
    saved = tmp_path / "from-mail.jsonl"
    saved.write_text(body.strip().splitlines()[-1] + "\n")
    assert saved.read_text() == out
    assert run("audit_verify", "--anchor", str(saved))[0] == 0


def test_a_refused_mail_fails_the_run_but_the_file_is_written(entries, smtp, tmp_path):
    entries(2)
    smtp.refuse.add("audit@city.example.jp")
    anchors = tmp_path / "anchors.jsonl"
    status, _, error = anchor("--file", str(anchors), "--email", "audit@city.example.jp")
    assert status == 1 and "audit@city.example.jp に送信できません" in error
    assert json.loads(anchors.read_text())["sequence"] == 3


def test_an_unwritable_file_fails_the_run(entries, tmp_path):
    entries(1)
    status, _, error = anchor("--file", str(tmp_path / "missing-folder" / "anchors.jsonl"))
    assert status == 1 and "書き込めません" in error


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json\n", "anchors.jsonl:1: アンカーの行ではありません"),
        ('{"format": "other"}\n', "anchors.jsonl:1: cloudjudge のアンカーの行ではありません"),
        ("\n\n", "アンカーがありません"),
    ],
)
def test_an_anchor_file_that_is_not_one_is_refused(entries, tmp_path, content, message):
    entries(2)
    anchors = tmp_path / "anchors.jsonl"
    anchors.write_text(content)
    status, _, error = run("audit_verify", "--anchor", str(anchors))
    assert status == 1 and message in error


def test_a_missing_anchor_file_is_named(entries, tmp_path):
    entries(1)
    status, _, error = run("audit_verify", "--anchor", str(tmp_path / "nowhere.jsonl"))
    assert status == 1 and "nowhere.jsonl を読めません" in error


def test_anchors_older_than_a_prune_are_said_to_be_so(entries, at_time, tmp_path):
    anchors = tmp_path / "anchors.jsonl"
    with at_time(timezone.now() - datetime.timedelta(days=500)):
        entries(3)
        anchor("--file", str(anchors))
    entries(2)
    assert run("audit_prune", "--older-than-days", "400")[0] == 0
    status, out, _ = run("audit_verify", "--anchor", str(anchors))
    assert status == 0
    assert "すべて整理で削除した範囲のもの" in out
