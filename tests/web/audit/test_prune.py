"""Retention: ``audit_prune`` refuses young entries, removes old ones, and the
chain still verifies afterwards from the anchor it appends; tampering with
the anchor, or around it, is detected."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from cloudjudge.web.audit import chain, trail
from cloudjudge.web.audit.models import Action, AuditEntry

from .helpers import raw_delete, raw_update, row, run

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def history(entries, at_time):
    """Three entries 500 days old, two 450 days old, three recent ones."""
    with at_time(NOW - datetime.timedelta(days=500)):
        entries(3)
    with at_time(NOW - datetime.timedelta(days=450)):
        entries(2)
    entries(3)
    assert trail.verify_chain().checked == 8


def test_the_retention_defaults_to_400_days():
    from django.conf import settings

    assert settings.CLOUDJUDGE_AUDIT_RETENTION_DAYS == 400


@pytest.mark.usefixtures("history")
def test_prune_refuses_entries_younger_than_the_retention():
    status, _, error = run("audit_prune", "--older-than-days", "399")
    assert status == 1 and "400 日" in error
    recent = timezone.localdate() - datetime.timedelta(days=30)
    status, _, error = run("audit_prune", "--before", recent.isoformat())
    assert status == 1 and "CLOUDJUDGE_AUDIT_RETENTION_DAYS" in error
    assert AuditEntry.objects.count() == 8
    assert not AuditEntry.objects.filter(action=Action.PRUNE).exists()


@pytest.mark.usefixtures("history")
def test_the_retention_comes_from_the_setting(settings):
    settings.CLOUDJUDGE_AUDIT_RETENTION_DAYS = 600
    status, _, error = run("audit_prune", "--older-than-days", "480")
    assert status == 1 and "600 日" in error
    settings.CLOUDJUDGE_AUDIT_RETENTION_DAYS = 460
    status, out, _ = run("audit_prune", "--older-than-days", "480")
    assert status == 0 and "3 件" in out


@pytest.mark.usefixtures("history")
def test_prune_removes_old_entries_and_the_chain_still_verifies():
    pruned_hash = row(5)["hash"]
    status, out, _ = run("audit_prune", "--older-than-days", "400")
    assert status == 0
    assert "5 件" in out and "#1" in out and "#5" in out and "#9" in out
    assert list(AuditEntry.objects.order_by("sequence").values_list("sequence", flat=True)) == [
        6,
        7,
        8,
        9,
    ]
    anchor = AuditEntry.objects.get(sequence=9)
    assert anchor.action == Action.PRUNE
    assert anchor.extra["pruned_from"] == 1 and anchor.extra["pruned_through"] == 5
    assert anchor.extra["last_hash"] == pruned_hash and anchor.extra["count"] == 5
    assert anchor.extra["retention_days"] == 400
    assert anchor.prev_hash == row(8)["hash"]
    result = trail.verify_chain()
    assert result.ok and result.checked == 4
    status, out, _ = run("audit_verify")
    assert status == 0 and "（4 件）" in out
    # Appending goes on as before, and a second prune finds nothing.
    trail.record(Action.LOGIN)
    assert trail.verify_chain().ok
    status, out, _ = run("audit_prune", "--older-than-days", "400")
    assert status == 0 and "ありません" in out


@pytest.mark.usefixtures("history")
def test_prune_before_a_date():
    cutoff = timezone.localdate(NOW - datetime.timedelta(days=470))
    status, out, _ = run("audit_prune", "--before", cutoff.isoformat())
    assert status == 0 and "3 件" in out
    assert AuditEntry.objects.order_by("sequence").first().sequence == 4
    assert trail.verify_chain().ok


@pytest.mark.usefixtures("history")
def test_dry_run_removes_nothing():
    status, out, _ = run("audit_prune", "--older-than-days", "400", "--dry-run")
    assert status == 0 and "5 件" in out
    assert AuditEntry.objects.count() == 8


def test_prune_removes_only_a_prefix(entries, at_time):
    """An old entry after a young one (a clock set back) is kept, and so is
    everything after the first young entry: the chain stays one piece."""
    with at_time(NOW - datetime.timedelta(days=500)):
        entries(2)
    entries(1)
    with at_time(NOW - datetime.timedelta(days=490)):
        entries(1)
    result = chain.prune(NOW - datetime.timedelta(days=400))
    assert (result.count, result.first, result.last) == (2, 1, 2)
    assert AuditEntry.objects.filter(sequence=4).exists()
    assert trail.verify_chain().ok


def test_everything_old_can_go_and_the_anchor_alone_verifies(entries, at_time):
    with at_time(NOW - datetime.timedelta(days=500)):
        entries(3)
    chain.prune(NOW - datetime.timedelta(days=401))
    assert list(AuditEntry.objects.values_list("sequence", "action")) == [(4, "prune")]
    assert trail.verify_chain().ok


def test_nothing_old_writes_no_anchor(entries):
    entries(2)
    assert chain.prune(NOW - datetime.timedelta(days=401)).count == 0
    assert not AuditEntry.objects.filter(action=Action.PRUNE).exists()


def test_pruning_twice_removes_the_first_anchor_too(entries, at_time):
    def days_ago(n):
        return NOW - datetime.timedelta(days=n)

    with at_time(days_ago(900)):
        entries(2)  # 1, 2
    with at_time(days_ago(800)):
        entries(1)  # 3
    with at_time(days_ago(450)):
        first = chain.prune(days_ago(850))  # removes 1, 2; anchor 4
    assert (first.count, first.anchor.sequence) == (2, 4)
    with at_time(days_ago(420)):
        entries(1)  # 5
    entries(2)  # 6, 7
    assert trail.verify_chain().ok
    second = chain.prune(days_ago(401))  # removes 3, 4 (the first anchor), 5; anchor 8
    assert (second.first, second.last, second.anchor.sequence) == (3, 5, 8)
    result = trail.verify_chain()
    assert result.ok and result.checked == 3


def test_prune_refuses_a_broken_chain(entries, at_time):
    with at_time(NOW - datetime.timedelta(days=500)):
        entries(3)
    raw_update(2, object_repr="改ざん")
    status, _, error = run("audit_prune", "--older-than-days", "400")
    assert status == 1 and "#2" in error
    assert AuditEntry.objects.count() == 3


# --------------------------------------------------------------------------- after pruning


@pytest.fixture
def pruned(history):
    chain.prune(NOW - datetime.timedelta(days=400))
    assert trail.verify_chain().ok
    return AuditEntry.objects.get(action=Action.PRUNE)


def test_tampering_with_the_anchor_is_detected(pruned):
    extra = dict(pruned.extra, pruned_through=3)
    raw_update(pruned.sequence, extra=_json(extra))
    result = trail.verify_chain()
    assert not result.ok and result.first_broken == pruned.sequence
    status, _, error = run("audit_verify")
    assert status == 1 and f"#{pruned.sequence}" in error


def test_a_forged_anchor_hash_is_detected(pruned):
    forged = row(pruned.sequence)
    forged["extra"] = dict(forged["extra"], last_hash="f" * 64)
    raw_update(pruned.sequence, extra=_json(forged["extra"]), hash=chain.compute_hash(forged))
    result = trail.verify_chain()
    assert not result.ok and result.first_broken == 6  # the first entry after the pruned ones


def test_deleting_more_old_entries_after_pruning_is_detected(pruned):
    raw_delete(6)
    result = trail.verify_chain()
    assert not result.ok and result.first_broken == 7


def test_deleting_the_anchor_is_detected(pruned):
    raw_delete(pruned.sequence)
    result = trail.verify_chain()
    assert not result.ok and result.first_broken == 6  # no anchor: the chain starts at #1


def _json(value):
    from django.db import connection

    return connection.ops.adapt_json_value(value, None)
