"""Fixtures for the audit trail's tests: entries made through the real API."""

from __future__ import annotations

import contextlib
import datetime

import pytest
from django.utils import timezone

from cloudjudge.web.audit import trail
from cloudjudge.web.audit.models import Action, AuditEntry


@pytest.fixture
def entries(db):
    """``entries(n)``: n entries of assorted actions, returned in order."""

    def make(n: int = 5, **kwargs) -> list[AuditEntry]:
        actions = [Action.CREATE, Action.UPDATE, Action.STATE_CHANGE, Action.EXPORT]
        made = []
        for i in range(n):
            made.append(
                trail.record(
                    actions[i % len(actions)],
                    object_type="register.service",
                    object_id=i + 1,
                    object_repr=f"CJ-2026-{i + 1:05d} グループウェア",
                    before={"status": "draft"},
                    after={"status": "submitted", "n": i},
                    **kwargs,
                )
            )
        return made

    return make


@pytest.fixture
def at_time(monkeypatch):
    """``with at_time(moment): trail.record(...)`` appends as if at ``moment``."""

    @contextlib.contextmanager
    def frozen(moment: datetime.datetime):
        with monkeypatch.context() as m:
            m.setattr(timezone, "now", lambda: moment)
            yield

    return frozen
