"""What an evidence upload may be: size, type by content, name.

Every way in (the checklist page, the exit step, the API) goes through
``evidence.check_upload``, which calls :func:`check`. A file is accepted only if

1. it is not empty and not larger than ``settings.CLOUDJUDGE_MAX_UPLOAD_BYTES``;
2. its type, decided from its bytes by :func:`sniff` (never from the name or
   the browser's ``Content-Type``), is on the allow-list :data:`KINDS`: PDF,
   PNG/JPEG/GIF/WebP images, Office documents (OOXML ``.docx``/``.xlsx``/
   ``.pptx`` and legacy ``.doc``/``.xls``/``.ppt``) without macros or
   encryption, and plain text (UTF-8 or CP932) without HTML or script markup;
3. the name's extension is one that type is saved under, and no inner
   extension names a program or a web page (``report.pdf.html``,
   ``x.php.pdf``, ``invoice.exe.pdf``).

HTML, SVG and XML are refused whatever their name: in a browser they run
scripts in the site's origin. The stored name is random (``models.evidence_path``);
the original name is kept only for display and the download's
``Content-Disposition``, cleaned by :func:`safe_original_name`. Downloads are
attachments with ``X-Content-Type-Options: nosniff``, a sandboxing
``Content-Security-Policy`` and the type :func:`served_content_type` sniffs
again from the stored bytes (``application/octet-stream`` if it is not an
allowed type any more).
"""

from __future__ import annotations

import io
import re
import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.template.defaultfilters import filesizeformat
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from cloudjudge.documents.packages import (
    BROKEN_ZIP,
    MiB,
    PackageLimits,
    PackageRefused,
    inspect_package,
    size_text,
)

#: Bytes read to recognise a type and to look for markup in binary formats.
HEAD_BYTES = 4096
#: Displayed names longer than this are shortened (the extension is kept).
MAX_NAME_CHARS = 150
#: Zip archives with more members than this are not taken for Office files.
MAX_ZIP_MEMBERS = 20_000
#: An Office file (a zip of XML) that would unpack to more than this is refused
#: before it is stored: whoever downloads it would open a zip bomb. Pictures
#: are stored without compression, so a real document unpacks to little more
#: than its size; XML compresses about ten times.
MAX_UNPACKED_BYTES = 200 * MiB
PACKAGE_LIMITS = PackageLimits(max_unpacked=MAX_UNPACKED_BYTES, max_members=MAX_ZIP_MEMBERS)
#: ``[Content_Types].xml`` larger than this is not an Office file's.
MAX_CONTENT_TYPES_BYTES = 1024 * 1024
OCTET_STREAM = "application/octet-stream"


@dataclass(frozen=True)
class Kind:
    """An allowed type of content: its label, MIME type and file extensions."""

    code: str
    label: str | Promise  # translated lazily, in the user's language
    content_type: str
    extensions: tuple[str, ...]


_OOXML = "application/vnd.openxmlformats-officedocument."


#: The allow-list.
KINDS: dict[str, Kind] = {
    kind.code: kind
    for kind in (
        Kind("pdf", "PDF", "application/pdf", (".pdf",)),
        Kind("png", pgettext_lazy("file type", "PNG image"), "image/png", (".png",)),
        Kind("jpeg", pgettext_lazy("file type", "JPEG image"), "image/jpeg", (".jpg", ".jpeg")),
        Kind("gif", pgettext_lazy("file type", "GIF image"), "image/gif", (".gif",)),
        Kind("webp", pgettext_lazy("file type", "WebP image"), "image/webp", (".webp",)),
        Kind(
            "docx",
            pgettext_lazy("file type", "Word document"),
            _OOXML + "wordprocessingml.document",
            (".docx",),
        ),
        Kind(
            "xlsx",
            pgettext_lazy("file type", "Excel workbook"),
            _OOXML + "spreadsheetml.sheet",
            (".xlsx",),
        ),
        Kind(
            "pptx",
            pgettext_lazy("file type", "PowerPoint presentation"),
            _OOXML + "presentationml.presentation",
            (".pptx",),
        ),
        Kind("doc", pgettext_lazy("file type", "Word document"), "application/msword", (".doc",)),
        Kind(
            "xls",
            pgettext_lazy("file type", "Excel workbook"),
            "application/vnd.ms-excel",
            (".xls",),
        ),
        Kind(
            "ppt",
            pgettext_lazy("file type", "PowerPoint presentation"),
            "application/vnd.ms-powerpoint",
            (".ppt",),
        ),
        Kind("text", pgettext_lazy("file type", "text"), "text/plain", (".txt", ".csv", ".tsv")),
    )
}
#: Extension → the kind whose files end in it.
EXTENSIONS: dict[str, str] = {ext: kind.code for kind in KINDS.values() for ext in kind.extensions}
TEXT_CONTENT_TYPES = {".txt": "text/plain", ".csv": "text/csv", ".tsv": "text/tab-separated-values"}

#: Inner extensions refused anywhere in a name: programs, scripts and web pages.
DANGEROUS_EXTENSIONS = frozenset(
    {
        *(".htm", ".html", ".xhtml", ".shtml", ".mht", ".mhtml", ".svg", ".svgz", ".xml"),
        *(".xsl", ".xslt", ".js", ".mjs", ".jse", ".vbs", ".vbe", ".wsf", ".wsh", ".hta"),
        *(".php", ".php3", ".php4", ".php5", ".phtml", ".phar", ".asp", ".aspx", ".jsp"),
        *(".cgi", ".pl", ".py", ".rb", ".sh", ".bash", ".ps1", ".psm1", ".bat", ".cmd"),
        # (not .com: "vendor.example.com.pdf" is a domain name, not a program)
        *(".exe", ".scr", ".pif", ".msi", ".dll", ".cpl", ".jar", ".lnk", ".reg"),
        *(".docm", ".xlsm", ".pptm", ".dotm", ".xltm", ".xlam", ".ppam", ".swf"),
    }
)

_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
)
_FORBIDDEN_IN_NAMES = frozenset('<>:"/\\|?*')

#: Markup that makes a browser run or load something, looked for everywhere
#: in text (a browser would take such a file for a page or an SVG image).
MARKUP = re.compile(
    rb"<(?:!doctype|html|head|body|script|iframe|frame|frameset|svg|object|embed|meta|link"
    rb"|style|img|form|base|math|template|video|audio)(?=[\s/>:])"
    rb"|<\?xml|<\?php|javascript:|vbscript:",
    re.IGNORECASE,
)
#: The same, only unmistakable tags, at the start of a PDF or an image (a
#: polyglot that is also a web page): short tags would match binary data by chance.
POLYGLOT_MARKUP = re.compile(
    rb"<(?:!doctype|html|head|body|script|iframe|svg|object|embed)(?=[\s/>])",
    re.IGNORECASE,
)
#: Control characters that do not occur in text (tab, line breaks, form feed
#: and the old end-of-file mark 0x1A do).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0e-\x19\x1b-\x1f\x7f-\x9f]")


def _accepted() -> str:
    return gettext(
        "PDF, images (PNG, JPEG, GIF, WebP), Office documents (Word, Excel, PowerPoint), "
        "text (TXT, CSV, TSV)"
    )


# --------------------------------------------------------------------------- names


def safe_original_name(name: str) -> str:
    """The uploaded name made safe to show and to send back in
    ``Content-Disposition``: no directory part (``../../etc/passwd`` is
    ``passwd``, backslashes count as separators), no control or invisible
    formatting characters (NUL, line breaks, right-to-left overrides that
    disguise ``exe.pdf``), no characters Windows forbids, no leading or
    trailing dots and spaces, not a device name such as ``CON``, and at most
    :data:`MAX_NAME_CHARS` characters with the extension kept. Never empty."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in "\t\n\r\v\f" or category in {"Zl", "Zp"} or (category == "Zs" and ch != "\u3000"):
            out.append(" ")
        elif category in {"Cc", "Cf", "Cs", "Co", "Cn"}:
            continue
        elif ch in _FORBIDDEN_IN_NAMES:
            out.append("_")
        else:
            out.append(ch)
    text = re.sub(r" {2,}", " ", "".join(out)).strip(" .")
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem or len(ext) > 10:
        stem, ext = text, ""
    else:
        ext = "." + ext
        stem = stem.rstrip(" .")
    stem = stem[: max(1, MAX_NAME_CHARS - len(ext))].rstrip(" .")
    if stem.split(".", 1)[0].strip().lower() in _WINDOWS_RESERVED:
        stem = "_" + stem
    return (stem + ext) if stem else "file"


def extension(name: str) -> str:
    """The last extension, lower-case with its dot (``""`` if none)."""
    stem, dot, ext = name.rpartition(".")
    return f".{ext.lower()}" if dot and stem else ""


def extensions(name: str) -> list[str]:
    """Every extension of a name: ``a.php.pdf`` → ``[".php", ".pdf"]``."""
    return [f".{part.strip()}" for part in name.lower().split(".")[1:]]


def double_extension(name: str) -> str:
    """The program or web-page extension of a double extension
    (``report.pdf.html`` → ``.html``, ``x.php.pdf`` → ``.php``), or ``""``.
    Dotted dates and versions (``R6.4.1_報告.pdf``) are not double extensions."""
    found = extensions(name)
    dangerous = [ext for ext in found if ext in DANGEROUS_EXTENSIONS]
    known = [ext for ext in found if ext in DANGEROUS_EXTENSIONS or ext in EXTENSIONS]
    return dangerous[0] if dangerous and len(known) >= 2 else ""


# --------------------------------------------------------------------------- sniffing


@dataclass(frozen=True)
class Sniffed:
    """What :func:`sniff` found: an allowed kind's code (``pdf``, ``text``, ...)
    or a refused one (``html``, ``svg``, ``markup``, ``macro``, ``encrypted``,
    ``executable``, ``archive``, ``oversized``, ``binary_text``, ``unknown``), and for text its
    encoding (``utf-8`` or ``cp932``) or the markup found."""

    kind: str
    encoding: str = ""
    detail: str = ""

    @property
    def allowed(self) -> bool:
        return self.kind in KINDS


def _read_head(fileobj: IO[bytes], size: int = HEAD_BYTES) -> bytes:
    fileobj.seek(0)
    head = fileobj.read(size)
    fileobj.seek(0)
    return head or b""


def _markup_in(data: bytes, pattern: re.Pattern[bytes] = MARKUP) -> str:
    match = pattern.search(data)
    return match.group(0).decode("latin-1").strip() if match else ""


_ENDOFCHAIN_MIN = 0xFFFFFFFA  # sector numbers from here up are markers, not sectors
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def ole_entry_names(fileobj: IO[bytes], max_sectors: int = 100_000) -> set[str] | None:
    """The names of the streams and storages in an OLE compound file (legacy
    Office), read from its directory; None if the structure is broken."""
    fileobj.seek(0)
    header = fileobj.read(512)
    if len(header) < 512 or not header.startswith(_OLE_MAGIC):
        return None
    shift = struct.unpack_from("<H", header, 0x1E)[0]
    if shift not in (9, 12):
        return None
    sector_size = 1 << shift
    per_sector = sector_size // 4
    fat_count, first_dir = struct.unpack_from("<II", header, 0x2C)
    first_difat, difat_count = struct.unpack_from("<II", header, 0x44)
    if fat_count > max_sectors:
        return None

    def sector(number: int) -> bytes:
        fileobj.seek((number + 1) * sector_size)
        data = fileobj.read(sector_size)
        if len(data) < sector_size:
            raise ValueError("truncated")
        return data

    try:
        fat_sectors = [s for s in struct.unpack_from("<109I", header, 0x4C) if s < _ENDOFCHAIN_MIN]
        number, seen = first_difat, 0
        while len(fat_sectors) < fat_count and number < _ENDOFCHAIN_MIN and seen <= difat_count:
            entries = struct.unpack(f"<{per_sector}I", sector(number))
            fat_sectors.extend(s for s in entries[:-1] if s < _ENDOFCHAIN_MIN)
            number, seen = entries[-1], seen + 1
        fat_sectors = fat_sectors[:fat_count]

        def next_sector(number: int) -> int:
            index, offset = divmod(number, per_sector)
            if index >= len(fat_sectors):
                raise ValueError("outside the FAT")
            return struct.unpack_from("<I", sector(fat_sectors[index]), offset * 4)[0]

        names: set[str] = set()
        number, visited = first_dir, set[int]()
        while number < _ENDOFCHAIN_MIN:
            if number in visited or len(visited) >= max_sectors:
                raise ValueError("a loop in the directory chain")
            visited.add(number)
            data = sector(number)
            for offset in range(0, sector_size, 128):
                length = struct.unpack_from("<H", data, offset + 64)[0]
                if data[offset + 66] in (1, 2, 5) and 2 <= length <= 64 and length % 2 == 0:
                    names.add(data[offset : offset + length - 2].decode("utf-16-le", "replace"))
            number = next_sector(number)
    except (ValueError, struct.error, OSError):
        return None
    finally:
        fileobj.seek(0)
    return names


def _sniff_ole(fileobj: IO[bytes]) -> Sniffed:
    names = ole_entry_names(fileobj)
    if names is None:
        return Sniffed("unknown", detail="OLE")
    if names & {"EncryptedPackage", "EncryptionInfo"}:
        return Sniffed("encrypted")
    if names & {"_VBA_PROJECT", "_VBA_PROJECT_CUR", "VBA", "Macros"}:
        return Sniffed("macro")
    if "WordDocument" in names:
        return Sniffed("doc")
    if names & {"Workbook", "Book"}:
        return Sniffed("xls")
    if "PowerPoint Document" in names:
        return Sniffed("ppt")
    return Sniffed("unknown", detail="OLE")


def _sniff_zip(fileobj: IO[bytes]) -> Sniffed:
    """OOXML: a zip with ``[Content_Types].xml`` and the parts of exactly one
    of Word (``word/``), Excel (``xl/``) or PowerPoint (``ppt/``). Only the
    central directory, the first bytes of each XML part and
    ``[Content_Types].xml`` are read; a package that would unpack to more than
    :data:`MAX_UNPACKED_BYTES` is ``oversized`` (``cloudjudge.documents.packages``)."""
    try:
        names = inspect_package(fileobj, PACKAGE_LIMITS).names
    except PackageRefused as exc:
        if exc.code in {"too_large", "member_too_large"}:
            return Sniffed("oversized", detail=str(exc.size))
        return Sniffed("encrypted" if exc.code == "encrypted" else "archive")
    try:
        with zipfile.ZipFile(fileobj) as archive:
            if "[Content_Types].xml" not in names:
                return Sniffed("archive")
            types_info = archive.getinfo("[Content_Types].xml")
            if types_info.file_size > MAX_CONTENT_TYPES_BYTES:
                return Sniffed("archive")
            content_types = archive.read(types_info)
    except BROKEN_ZIP:
        return Sniffed("archive")
    except RuntimeError:  # an encrypted member
        return Sniffed("encrypted")
    finally:
        fileobj.seek(0)
    if b"macroenabled" in content_types.lower() or any(
        name.lower().endswith("vbaproject.bin") for name in names
    ):
        return Sniffed("macro")
    found = {
        code
        for code, prefix in (("docx", "word/"), ("xlsx", "xl/"), ("pptx", "ppt/"))
        if any(name.startswith(prefix) for name in names)
    }
    if len(found) != 1:
        return Sniffed("archive")
    return Sniffed(found.pop())


def _decode_text(data: bytes) -> tuple[str, str] | None:
    if b"\x00" in data:
        return None
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if CONTROL_CHARACTERS.search(text):
            return None
        return text, "utf-8" if encoding == "utf-8-sig" else "cp932"
    return None


def _sniff_text(fileobj: IO[bytes]) -> Sniffed:
    fileobj.seek(0)
    data = fileobj.read()
    fileobj.seek(0)
    decoded = _decode_text(data)
    if decoded is None:
        return Sniffed("binary_text")
    text, encoding = decoded
    marker = _markup_in(text.encode("utf-8"))
    if marker:
        head = text.lstrip("\ufeff \t\r\n").lower()
        kind = "svg" if "<svg" in text.lower() else "html" if head.startswith("<") else "markup"
        return Sniffed(kind, encoding=encoding, detail=marker)
    return Sniffed("text", encoding=encoding)


_EXECUTABLE_MAGIC = (
    b"MZ",  # Windows programs
    b"\x7fELF",
    b"\xca\xfe\xba\xbe",  # Mach-O universal, Java class files
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"#!",
)
_ARCHIVE_MAGIC = (b"\x1f\x8b", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07", b"BZh", b"\xfd7zXZ\x00")


def sniff(fileobj: IO[bytes]) -> Sniffed:
    """The type of ``fileobj``'s content from its bytes (magic numbers, the
    structure of Office files, the decoding of text). Leaves it at offset 0."""
    head = _read_head(fileobj)
    if head.startswith(b"%PDF-"):
        kind = "pdf"
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = "png"
    elif head.startswith(b"\xff\xd8\xff"):
        kind = "jpeg"
    elif head.startswith((b"GIF87a", b"GIF89a")):
        kind = "gif"
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        kind = "webp"
    elif head.startswith(_OLE_MAGIC):
        return _sniff_ole(fileobj)
    elif head.startswith(b"PK\x03\x04"):
        return _sniff_zip(fileobj)
    elif head.startswith(_EXECUTABLE_MAGIC):
        return Sniffed("executable")
    elif head.startswith(_ARCHIVE_MAGIC) or head.startswith(b"PK"):
        return Sniffed("archive")
    else:
        return _sniff_text(fileobj)
    # A PDF or an image that is also a web page (a polyglot) is refused too.
    marker = _markup_in(head[:1024], POLYGLOT_MARKUP)
    if marker:
        return Sniffed("markup", detail=marker)
    return Sniffed(kind)


def kind_label(sniffed: Sniffed) -> str:
    if sniffed.allowed:
        return str(KINDS[sniffed.kind].label)
    labels = {
        "html": "HTML",
        "svg": "SVG",
        "markup": pgettext("file type", "HTML or script markup"),
        "macro": pgettext("file type", "Office file with macros"),
        "encrypted": pgettext("file type", "encrypted Office file"),
        "executable": pgettext("file type", "program"),
        "archive": pgettext("file type", "compressed archive"),
        "binary_text": pgettext("file type", "binary data"),
    }
    return labels.get(sniffed.kind, pgettext("file type", "unknown"))


def content_type(sniffed: Sniffed, name: str) -> str:
    """The MIME type to serve: the sniffed one when it is allowed and the
    name's extension agrees with it, otherwise ``application/octet-stream``."""
    ext = extension(name)
    if not sniffed.allowed or EXTENSIONS.get(ext) != sniffed.kind:
        return OCTET_STREAM
    if sniffed.kind == "text":
        charset = "utf-8" if sniffed.encoding == "utf-8" else "Shift_JIS"
        return f"{TEXT_CONTENT_TYPES[ext]}; charset={charset}"
    return KINDS[sniffed.kind].content_type


# --------------------------------------------------------------------------- the check


def _refuse(message, code: str, **params) -> ValidationError:
    return ValidationError(message % params if params else message, code=code)


def check(upload) -> Sniffed:
    """Accept ``upload`` (a Django ``UploadedFile``) or raise a
    ``ValidationError`` whose message names the problem. Returns what
    :func:`sniff` found."""
    limit = settings.CLOUDJUDGE_MAX_UPLOAD_BYTES
    if upload.size is None or upload.size > limit:
        raise _refuse(
            _("The file is larger than the limit of %(limit)s."),
            "too_large",
            limit=filesizeformat(limit),
        )
    if upload.size == 0:
        raise _refuse(_("The file is empty."), "empty")

    name = safe_original_name(upload.name or "")
    ext = extension(name)
    if not ext:
        raise _refuse(
            _("The file name has no extension. Accepted types: %(accepted)s."),
            "no_extension",
            accepted=_accepted(),
        )
    danger = double_extension(name)
    if danger:
        raise _refuse(
            _(
                "The file name “%(name)s” has a double extension including %(danger)s, the "
                "extension of a program or web page. Rename the file."
            ),
            "double_extension",
            name=name,
            danger=danger,
        )
    if ext not in EXTENSIONS:
        raise _refuse(
            _("Files ending in %(ext)s are not accepted. Accepted types: %(accepted)s."),
            "extension_not_allowed",
            ext=ext,
            accepted=_accepted(),
        )

    sniffed = sniff(upload)
    if sniffed.kind in {"html", "svg", "markup"}:
        raise _refuse(
            _(
                "The file’s content is %(kind)s (“%(marker)s”), which a browser could run as a "
                "web page: not accepted, whatever the extension (%(ext)s)."
            ),
            "markup",
            kind=kind_label(sniffed),
            marker=sniffed.detail,
            ext=ext,
        )
    if sniffed.kind == "macro":
        raise _refuse(
            _(
                "The Office file contains macros (VBA), which are not accepted. Save it "
                "without macros (.docx, .xlsx, .pptx) or as PDF."
            ),
            "macro",
        )
    if sniffed.kind == "oversized":
        raise _refuse(
            _(
                "The Office file would unpack to %(size)s, more than the limit of %(limit)s: "
                "not accepted (it may be a zip bomb). Save it again, or as PDF."
            ),
            "oversized",
            size=size_text(int(sniffed.detail)),
            limit=size_text(MAX_UNPACKED_BYTES),
        )
    if sniffed.kind == "encrypted":
        raise _refuse(
            _(
                "The Office file is password-protected (encrypted), so its content cannot be "
                "checked. Remove the password or save it as PDF."
            ),
            "encrypted",
        )
    if sniffed.kind == "binary_text" and EXTENSIONS[ext] == "text":
        raise _refuse(
            _(
                "The text file is neither UTF-8 nor Shift_JIS (CP932) text, or contains binary "
                "data such as NUL characters."
            ),
            "text_encoding",
        )
    if not sniffed.allowed:
        raise _refuse(
            _(
                "The file’s type could not be recognised as an accepted one from its content "
                "(found: %(kind)s). Accepted types: %(accepted)s."
            ),
            "type_not_allowed",
            kind=kind_label(sniffed),
            accepted=_accepted(),
        )
    if EXTENSIONS[ext] != sniffed.kind:
        raise _refuse(
            _(
                "The file’s content (%(kind)s) does not match its extension %(ext)s. Upload it "
                "under its real extension (%(expected)s)."
            ),
            "extension_mismatch",
            kind=kind_label(sniffed),
            ext=ext,
            expected=", ".join(KINDS[sniffed.kind].extensions),
        )
    return sniffed


def served_content_type(evidence) -> str:
    """The ``Content-Type`` for downloading ``evidence``: sniffed again from
    the stored bytes, so a file stored before these checks (or changed on
    disk) is never served as anything but ``application/octet-stream``."""
    try:
        with evidence.file.storage.open(evidence.file.name, "rb") as handle:
            sniffed = sniff(handle)
    except OSError:
        return OCTET_STREAM
    return content_type(sniffed, evidence.original_name)


# --------------------------------------------------------------------------- while receiving


class OversizedUpload(UploadedFile):
    """Stands in for a file that went over the limit while it was received:
    its ``size`` is what arrived, its content is empty, and :func:`check`
    refuses it with the size message."""

    def __init__(self, name: str, content_type: str, size: int, charset: str | None):
        super().__init__(io.BytesIO(), name, content_type, size, charset)


class SizeLimitUploadHandler(TemporaryFileUploadHandler):
    """Replaces Django's ``TemporaryFileUploadHandler`` (after its
    ``MemoryFileUploadHandler``, which only takes requests smaller than
    ``FILE_UPLOAD_MAX_MEMORY_SIZE``): writes a file to a temporary file only up
    to ``CLOUDJUDGE_MAX_UPLOAD_BYTES``, then deletes it and keeps nothing more,
    so an oversized upload never fills the disk; the form then says the file
    is too large. (Cap the whole request body in the reverse proxy too, e.g.
    nginx ``client_max_body_size``.)"""

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0
        self.limit = settings.CLOUDJUDGE_MAX_UPLOAD_BYTES

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            if not self.file.closed:
                self.file.close()  # a temporary file: closing deletes it
            return None
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.received > self.limit:
            return OversizedUpload(
                self.file_name or "", self.content_type or "", self.received, self.charset
            )
        return super().file_complete(file_size)
