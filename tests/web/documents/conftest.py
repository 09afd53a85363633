"""Fixtures for the document pages: real applications judged by the engine,
LibreOffice and poppler driven for real.

A test that needs an external tool asks for its fixture, which skips the test
(naming the Debian package) only when the binary is missing; ``scripts/test-deps``
installs them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .helpers import INTERNET_PC, LibreOffice, Poppler

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


@pytest.fixture(scope="session")
def libreoffice() -> LibreOffice:
    binary = shutil.which("libreoffice") or shutil.which("soffice")
    if binary is None:
        pytest.skip("libreoffice is not installed (Debian: apt-get install libreoffice-calc-nogui)")
    return LibreOffice(binary)


@pytest.fixture(scope="session")
def poppler() -> Poppler:
    tools = {name: shutil.which(name) for name in ("pdftotext", "pdftoppm")}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        pytest.skip(
            f"{', '.join(missing)} not installed"
            " (Debian: apt-get install poppler-utils poppler-data)"
        )
    return Poppler(**tools)  # type: ignore[arg-type]
