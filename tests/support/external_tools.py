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
        return self.convert(source, workdir, "xlsx")

    def convert(self, source: Path, workdir: Path, to: str) -> Path:
        """``soffice --convert-to <to>`` with a profile of its own (under ``workdir``,
        a fresh folder per test): never the user's, never shared between runs."""
        outdir = workdir / "libreoffice-out"
        profile = workdir / "libreoffice-profile"  # private: never the user's profile
        result = subprocess.run(
            [
                self.binary,
                f"-env:UserInstallation={profile.as_uri()}",
                "--headless",
                "--norestore",
                "--convert-to",
                to,
                "--outdir",
                str(outdir),
                str(source),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        converted = outdir / source.with_suffix(f".{to}").name
        assert result.returncode == 0 and converted.exists(), (
            f"LibreOffice failed ({result.returncode}): {result.stdout}\n{result.stderr}"
        )
        return converted


@dataclass(frozen=True)
class Poppler:
    pdftotext: str
    pdftoppm: str
    pdfinfo: str
    pdffonts: str

    def _run(self, *args: str) -> str:
        return subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout

    def text(self, path: Path) -> str:
        return self._run(self.pdftotext, "-enc", "UTF-8", str(path), "-")

    def page_texts(self, path: Path) -> list[str]:
        """The text of each page (pdftotext separates pages with a form feed)."""
        return self.text(path).split("\f")[:-1]

    def fonts(self, path: Path) -> list[dict[str, str]]:
        """``pdffonts``: one row per font, with its name and emb/sub/uni flags."""
        lines = self._run(self.pdffonts, str(path)).splitlines()[2:]
        rows = []
        for line in lines:
            cells = line.split()
            # name type… encoding emb sub uni object-id generation
            rows.append({"name": cells[0], "emb": cells[-5], "sub": cells[-4], "uni": cells[-3]})
        return rows

    def render_pages(self, path: Path, out_prefix: Path) -> list[Path]:
        """Every page as a PNG (50 dpi): ``<prefix>-1.png``, …"""
        self._run(self.pdftoppm, "-png", "-r", "50", str(path), str(out_prefix))
        return sorted(out_prefix.parent.glob(f"{out_prefix.name}-*.png"))

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
    names = ("pdftotext", "pdftoppm", "pdfinfo", "pdffonts")
    tools = {name: shutil.which(name) for name in names}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        pytest.skip(
            f"{', '.join(missing)} not installed"
            " (Debian: apt-get install poppler-utils poppler-data)"
        )
    return Poppler(**tools)  # type: ignore[arg-type]
