"""Verification streams the table (memory stays flat however long the log),
and appends from many connections at once keep one unbroken chain."""

from __future__ import annotations

import threading
import tracemalloc

import pytest
from django.db import connection, connections

from cloudjudge.web.audit import chain, trail
from cloudjudge.web.audit.models import Action, AuditEntry

PAYLOAD = "監査" * 1000  # about 6 KB of UTF-8 per entry, before and after


def _peak(function) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.django_db
def test_verification_memory_does_not_grow_with_the_log():
    def add(n: int) -> None:
        for i in range(n):
            trail.record(Action.UPDATE, before={"text": PAYLOAD, "i": i}, after={"text": PAYLOAD})

    def verify() -> None:
        result = chain.verify_chain(chunk_size=50)
        assert result.ok

    add(400)
    small = _peak(verify)
    add(800)
    large = _peak(verify)
    everything = _peak(lambda: list(AuditEntry.objects.values(*chain.CONTENT_FIELDS, "hash")))
    assert chain.verify_chain().checked == 1200
    # Three times the entries, about the same memory; far below loading them all.
    assert large < small * 1.5, (small, large)
    assert large < everything / 5, (large, everything)


@pytest.mark.django_db(transaction=True)
def test_verification_outside_a_transaction(entries):
    """On PostgreSQL this takes the REPEATABLE READ snapshot path."""
    entries(5)
    result = chain.verify_chain()
    assert result.ok and result.checked == 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_chain():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database is not shared between threads")
    threads, each = 8, 15
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def work(n: int) -> None:
        try:
            barrier.wait()
            for i in range(each):
                trail.record(Action.UPDATE, object_type="test.worker", object_id=f"{n}-{i}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors
    sequences = list(AuditEntry.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, threads * each + 1))
    result = chain.verify_chain()
    assert result.ok and result.checked == threads * each
