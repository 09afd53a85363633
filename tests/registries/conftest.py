"""Shared helpers for the registry tests: the committed fixture files."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "registries"


@pytest.fixture
def fixture_path():
    def path(name: str) -> Path:
        found = FIXTURES / name
        assert found.is_file(), f"missing fixture {found}; run make_fixtures.py"
        return found

    return path
