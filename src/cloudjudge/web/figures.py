"""Counts over the register kept in the shared cache: one home for reusing
the dashboard's figures, the action list, the register list's count and the
registry alerts.

A count is kept with the **version** of the data it counted. Any saved or
deleted application or checklist row bumps the version (``changed``, in the
change's own transaction, so a rollback undoes it), and the next reader
counts again: exact at once after a change, on every server (the cache is
the shared database cache). ``max_age`` bounds what the version cannot see
(``QuerySet.update``, the passing of the date).

At the national size (520,000 applications, 16 million checklist rows) a
count of the whole register takes 1-3 s (docs/scale.md), and every change
anywhere starts it again. A count that took longer than
``CLOUDJUDGE_RECOUNT_IN_BACKGROUND_AFTER`` seconds the last time is therefore
counted again **in the background** while readers keep getting the previous
one, marked ``recounting`` (the dashboard says so, with the time it was
counted); one recount at a time per count, across servers. A city's counts
take milliseconds and stay synchronous: exact on the next page.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connections, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: How long the register's figures are reused at most while nothing changed.
FIGURES_CACHE_SECONDS = 60
#: How long a slow count's last answer may still be shown while it is counted
#: again (past this, the reader waits for the count).
STALE_LIMIT_SECONDS = 600
#: A recount that has not finished in this time may be started again.
RECOUNT_LOCK_SECONDS = 120

FIGURES_VERSION_KEY = "register-figures-version"
APPLICATIONS_VERSION_KEY = "register-applications-version"


# --------------------------------------------------------------------------- versions


def _bump(keys: tuple[str, ...]) -> None:
    now = timezone.now().timestamp()
    cache.set_many(dict.fromkeys(keys, now), None)


def changed(*, applications: bool = False) -> None:
    """The register changed: the next reader counts the figures again (in
    the shared cache, so on every server); ``applications``: an application
    itself changed (which the registry alerts also follow). At once (the
    database cache writes in the same transaction, so it commits or rolls back
    with the change) and again at commit (for a per-process cache, which a
    request might have refilled from the old data meanwhile); once per
    transaction, unless the version was read in between. Django gives every
    transaction a new list of commit callbacks, which marks "this transaction"."""
    keys = (
        (FIGURES_VERSION_KEY, APPLICATIONS_VERSION_KEY) if applications else (FIGURES_VERSION_KEY,)
    )
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _bump(keys)
        return
    marker = getattr(connection, "_cloudjudge_figures_bumped", None)
    done = marker[1] if marker and marker[0] is connection.run_on_commit else frozenset()
    todo = tuple(k for k in keys if k not in done)
    if not todo:
        return
    _bump(todo)
    transaction.on_commit(lambda: _bump(todo))
    connection._cloudjudge_figures_bumped = (
        connection.run_on_commit,
        done | frozenset(todo),
    )


def version(key: str = FIGURES_VERSION_KEY) -> Any:
    """The current version of the register's figures (``APPLICATIONS_VERSION_KEY``:
    of its applications alone)."""
    # A change after this read, in the same transaction, bumps the version again.
    transaction.get_connection()._cloudjudge_figures_bumped = None
    return cache.get(key, 0)


# --------------------------------------------------------------------------- counts


@dataclass(frozen=True)
class Counted(Generic[T]):
    """A count as kept: what it counted, of which version, when, in how long."""

    value: T
    version: Any
    counted_at: float  # a timestamp
    seconds: float
    #: The data changed since (or the count is older than ``max_age``); it
    #: is being counted again in the background.
    recounting: bool = False


def reuse(
    kind: str,
    parts: tuple[Any, ...],
    count: Callable[[], T],
    *,
    of_version: Any,
    max_age: float = FIGURES_CACHE_SECONDS,
    background: bool = True,
) -> Counted[T]:
    """``count()``, reused by everyone whose ``parts`` (the query's SQL, the
    role, the day…) are the same, while ``of_version`` is what it counted
    and it is younger than ``max_age``. A stale count that was slow to make
    is served, marked ``recounting``, while one background thread counts it
    again (``background``; otherwise the reader counts)."""
    key = f"{kind}:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    kept = cache.get(key)
    if isinstance(kept, Counted):
        if kept.version == of_version and time.time() - kept.counted_at < max_age:
            return kept
        if (
            background
            and kept.seconds >= settings.CLOUDJUDGE_RECOUNT_IN_BACKGROUND_AFTER
            and time.time() - kept.counted_at < STALE_LIMIT_SECONDS
        ):
            if cache.add(f"{key}:recounting", True, RECOUNT_LOCK_SECONDS):
                _recount_later(key, of_version, count)
            return Counted(kept.value, kept.version, kept.counted_at, kept.seconds, True)
    return _count_and_keep(key, of_version, count)


def _count_and_keep(key: str, of_version: Any, count: Callable[[], T]) -> Counted[T]:
    started, at = time.perf_counter(), time.time()
    value = count()
    counted = Counted(value, of_version, at, time.perf_counter() - started)
    cache.set(key, counted, STALE_LIMIT_SECONDS)
    return counted


def _recount_later(key: str, of_version: Any, count: Callable[[], T]) -> None:
    def run() -> None:
        try:
            _count_and_keep(key, of_version, count)
        except Exception:  # the readers keep the previous count; the next one retries
            logger.exception("recount of %s failed", key)
        finally:
            cache.delete(f"{key}:recounting")
            connections.close_all()  # this thread's own connections

    threading.Thread(target=run, name=RECOUNT_THREAD, daemon=True).start()


RECOUNT_THREAD = "cloudjudge-recount"


def wait_for_recounts(timeout: float = 30.0) -> None:
    """Wait until the background recounts of this process have finished
    (tests and benchmarks)."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread.name == RECOUNT_THREAD:
            thread.join(max(0.0, deadline - time.monotonic()))
