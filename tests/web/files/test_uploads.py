"""Evidence uploads under attack: the type is decided by the content (magic
bytes, Office structure, text decoding) against an allow-list, the name's
extension must agree, names are cleaned, sizes are limited, and downloads are
attachments of the sniffed type with ``nosniff`` (issue 4, 別紙1 ① No.4)."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cloudjudge.web.audit.models import Action, AuditEntry
from cloudjudge.web.files import uploads
from cloudjudge.web.register import evidence
from cloudjudge.web.register.models import Evidence

# --------------------------------------------------------------------------- sample files


def pdf_bytes() -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Deletion certificate")
    page.save()
    return buffer.getvalue()


def image_bytes(fmt: str) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "navy").save(buffer, fmt)
    return buffer.getvalue()


def xlsx_bytes() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.active["A1"] = "確認項目"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("データ消去証明書")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


CONTENT_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"><Override PartName="/ppt/presentation.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/></Types>'
)


def pptx_bytes() -> bytes:
    return zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "ppt/presentation.xml": b"<p/>"})


def ole_bytes(*names: str) -> bytes:
    """A minimal OLE compound file (legacy Office): a header, one FAT sector
    and one directory sector holding the root and up to three ``names``."""
    endofchain, freesect, fatsect = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<II", header, 0x2C, 1, 1)  # one FAT sector; the directory at sector 1
    struct.pack_into("<IIIII", header, 0x38, 4096, endofchain, 0, endofchain, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *[freesect] * 108)
    fat = struct.pack("<128I", fatsect, endofchain, *[freesect] * 126)
    directory = bytearray(512)
    for i, (name, kind) in enumerate([("Root Entry", 5), *((n, 2) for n in names)]):
        raw = (name + "\0").encode("utf-16-le")
        directory[i * 128 : i * 128 + len(raw)] = raw
        struct.pack_into("<HB", directory, i * 128 + 64, len(raw), kind)
    return bytes(header) + fat + bytes(directory)


HTML = b"<!DOCTYPE html><html><body><script>fetch('/audit/export.csv')</script></body></html>"
SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
)
SVG_NO_PROLOGUE = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
PHP = b"<?php system($_GET['c']); ?>"
CSV_CP932 = "サービス名,部署,確認日\nグループウェア,市民課,2026-04-01\n".encode("cp932")


def sample(name: str, content: bytes) -> SimpleUploadedFile:
    # The browser's declared type is deliberately wrong: it must never matter.
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def refusal(name: str, content: bytes) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        uploads.check(sample(name, content))
    return caught.value


# --------------------------------------------------------------------------- accepted


@pytest.mark.parametrize(
    ("name", "make", "kind", "served_as"),
    [
        ("削除証明書.pdf", pdf_bytes, "pdf", "application/pdf"),
        ("構成図.png", lambda: image_bytes("PNG"), "png", "image/png"),
        ("写真.jpg", lambda: image_bytes("JPEG"), "jpeg", "image/jpeg"),
        ("写真.JPEG", lambda: image_bytes("JPEG"), "jpeg", "image/jpeg"),
        ("図.gif", lambda: image_bytes("GIF"), "gif", "image/gif"),
        ("画面.webp", lambda: image_bytes("WEBP"), "webp", "image/webp"),
        ("チェックリスト.xlsx", xlsx_bytes, "xlsx", uploads.KINDS["xlsx"].content_type),
        ("確認書.docx", docx_bytes, "docx", uploads.KINDS["docx"].content_type),
        ("説明資料.pptx", pptx_bytes, "pptx", uploads.KINDS["pptx"].content_type),
        ("旧様式.doc", lambda: ole_bytes("WordDocument"), "doc", "application/msword"),
        ("旧様式.xls", lambda: ole_bytes("Workbook"), "xls", "application/vnd.ms-excel"),
        (
            "旧資料.ppt",
            lambda: ole_bytes("PowerPoint Document"),
            "ppt",
            "application/vnd.ms-powerpoint",
        ),
        ("一覧.csv", lambda: CSV_CP932, "text", "text/csv; charset=Shift_JIS"),
        ("メモ.txt", lambda: "確認済み\r\n".encode(), "text", "text/plain; charset=utf-8"),
        ("BOM付き.txt", lambda: "\ufeff確認済み\n".encode(), "text", "text/plain; charset=utf-8"),
        ("R6.4.1_報告.pdf", pdf_bytes, "pdf", "application/pdf"),
        ("見積_vendor.example.com.pdf", pdf_bytes, "pdf", "application/pdf"),
    ],
)
def test_real_files_are_accepted_and_typed_by_content(name, make, kind, served_as):
    if kind == "webp":
        pytest.importorskip("PIL.features").check("webp") or pytest.skip("Pillow without WebP")
    sniffed = uploads.check(sample(name, make()))
    assert sniffed.kind == kind
    assert uploads.content_type(sniffed, name) == served_as


# --------------------------------------------------------------------------- refused


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("report.pdf", HTML, "markup"),  # HTML disguised as PDF
        ("report.pdf", SVG, "markup"),  # SVG disguised as PDF
        ("diagram.png", SVG, "markup"),  # SVG disguised as PNG
        ("diagram.png", SVG_NO_PROLOGUE, "markup"),
        ("notes.txt", HTML, "markup"),  # HTML disguised as text
        ("notes.txt", SVG, "markup"),
        ("data.csv", b"a,b\n1,<script>alert(1)</script>\n", "markup"),
        ("link.txt", b"click javascript:alert(1)", "markup"),
        # A PDF that is also a web page (a polyglot).
        ("report.pdf", b"%PDF-1.4\n<html><script>alert(1)</script></html>", "markup"),
        ("image.gif", b"GIF89a<script>alert(1)</script>", "markup"),
        # Double extensions.
        ("report.pdf.html", HTML, "double_extension"),
        ("report.pdf.html", pdf_bytes(), "double_extension"),
        ("x.php.pdf", PHP, "double_extension"),
        ("x.php.pdf", pdf_bytes(), "double_extension"),
        ("invoice.exe.pdf", pdf_bytes(), "double_extension"),
        ("photo.svg.png", image_bytes("PNG"), "double_extension"),
        # Types that are not on the allow-list, whatever their content.
        ("page.html", HTML, "extension_not_allowed"),
        ("image.svg", SVG, "extension_not_allowed"),
        ("shell.php", PHP, "extension_not_allowed"),
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 60, "extension_not_allowed"),
        ("README", b"plain text", "no_extension"),
        # Content that does not agree with the extension.
        ("report.pdf", image_bytes("PNG"), "extension_mismatch"),
        ("photo.jpg", pdf_bytes(), "extension_mismatch"),
        ("report.pdf", b"just some text", "extension_mismatch"),
        ("table.xlsx", docx_bytes(), "extension_mismatch"),
        ("old.xls", ole_bytes("WordDocument"), "extension_mismatch"),
        # Content that is no accepted type at all.
        ("report.pdf", b"MZ\x90\x00" + b"\x00" * 60, "type_not_allowed"),
        ("report.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 60, "type_not_allowed"),
        ("table.xlsx", zip_bytes({"payload.exe": b"MZ"}), "type_not_allowed"),
        ("old.doc", ole_bytes("__substg1.0_0037001F"), "type_not_allowed"),  # e.g. .msg
        ("report.pdf", b"\x00\x01\x02\x03" * 64, "type_not_allowed"),
        ("notes.txt", b"abc\x00def", "text_encoding"),
        ("notes.txt", "UTF-16 の文字".encode("utf-16"), "text_encoding"),
        ("notes.txt", b"\x1b[31m escape codes", "text_encoding"),
        # Office files with macros, or encrypted so that they cannot be checked.
        (
            "macro.xlsx",
            zip_bytes({"[Content_Types].xml": b"<Types/>", "xl/vbaProject.bin": b"x"}),
            "macro",
        ),
        (
            "macro.docx",
            zip_bytes(
                {
                    "[Content_Types].xml": b"application/vnd.ms-word.document.macroEnabled.main",
                    "word/document.xml": b"<w/>",
                }
            ),
            "macro",
        ),
        ("macro.doc", ole_bytes("WordDocument", "Macros", "VBA"), "macro"),
        ("macro.xls", ole_bytes("Workbook", "_VBA_PROJECT_CUR"), "macro"),
        ("secret.docx", ole_bytes("EncryptionInfo", "EncryptedPackage"), "encrypted"),
        ("macro.xlsm", xlsx_bytes(), "extension_not_allowed"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_disguised_and_unaccepted_files_are_refused(name, content, code):
    assert refusal(name, content).code == code


def test_a_broken_office_structure_is_not_taken_for_office():
    truncated = ole_bytes("WordDocument")[:700]
    assert uploads.sniff(io.BytesIO(truncated)).kind == "unknown"
    assert refusal("old.doc", truncated).code == "type_not_allowed"
    assert uploads.sniff(io.BytesIO(b"PK\x03\x04 not really a zip")).kind == "archive"


def test_oversized_files_are_refused_before_anything_else(settings):
    settings.CLOUDJUDGE_MAX_UPLOAD_BYTES = 1024
    big = b"%PDF-1.4\n" + b"0" * 1100
    assert refusal("big.pdf", big).code == "too_large"
    assert refusal("big.html", HTML * 20).code == "too_large"
    assert uploads.check(sample("ok.pdf", big[:1024])).kind == "pdf"


def test_messages_are_japanese_and_name_the_problem():
    from django.utils import translation

    with translation.override("ja"):
        assert "ファイルが空です" in refusal("a.pdf", b"").messages[0]
        message = refusal("report.pdf", HTML).messages[0]
        assert "HTML" in message and "受け付けません" in message and ".pdf" in message
        message = refusal("report.pdf.html", HTML).messages[0]
        assert "二重拡張子" in message and ".html" in message
        message = refusal("report.pdf", image_bytes("PNG")).messages[0]
        assert "PNG 画像" in message and ".pdf" in message and "一致しません" in message
        message = refusal("page.html", HTML).messages[0]
        assert "拡張子 .html のファイルは受け付けません" in message
        assert "PDF、画像（PNG・JPEG・GIF・WebP）" in message
        assert "マクロ" in refusal("m.doc", ole_bytes("WordDocument", "Macros")).messages[0]
        assert "パスワード" in refusal("s.docx", ole_bytes("EncryptedPackage")).messages[0]
        assert "Shift_JIS" in refusal("n.txt", b"a\x00b").messages[0]


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("../../../etc/cron.d/evil.txt", "evil.txt"),
        ("..\\..\\Windows\\System32\\drivers\\etc\\hosts.txt", "hosts.txt"),
        ("C:\\Users\\申請者\\Desktop\\証明書.pdf", "証明書.pdf"),
        ("/var/www/../../root/.ssh/authorized_keys", "authorized_keys"),
        ("..", "file"),
        ("", "file"),
        ("...pdf", "pdf"),
        (".htaccess", "htaccess"),
        ("report\x00.php.pdf", "report.php.pdf"),
        ("a\r\nX-Injected: 1.pdf", "a X-Injected_ 1.pdf"),  # no header injection
        ("evil\u202efdp.exe", "evilfdp.exe"),  # a right-to-left override hiding .exe
        ("zero\u200bwidth.pdf", "zerowidth.pdf"),
        ('in"voice<1>|?*.pdf', "in_voice_1____.pdf"),
        ("CON.txt", "_CON.txt"),
        ("lpt1.pdf", "_lpt1.pdf"),
        ("  trailing dots. . .pdf . ", "trailing dots.pdf"),
        ("令和６年度　確認書.pdf", "令和６年度　確認書.pdf"),
    ],
)
def test_original_names_are_cleaned(raw, clean):
    assert uploads.safe_original_name(raw) == clean
    assert evidence.safe_original_name(raw) == clean


def test_very_long_names_are_shortened_keeping_the_extension():
    name = uploads.safe_original_name("証" * 1000 + ".pdf")
    assert len(name) == uploads.MAX_NAME_CHARS and name.endswith("証.pdf")
    assert len(uploads.safe_original_name("a" * 400)) == uploads.MAX_NAME_CHARS


# --------------------------------------------------------------------------- through the pages


@pytest.fixture
def app(make_application):
    return make_application()


def post(client, app, name, content):
    row = app.checklist_items.first()
    url = reverse("register:evidence_upload", args=[app.pk, row.pk])
    return client.post(url, {"file": SimpleUploadedFile(name, content, "application/pdf")})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "shown"),
    [
        ("report.pdf", HTML, "ブラウザーが Web ページとして実行するおそれ"),
        ("diagram.png", SVG, "ブラウザーが Web ページとして実行するおそれ"),
        ("report.pdf.html", HTML, "二重拡張子"),
        ("x.php.pdf", PHP, "二重拡張子"),
        ("空.pdf", b"", "入力されたファイルは空です。"),  # Django's own check comes first
    ],
)
def test_the_page_refuses_attacks_and_says_why(login, applicant, app, name, content, shown):
    client = login(applicant)
    response = post(client, app, name, content)
    assert response.status_code == 302
    assert not Evidence.objects.exists()
    assert shown in client.get(response["Location"]).content.decode()
    assert not AuditEntry.objects.filter(action=Action.EVIDENCE_UPLOAD).exists()


@pytest.mark.django_db
def test_an_oversized_upload_is_refused_and_not_kept(login, applicant, app, settings, tmp_path):
    settings.CLOUDJUDGE_MAX_UPLOAD_BYTES = 64 * 1024
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024  # the rest would go to a temporary file
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    client = login(applicant)
    response = post(client, app, "big.pdf", b"%PDF-1.4\n" + b"0" * (300 * 1024))
    assert not Evidence.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert "ファイルが上限（64.0\xa0KB）を超えています。" in page
    assert list(tmp_path.iterdir()) == []  # nothing of it left on disk


def test_the_size_handler_stops_keeping_bytes_over_the_limit(settings, tmp_path):
    settings.CLOUDJUDGE_MAX_UPLOAD_BYTES = 10
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    handler = uploads.SizeLimitUploadHandler()
    handler.new_file("file", "a.pdf", "application/pdf", 18)
    assert handler.receive_data_chunk(b"%PDF-1.4", 0) is None  # written to the temporary file
    assert len(list(tmp_path.iterdir())) == 1
    assert handler.receive_data_chunk(b"0123456789", 8) is None
    assert list(tmp_path.iterdir()) == []  # deleted once over the limit
    stand_in = handler.file_complete(18)
    assert stand_in.size == 18 and stand_in.read() == b""
    with pytest.raises(ValidationError) as caught:
        uploads.check(stand_in)
    assert caught.value.code == "too_large"


@pytest.mark.django_db
def test_stored_names_are_random_and_the_hash_is_in_the_audit_trail(
    login, applicant, outsider, security, app, settings
):
    content = pdf_bytes()
    response = post(login(applicant), app, "../../../etc/削除証明書.pdf", content)
    assert response.status_code == 302
    item = Evidence.objects.get()
    assert item.original_name == "削除証明書.pdf"
    stored = item.file.name
    assert stored.startswith(f"evidence/{app.pk}/") and len(stored.rsplit("/", 1)[1]) == 32
    assert "削除" not in stored and "." not in stored.rsplit("/", 1)[1]
    assert (settings.MEDIA_ROOT / stored).read_bytes() == content

    digest = hashlib.sha256(content).hexdigest()
    assert item.sha256 == digest
    entry = AuditEntry.objects.get(action=Action.EVIDENCE_UPLOAD)
    assert entry.extra["sha256"] == digest
    assert entry.extra["size"] == len(content)
    assert entry.actor_username == applicant.username
    assert entry.object_id == str(item.pk)

    url = reverse("register:evidence_download", args=[item.pk])
    response = login(security).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E5%89%8A%E9%99%A4%E8%A8%BC%E6%98%8E%E6%9B%B8.pdf"
    )
    assert "sandbox" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]
    download = AuditEntry.objects.get(action=Action.EVIDENCE_DOWNLOAD)
    assert download.extra["sha256"] == digest and download.actor_username == security.username

    # Another department's applicant: not found, and nothing recorded.
    assert login(outsider).get(url).status_code == 404
    assert AuditEntry.objects.filter(action=Action.EVIDENCE_DOWNLOAD).count() == 1


@pytest.mark.django_db
def test_a_file_that_slipped_in_unchecked_is_served_as_octet_stream(login, applicant, app):
    """A file stored before these checks (or changed on disk) is sniffed again."""
    from django.core.files.base import ContentFile

    item = Evidence(
        application=app, original_name="report.pdf", size=len(HTML), sha256="0" * 64,
        uploaded_by=applicant,
    )  # fmt: skip
    item.file.save("upload", ContentFile(HTML), save=False)
    item.save()
    response = login(applicant).get(reverse("register:evidence_download", args=[item.pk]))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="report.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_an_accepted_cp932_csv_is_served_with_its_charset(login, applicant, app):
    assert post(login(applicant), app, "一覧.csv", CSV_CP932).status_code == 302
    item = Evidence.objects.get()
    response = login(applicant).get(reverse("register:evidence_download", args=[item.pk]))
    assert response["Content-Type"] == "text/csv; charset=Shift_JIS"
    assert b"".join(response.streaming_content) == CSV_CP932


@pytest.mark.django_db
def test_the_exit_certificate_goes_through_the_same_checks(login, applicant, security, app):
    from cloudjudge.web.register import workflow
    from cloudjudge.web.register.workflow import Step

    for action, user in [
        (Step.SUBMIT, applicant),
        (Step.APPROVE, security),
        (Step.START_USE, applicant),
        (Step.BEGIN_EXIT, applicant),
    ]:
        if action == Step.START_USE:
            app.checklist_items.update(status="done")  # 利用開始 needs them resolved
        workflow.perform(app, action, user)
    client = login(applicant)
    url = reverse("register:exit_step", args=[app.pk, "EXIT-2"])
    response = client.post(
        url, {"note": "受領", "certificate": SimpleUploadedFile("cert.pdf", HTML)}
    )
    assert not app.exit_steps.get(step="EXIT-2").done
    assert not Evidence.objects.exists()
    assert "受け付けません" in client.get(response["Location"]).content.decode()
    client.post(url, {"note": "受領", "certificate": SimpleUploadedFile("cert.pdf", pdf_bytes())})
    assert app.exit_steps.get(step="EXIT-2").done
