"""LibreOffice and poppler driven for real, as fixtures that skip a test
(naming the Debian package) only when the binary is missing;
``scripts/test-deps`` installs them. Conftests import the fixtures."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class LibreOffice:
    binary: str

    def resave(self, source: Path, workdir: Path) -> Path:
        """Open and re-save an .xlsx with LibreOffice, as a vendor without Excel would."""
        outdir = workdir / "libreoffice-out"
        profile = workdir / "libreoffice-profile"  # private: never the user's profile
        result = subprocess.run(
            [
                self.binary,
                f"-env:UserInstallation={profile.as_uri()}",
                "--headless",
                "--norestore",
                "--convert-to",
                "xlsx",
                "--outdir",
                str(outdir),
                str(source),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        converted = outdir / source.name
        assert result.returncode == 0 and converted.exists(), (
            f"LibreOffice failed ({result.returncode}): {result.stdout}\n{result.stderr}"
        )
        return converted


@dataclass(frozen=True)
class Poppler:
    pdftotext: str
    pdftoppm: str
    pdfinfo: str

    def _run(self, *args: str) -> str:
        return subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout

    def text(self, path: Path) -> str:
        return self._run(self.pdftotext, "-enc", "UTF-8", str(path), "-")

    def info(self, path: Path) -> dict[str, str]:
        lines = self._run(self.pdfinfo, str(path)).splitlines()
        return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines)}

    def render_first_page(self, path: Path, out_prefix: Path) -> Path:
        self._run(
            self.pdftoppm, "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile",
            str(path), str(out_prefix),
        )  # fmt: skip
        return out_prefix.with_suffix(".png")


@pytest.fixture(scope="session")
def libreoffice() -> LibreOffice:
    binary = shutil.which("libreoffice") or shutil.which("soffice")
    if binary is None:
        pytest.skip("libreoffice is not installed (Debian: apt-get install libreoffice-calc-nogui)")
    return LibreOffice(binary)


@pytest.fixture(scope="session")
def poppler() -> Poppler:
    tools = {name: shutil.which(name) for name in ("pdftotext", "pdftoppm", "pdfinfo")}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        pytest.skip(
            f"{', '.join(missing)} not installed"
            " (Debian: apt-get install poppler-utils poppler-data)"
        )
    return Poppler(**tools)  # type: ignore[arg-type]
