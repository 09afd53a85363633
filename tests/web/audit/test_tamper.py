"""The tamper tests of issue 4: editing, deleting or reordering audit rows
directly in the database (raw SQL, bypassing the model) makes ``audit_verify``
fail with a non-zero exit status and name the first broken entry."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from cloudjudge.web.audit import chain, trail
from cloudjudge.web.audit.models import ChainHead

from .helpers import quote, raw, raw_delete, raw_update, row, run

pytestmark = pytest.mark.django_db


def assert_broken_at(sequence: int, *words: str) -> str:
    result = trail.verify_chain()
    assert not result.ok
    assert result.first_broken == sequence, result
    status, _, error = run("audit_verify")
    assert status == 1
    assert f"#{sequence}" in error and "監査ログの連鎖" in error
    for word in words:
        assert word in error
    return error


def test_an_intact_chain_verifies(entries):
    entries(7)
    status, out, _ = run("audit_verify")
    assert status == 0
    assert "監査ログの連鎖は正常です（7 件）" in out
    assert f"#7 {row(7)['hash']}" in out


def test_editing_a_field(entries):
    entries(6)
    raw_update(3, object_repr="CJ-2026-99999 改ざん")
    error = assert_broken_at(3, "改ざん")
    when = timezone.localtime(row(3)["timestamp"]).strftime("%Y-%m-%d %H:%M:%S")
    assert when in error


def test_editing_the_json_values(entries):
    entries(4)
    raw_update(2, after='{"status": "approved", "n": 1}')
    assert_broken_at(2)


def test_editing_the_actor(entries):
    entries(4)
    raw_update(2, actor_username="someone-else")
    assert_broken_at(2)


def test_editing_the_timestamp(entries):
    made = entries(4)
    moved = made[3].timestamp.replace(microsecond=1)
    raw_update(4, timestamp=connection.ops.adapt_datetimefield_value(moved))
    assert_broken_at(4)


def test_deleting_a_row(entries):
    entries(6)
    raw_delete(4)
    assert_broken_at(5, "#4")


def test_deleting_several_rows(entries):
    entries(8)
    for sequence in (3, 4, 5):
        raw_delete(sequence)
    assert_broken_at(6, "#3", "#5")


def test_deleting_the_first_row(entries):
    entries(3)
    raw_delete(1)
    assert_broken_at(2, "#1")


def test_deleting_the_newest_rows(entries):
    """Truncating the end leaves no gap: the chain head still remembers it."""
    entries(5)
    raw_delete(5)
    raw_delete(4)
    assert_broken_at(4, "#4", "#5")


def test_reordering_rows(entries):
    """Swap two entries' places in the sequence."""
    entries(6)
    temporary = 10**12
    column = quote("sequence")
    raw(f"UPDATE {{t}} SET {column} = %s WHERE {column} = 3", [temporary])
    raw(f"UPDATE {{t}} SET {column} = 3 WHERE {column} = 4")
    raw(f"UPDATE {{t}} SET {column} = 4 WHERE {column} = %s", [temporary])
    assert_broken_at(3, "#2")


def test_swapping_two_rows_content(entries):
    """Every column but the sequence exchanged between two rows."""
    entries(6)
    third, fourth = row(3), row(4)
    names = [name for name in third if name != "sequence"]

    def stored(values, name):
        value = values[name]
        if name in {"before", "after", "extra"}:
            return connection.ops.adapt_json_value(value, None)
        if name == "timestamp":
            return connection.ops.adapt_datetimefield_value(value)
        return value

    raw_update(3, **{name: stored(fourth, name) for name in names})
    raw_update(4, **{name: stored(third, name) for name in names})
    assert_broken_at(3)


def test_editing_a_row_and_recomputing_its_own_hash(entries):
    """The row looks consistent; the next row's prev_hash gives it away."""
    entries(6)
    edited = row(3)
    edited["object_repr"] = "差し替えた内容"
    raw_update(3, object_repr=edited["object_repr"], hash=chain.compute_hash(edited))
    assert chain.compute_hash(row(3)) == row(3)["hash"]
    assert_broken_at(4, "#3")


def test_recomputing_the_newest_rows_hash(entries):
    """No next row: the chain head still holds the original hash."""
    entries(4)
    edited = row(4)
    edited["actor_username"] = "nobody"
    raw_update(4, actor_username="nobody", hash=chain.compute_hash(edited))
    assert_broken_at(4)


def test_appending_after_tampering_does_not_hide_it(entries):
    entries(4)
    raw_update(2, object_repr="x")
    entries(3)
    assert_broken_at(2)


def test_rewriting_the_head_and_truncating_is_caught_by_an_outside_copy(entries):
    """Deleting the end and rewinding the head too passes the chain check (no
    hash chain can see that alone), but the head hash printed by an earlier
    ``audit_verify`` is gone from the chain."""
    entries(5)
    noted = trail.verify_chain().head_hash
    raw_delete(5)
    ChainHead.objects.filter(pk=1).update(last_sequence=4, last_hash=row(4)["hash"])
    result = trail.verify_chain()
    assert result.ok and result.head_hash != noted
