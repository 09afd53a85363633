"""Fixtures for the document pages: real applications judged by the engine,
LibreOffice and poppler driven for real.

A test that needs an external tool asks for its fixture, which skips the test
(naming the Debian package) only when the binary is missing; ``scripts/test-deps``
installs them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support.external_tools import libreoffice, poppler  # noqa: F401 (fixtures)

from .helpers import INTERNET_PC

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def storage_app(make_application, make_service):
    service = make_service(name="オンラインストレージ", provider="Example Storage 株式会社")
    return make_application(service=service, **INTERNET_PC)


@pytest.fixture
def output_dir() -> Path:
    """``var/test-output/web-documents`` (git-ignored): files kept for a person to look at."""
    path = ROOT / "var" / "test-output" / "web-documents"
    path.mkdir(parents=True, exist_ok=True)
    return path
