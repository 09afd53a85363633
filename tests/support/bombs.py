"""Hostile Office files, built for real, and a way to measure what reading
one costs: the peak resident memory of a fresh Python process (its own
``VmHWM``, read as it exits).

The bombs are the shapes the outside audit measured (issue 14): an .xlsx of a
few megabytes whose sheet unpacks to 1 GiB, one whose single cell holds
1 GiB, and Office evidence files that unpack to 1 GiB. They are real zip
archives whose members really inflate to what they declare, so a reader that
ignored the declared sizes would be caught, not just one that trusts them.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

GiB = 1024**3

#: A refusal must come before this many seconds: the audit saw 17 minutes and
#: 80 s. It guards against a hang, not a speed target (the figures are printed
#: by benchmarks/hostile.py), so it is generous for a busy CI machine.
REFUSAL_DEADLINE_S = 60.0

_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" '
    b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    b"</Types>"
)
_ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<sheets><sheet name="list" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = b"</sheetData></worksheet>"


def _cell(ref: str, text: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


HEADING_ROW = (
    b'<row r="1">'
    + _cell("A1", "登録番号")
    + _cell("B1", "クラウドサービスの名称")
    + _cell("C1", "事業者")
    + _cell("D1", "監査対象期間の末日")
    + b"</row>"
)


def _write_xlsx(path: Path, sheet_parts, level: int = 1) -> Path:
    """An .xlsx whose sheet is the concatenation of ``sheet_parts`` (an
    iterable of bytes), streamed through deflate: nothing large is held."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for part in sheet_parts:
                sheet.write(part)
    return path


def rows_bomb(path: Path, unpacked: int = GiB) -> Path:
    """An .xlsx list (a real heading, then data rows) whose sheet unpacks to
    about ``unpacked`` bytes: a few MB on disk."""

    # A hundred rows over and over, as a generated bomb would: row numbers
    # repeat, which no reader gets to see.
    block = b"".join(
        b'<row r="%d">' % r
        + _cell(f"A{r}", f"C21-{r:04d}-1")
        + _cell(f"B{r}", "サービス")
        + _cell(f"C{r}", "事業者")
        + _cell(f"D{r}", "2024/3/31")
        + b" " * 8000  # white space between elements: valid, and it packs well
        + b"</row>"
        for r in range(2, 102)
    )

    def parts():
        yield _SHEET_HEAD + HEADING_ROW
        for _ in range(unpacked // len(block) + 1):
            yield block
        yield _SHEET_TAIL

    return _write_xlsx(path, parts())


def cell_bomb(path: Path, unpacked: int = GiB) -> Path:
    """An .xlsx whose second row holds one cell of ``unpacked`` bytes of text."""
    chunk = b"A" * (4 * 1024 * 1024)

    def parts():
        yield _SHEET_HEAD + HEADING_ROW + b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
        for _ in range(unpacked // len(chunk)):
            yield chunk
        yield b"</t></is></c></row>" + _SHEET_TAIL

    return _write_xlsx(path, parts())


def office_bomb(kind: str, unpacked: int = GiB) -> bytes:
    """A .docx / .xlsx / .pptx (for evidence uploads) with one part that
    unpacks to ``unpacked`` bytes of XML whitespace."""
    folder = {"docx": "word", "xlsx": "xl", "pptx": "ppt"}[kind]
    buffer = io.BytesIO()
    chunk = b" " * (4 * 1024 * 1024)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        with archive.open(f"{folder}/document.xml", "w", force_zip64=True) as part:
            part.write(b"<document>")
            for _ in range(unpacked // len(chunk)):
                part.write(chunk)
            part.write(b"</document>")
    return buffer.getvalue()


# --------------------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Measured:
    """What a child process printed as JSON, its peak RSS and its wall time."""

    result: dict
    peak_rss_mib: float
    seconds: float


#: Run first in the child: at exit it writes its own peak resident set size.
#: The kernel's ``ru_maxrss`` would not do: it keeps the high-water mark across
#: ``fork`` and ``exec``, so a child of a large test process would report the
#: parent's size. ``VmHWM`` belongs to the address space ``exec`` made.
_PEAK_PROBE = """
import atexit as _atexit, os as _os
def _cloudjudge_peak():
    with open("/proc/self/status") as _status:
        for _line in _status:
            if _line.startswith("VmHWM:"):
                with open(_os.environ["CLOUDJUDGE_PEAK_FILE"], "w") as _out:
                    _out.write(_line.split()[1])
_atexit.register(_cloudjudge_peak)
"""


def measure(code: str, *args: str, timeout: float = 120) -> Measured:
    """Run ``code`` (a Python snippet that prints one JSON line last) in a
    fresh interpreter and return what it printed, with the peak resident set
    size of that interpreter (``VmHWM``, in MiB) and its wall time. A child
    still running after ``timeout`` seconds is killed and the test fails."""
    with tempfile.TemporaryDirectory() as folder:
        peak_file = Path(folder) / "peak"
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(sys.path),
            "CLOUDJUDGE_PEAK_FILE": str(peak_file),
        }
        started = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, "-c", _PEAK_PROBE + textwrap.dedent(code), *args],
                capture_output=True,
                env=env,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise AssertionError(f"killed after {timeout} s") from None
        seconds = time.monotonic() - started
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
        peak_kib = int(peak_file.read_text())
    result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return Measured(result, peak_kib / 1024, seconds)


# --------------------------------------------------------------------------- crafting


def zip_of(parts: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip archive of ``parts`` (name → content)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as package:
        for name, content in parts.items():
            package.writestr(name, content)
    return out.getvalue()


def replace_part(data: bytes, name: str, change) -> bytes:
    """The package ``data`` with its part ``name`` passed through ``change``
    (bytes → bytes): a workbook with a broken or hostile part."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for info in zin.infolist():
            content = zin.read(info.filename)
            zout.writestr(info.filename, change(content) if info.filename == name else content)
    return out.getvalue()
