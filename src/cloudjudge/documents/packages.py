"""Office packages (.xlsx, .docx, .pptx, .ods) looked at before anything is unpacked.

An Office file is a zip archive of XML parts, and a few megabytes of zip can
unpack to gigabytes: a 3 MB .xlsx whose sheet unpacked to 1 GiB once kept a
registry import busy for 17 minutes and grew a worker to 14 GB. Every reader
and every upload check of such a file first calls :func:`inspect_package`,
which reads only the archive's central directory (and the first bytes of each
XML part) and refuses, with a Japanese message that says what it found:

* a file that is not a zip archive at all, or a broken one;
* more members than :attr:`PackageLimits.max_members`;
* members that together, or one alone, would unpack to more than the limits
  (the sizes the archive declares; Python's ``zipfile``, which openpyxl and
  odfpy read through, never hands out more than a member declares);
* an encrypted member;
* an XML part with a document type declaration (``<!DOCTYPE``/``<!ENTITY``):
  Office formats never have one, and entity expansion is the XML bomb.

Nothing here knows a format: the caller checks which parts it needs.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO

MiB = 1024 * 1024

#: What reading a damaged archive raises (a bad CRC, a corrupt deflate stream,
#: a member cut short, an unknown compression method).
BROKEN_ZIP: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
)

#: Bytes read from the start of each XML part to look for a DTD (the prolog).
XML_HEAD_BYTES = 4096
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_XML_SUFFIXES = (".xml", ".rels", ".vml")


@dataclass(frozen=True)
class PackageLimits:
    """How large a package may be once unpacked."""

    #: All members together, in bytes.
    max_unpacked: int
    #: One member, in bytes (``None``: the same as ``max_unpacked``).
    max_member: int | None = None
    max_members: int = 5_000


@dataclass(frozen=True)
class Package:
    """What the central directory says."""

    names: frozenset[str]
    unpacked: int
    packed: int


class PackageRefused(ValueError):
    """The package was refused before it was read; ``code`` says why
    (``not_zip``, ``broken``, ``too_many_members``, ``too_large``,
    ``member_too_large``, ``encrypted``, ``dtd``) and the message, in
    Japanese, what was found."""

    def __init__(self, code: str, message: str, size: int | None = None):
        self.code = code
        self.message = message
        #: For ``too_large`` / ``member_too_large``: the unpacked size found.
        self.size = size
        super().__init__(message)


def size_text(size: int) -> str:
    """A byte count as people read it: 1.0 GB, 52 MB, 3 KB."""
    if size >= 1024 * MiB:
        return f"{size / (1024 * MiB):.1f} GB"
    if size >= MiB:
        return f"{size / MiB:.0f} MB"
    return f"{max(1, size // 1024)} KB"


def inspect_package(
    source: bytes | IO[bytes], limits: PackageLimits, *, what: str = "ファイル"
) -> Package:
    """Check ``source`` (bytes or a seekable binary file, left at offset 0)
    against ``limits``; raise :class:`PackageRefused` naming what was found.

    ``what`` names the file in messages (「ブック」, 「証跡ファイル」…).
    """
    fileobj = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    try:
        fileobj.seek(0)
        with zipfile.ZipFile(fileobj) as archive:
            infos = archive.infolist()
            _check_sizes(infos, limits, what)
            if any(info.flag_bits & 0x1 for info in infos):
                raise PackageRefused(
                    "encrypted",
                    f"{what}は暗号化（パスワード付き）されているため読めません。"
                    "パスワードを外して保存し直してください",
                )
            _check_xml_heads(archive, infos, what)
    except PackageRefused:
        raise
    except BROKEN_ZIP as exc:
        raise PackageRefused(
            "broken",
            f"{what}が壊れているため読めません（zip 形式の構造が正しくありません: "
            f"{type(exc).__name__}）",
        ) from None
    finally:
        fileobj.seek(0)
    return Package(
        names=frozenset(info.filename for info in infos),
        unpacked=sum(info.file_size for info in infos),
        packed=sum(info.compress_size for info in infos),
    )


def _check_sizes(infos: list[zipfile.ZipInfo], limits: PackageLimits, what: str) -> None:
    if len(infos) > limits.max_members:
        raise PackageRefused(
            "too_many_members",
            f"{what}の中のファイルが多すぎます"
            f"（{len(infos):,} 個、上限 {limits.max_members:,} 個）",
        )
    unpacked = sum(info.file_size for info in infos)
    if unpacked > limits.max_unpacked:
        raise PackageRefused(
            "too_large",
            f"{what}が展開後に大きすぎます（展開後 {size_text(unpacked)}、"
            f"上限 {size_text(limits.max_unpacked)}）。"
            "圧縮爆弾か、別の種類のファイルではありませんか",
            unpacked,
        )
    largest = max(infos, key=lambda info: info.file_size, default=None)
    max_member = limits.max_member or limits.max_unpacked
    if largest is not None and largest.file_size > max_member:
        raise PackageRefused(
            "member_too_large",
            f"{what}の中の「{largest.filename}」が展開後に大きすぎます"
            f"（{size_text(largest.file_size)}、上限 {size_text(max_member)}）",
            largest.file_size,
        )


def _check_xml_heads(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], what: str) -> None:
    for info in infos:
        if not info.filename.lower().endswith(_XML_SUFFIXES) or info.file_size == 0:
            continue
        with archive.open(info) as member:
            head = member.read(XML_HEAD_BYTES)
        if _DTD.search(head):
            raise PackageRefused(
                "dtd",
                f"{what}の「{info.filename}」に文書型宣言（DOCTYPE/ENTITY）があります。"
                "Office のファイルにはないもので、XML 爆弾のおそれがあるため読みません",
            )
