"""Stored XSS (issue 14): every free-text field, every output.

``hostile_world.build()`` makes a register in which each free-text field a
person, a vendor or a registry file can fill holds
``"><script>alert("<field>")</script><img src=x onerror=alert("<field>")>``
(``hostile_world.FIELDS`` lists them). Each table below says, for one kind of
output, which of those fields it shows; the tests check every (field, output)
pair of the table:

* pages: the payload never appears raw, and each field it shows appears
  escaped (so the check fails if a page stops showing a field as much as if
  it stopped escaping it);
* PDF (pdftotext -raw), CSV (parsed back) and Excel (openpyxl: string cells):
  the text is there, whole, as text; the PDF has no JavaScript or link
  annotations;
* the procurement DOCX and Markdown hold no applicant text at all, and the
  DOCX no field code but the page numbers and no hyperlink;
* e-mails: the HTML part escaped, the text part the words as typed;
* JSON downloads: served as JSON with ``nosniff``, never as a page.

The viewer's own name is in every page's header; a page's table lists the
other fields only. Formula neutralisation (``=``, ``+``, ``-``, ``@``, tab, CR)
in each writer is ``test_formula_cells.py``.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from openpyxl import load_workbook

from cloudjudge.documents.cells import csv_text
from cloudjudge.web.register import notices, reminders

from .hostile_world import FIELDS, World, build, payload

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "catalogs"
REVISION = "sakai-cloud-usage-criteria@1.1-example"

#: The facts of an application and its checklist as its own pages show them.
APPLICATION = {"service_name", "provider", "purpose", "department", "applicant"}
WORK = {"owner", "note", "na_reason", "evidence"}
VENDOR = {"q_explanation", "q_evidence", "q_review_reason"}

#: page → (who looks, the URL in the world, the fields it shows besides the viewer's name).
PAGES = {
    "register list": ("applicant", lambda w: reverse("register:list"), APPLICATION - {"purpose"}),
    "register list (security office)": (
        "reviewer",
        lambda w: reverse("register:list"),
        {"service_name", "provider", "department"},
    ),
    "application page (queued)": (
        "applicant",
        lambda w: reverse("register:detail", args=[w.queued.pk]),
        APPLICATION | WORK | VENDOR | {"exception_note", "reviewer", "return_comment", "q_file"},
    ),
    "application page (in use, ending)": (
        "reviewer",
        lambda w: reverse("register:detail", args=[w.in_use.pk]),
        APPLICATION | {"owner", "approve_comment", "exit_note"},
    ),
    "application form (draft)": (
        "applicant",
        lambda w: reverse("register:edit", args=[w.draft.pk]),
        {"service_name", "provider", "purpose", "exception_note", "department"},
    ),
    "judgement page": (
        "applicant",
        lambda w: reverse("register:judgement", args=[w.queued.pk, w.queued.latest_judgement_id]),
        {"service_name", "department"},
    ),
    "checklist row": (
        "applicant",
        lambda w: reverse("register:checklist_item", args=[w.queued.pk, w.rows[0].pk]),
        {"owner", "note", "evidence", "reviewer", "department"} | VENDOR,
    ),
    "checklist row (not applicable)": (
        "applicant",
        lambda w: reverse("register:checklist_item", args=[w.queued.pk, w.rows[1].pk]),
        {"na_reason", "owner", "reviewer", "department"},
    ),
    "service's registry status (htmx part, no header)": (
        "applicant",
        lambda w: reverse("register:service_status") + f"?service={w.service.pk}",
        {"service_name"},
    ),
    "conditional approval form": (
        "reviewer",
        lambda w: reverse("register:conditional", args=[w.approved.pk]),
        {"service_name", "owner"},
    ),
    "dashboard (department)": (
        "applicant",
        lambda w: reverse("register:dashboard"),
        {"service_name", "department"},
    ),
    "dashboard (security office)": (
        "reviewer",
        lambda w: reverse("register:dashboard"),
        {"service_name", "department"},
    ),
    "review queue": (
        "reviewer",
        lambda w: reverse("register:reviews"),
        {"service_name", "department"},
    ),
    "questionnaire review": (
        "reviewer",
        lambda w: reverse("questionnaires:review", args=[w.queued.pk, w.questionnaire.pk]),
        {"service_name", "applicant", "q_file"} | VENDOR,
    ),
    "registry list": (
        "reviewer",
        lambda w: reverse("registries:list"),
        {"registry_name", "registry_provider"},
    ),
    "registry entry": (
        "reviewer",
        lambda w: reverse("registries:entry", args=[w.entry.pk]),
        {"registry_name", "registry_provider", "registry_file", "service_name", "provider"},
    ),
    "registry entry form": (
        "reviewer",
        lambda w: reverse("registries:entry_edit", args=[w.entry.pk]),
        {"registry_name", "registry_provider"},
    ),
    "registry imports": (
        "reviewer",
        lambda w: reverse("registries:snapshots"),
        {"registry_file"},
    ),
    "registry import": (
        "reviewer",
        lambda w: reverse("registries:snapshot", args=[w.snapshot.pk]),
        {"registry_file", "registry_name", "registry_provider"},
    ),
    "service's listings": (
        "reviewer",
        lambda w: reverse("registries:service", args=[w.service.pk]),
        {"service_name", "provider", "registry_name"},
    ),
    "admin site: users (no header name)": (
        "admin",
        lambda w: reverse("admin:accounts_user_changelist"),
        {"applicant", "reviewer", "auditor", "owner", "department"},
    ),
    "admin site: a user (no header name)": (
        "admin",
        lambda w: reverse("admin:accounts_user_change", args=[w.applicant.pk]),
        {"applicant", "department"},
    ),
    "admin site: departments (no header name)": (
        "admin",
        lambda w: reverse("admin:accounts_department_changelist"),
        {"department"},
    ),
    "audit log": (
        "auditor",
        lambda w: reverse("audit:list"),
        {"service_name", "applicant", "reviewer", "condition_comment", "exit_note"},
    ),
}


@pytest.fixture
def world(login) -> World:
    return build(login)


def _label(tag: str) -> str:
    return FIELDS.get(tag, f"{tag} (the ?contact= of the download)")


def _markup(html: str) -> list[str]:
    """The fields whose payload reached the page as markup, even in part."""
    return [
        tag
        for tag in FIELDS
        if f'<script>alert("{tag}")' in html or f'<img src=x onerror=alert("{tag}")>' in html
    ]


def test_pages_show_every_field_escaped(world, login):
    failures = []
    for page, (who, url, shown) in PAGES.items():
        viewer = getattr(world, who)
        response = login(viewer).get(url(world))
        if response.status_code != 200:
            failures.append(f"{page}: HTTP {response.status_code}")
            continue
        html = response.content.decode()
        raw = [tag for tag in FIELDS if payload(tag) in html] + _markup(html)
        failures += [f"{page}: {_label(tag)} raw" for tag in dict.fromkeys(raw)]
        expected = shown | ({who} if "no header" not in page else set())  # the viewer's name
        failures += [
            f"{page}: {_label(tag)} not shown escaped"
            for tag in sorted(expected)
            if escape(payload(tag)) not in html
        ]
    assert not failures, "\n".join(failures)


# --------------------------------------------------------------------------- files


def _body(response) -> bytes:
    assert response.status_code == 200, response
    return b"".join(response.streaming_content) if response.streaming else response.content


def _csv_cells(data: bytes, encoding: str = "utf-8-sig") -> set[str]:
    rows = csv.reader(io.StringIO(data.decode(encoding), newline=""))
    return {cell for row in rows for cell in row}


def _xlsx_cells(data: bytes) -> list:
    book = load_workbook(io.BytesIO(data))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


#: CSV download → (who, URL and query, the fields it holds, each a whole cell).
CSV_FILES = {
    "register CSV": ("reviewer", lambda w: (reverse("documents:export_csv"), {}), APPLICATION),
    "register CSV (Shift_JIS)": (
        "reviewer",
        lambda w: (reverse("documents:export_csv"), {"encoding": "cp932"}),
        APPLICATION,
    ),
    "re-judging report CSV": (
        "reviewer",
        lambda w: (reverse("documents:rejudge_export", args=["csv"]), {"version": REVISION}),
        {"service_name", "department"},
    ),
    "audit log CSV": (
        "auditor",
        lambda w: (reverse("audit:export_csv"), {}),
        {"applicant", "reviewer"},  # the actor column; the rest sits inside JSON cells
    ),
}

#: Excel download → (who, URL and query, the fields it holds, in string cells).
XLSX_FILES = {
    "register Excel": ("reviewer", lambda w: (reverse("documents:export_xlsx"), {}), APPLICATION),
    "checklist Excel": (
        "applicant",
        lambda w: (reverse("documents:checklist_xlsx", args=[w.queued.pk]), {}),
        WORK | VENDOR | {"reviewer"},
    ),
    "re-judging report Excel": (
        "reviewer",
        lambda w: (reverse("documents:rejudge_export", args=["xlsx"]), {"version": REVISION}),
        {"service_name", "department"},
    ),
    "vendor questionnaire": (
        "applicant",
        lambda w: (
            reverse("documents:questionnaire_download", args=[w.queued.pk]),
            {"due": "2099-12-31", "contact": payload("contact")},
        ),
        {"service_name", "provider", "department", "contact"},
    ),
}


@pytest.fixture
def revision(monkeypatch):
    monkeypatch.setenv("CLOUDJUDGE_CATALOG_DIRS", str(FIXTURES))


def test_csv_files_hold_every_field_as_text(world, login, revision):
    failures = []
    for name, (who, where, fields) in CSV_FILES.items():
        url, query = where(world)
        encoding = "cp932" if query.get("encoding") == "cp932" else "utf-8-sig"
        cells = _csv_cells(_body(login(getattr(world, who)).get(url, query)), encoding)
        failures += [
            f"{name}: {FIELDS[tag]} is not the cell {csv_text(payload(tag))!r}"
            for tag in sorted(fields)
            if csv_text(payload(tag)) not in cells
        ]
    assert not failures, "\n".join(failures)


def test_workbooks_hold_every_field_as_string_cells(world, login, revision):
    failures = []
    for name, (who, where, fields) in XLSX_FILES.items():
        url, query = where(world)
        data = _body(login(getattr(world, who)).get(url, query))
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            for part in package.namelist():
                if part.startswith("xl/worksheets/") and re.search(
                    r"<f[ >]", package.read(part).decode()
                ):
                    failures.append(f"{name}: a formula in {part}")
        cells = _xlsx_cells(data)
        for tag in sorted(fields):
            found = [c for c in cells if isinstance(c.value, str) and payload(tag) in c.value]
            if not found:
                failures.append(f"{name}: {_label(tag)} not in any cell")
            failures += [
                f"{name}: {_label(tag)} in {c.coordinate} is {c.data_type!r}, not text"
                for c in found
                if c.data_type != "s"
            ]
    assert not failures, "\n".join(failures)


#: PDF → (who, URL, the fields its text holds).
PDFS = {
    "judgement report (queued)": (
        "applicant",
        lambda w: reverse("documents:report_pdf", args=[w.queued.pk]),
        APPLICATION | WORK | VENDOR | {"exception_note", "reviewer", "return_comment"},
    ),
    "judgement report (in use)": (
        "applicant",
        lambda w: reverse("documents:report_pdf", args=[w.in_use.pk]),
        APPLICATION | {"owner", "reviewer", "approve_comment"},
    ),
    "register report": (
        "reviewer",
        lambda w: reverse("documents:register_pdf"),
        {"service_name", "provider", "department"},
    ),
}


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler's pdftotext")
def test_pdfs_hold_every_field_as_text(world, login, tmp_path):
    failures = []
    for name, (who, url, fields) in PDFS.items():
        data = _body(login(getattr(world, who)).get(url(world)))
        assert data.startswith(b"%PDF-"), name
        for marker in (b"/JavaScript", b"/JS ", b"/URI", b"/Launch", b"/SubmitForm"):
            if marker in data:
                failures.append(f"{name}: {marker.decode()} in the file")
        path = tmp_path / "report.pdf"
        path.write_bytes(data)
        # -raw: in the order the text was drawn, so a cell's wrapped lines stay together.
        text = _flat(
            subprocess.run(
                ["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"],
                capture_output=True,
                check=True,
            ).stdout.decode()
        )
        failures += [
            f"{name}: {FIELDS[tag]} not in its text"
            for tag in sorted(fields)
            if _flat(payload(tag)) not in text
        ]
    assert not failures, "\n".join(failures)


def test_procurement_text_holds_no_applicant_text(world, login):
    """The procurement section is the catalog's words and the verdict: nothing
    a person typed, no hyperlink and no field code but the page numbers."""
    import docx

    client = login(world.applicant)
    url = reverse("documents:procurement", args=[world.queued.pk, "docx"])
    data = _body(client.get(url))
    document = docx.Document(io.BytesIO(data))
    text = "\n".join(p.text for p in document.paragraphs)
    text += "\n".join(cell.text for t in document.tables for r in t.rows for cell in r.cells)
    assert "第 1.0 版" in text or "本章は" in text  # it is the procurement text
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        xml = "".join(package.read(n).decode() for n in package.namelist() if n.startswith("word/"))
    assert "<w:hyperlink" not in xml and "<w:fldSimple" not in xml
    assert set(re.findall(r"<w:instrText[^>]*>([^<]*)<", xml)) <= {
        "PAGE",
        "NUMPAGES",
        " PAGE ",
        " NUMPAGES ",
    }
    markdown = _body(client.get(reverse("documents:procurement", args=[world.queued.pk, "md"])))
    for tag in FIELDS:
        assert f'alert("{tag}")' not in text, tag
        assert f'alert("{tag}")' not in markdown.decode(), tag


def test_json_downloads_are_never_a_page(world, login):
    url = reverse("documents:assessment_results", args=[world.queued.pk])
    response = login(world.applicant).get(url)
    assert response["Content-Type"].startswith("application/json")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'alert(\\"service_name\\")' in response.content.decode()  # the data, as JSON


def test_download_names_carry_no_markup(world, login):
    url = reverse("documents:questionnaire_download", args=[world.queued.pk])
    disposition = login(world.applicant).get(url, {"due": "2099-12-31"})["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    assert not re.search(r"[<>\r\n]", disposition)
    assert disposition.count('"') == 2  # only around the ASCII name


# --------------------------------------------------------------------------- e-mails


def test_mails_escape_html_and_keep_text(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    digest = next(d for d in reminders.collect(timezone.localdate()) if d.user == world.reviewer)
    message = reminders.message(digest, timezone.localdate())
    html = message.alternatives[0][0]
    shown = {"service_name", "department", "applicant", "reviewer"}
    failures = [f"digest HTML: {FIELDS[t]} raw" for t in FIELDS if payload(t) in html]
    failures += [
        f"digest HTML: {FIELDS[t]} not escaped" for t in shown if escape(payload(t)) not in html
    ]
    failures += [
        f"digest text: {FIELDS[t]} changed" for t in shown if payload(t) not in message.body
    ]
    assert "\n" not in message.subject
    assert notices.needs_review(world.in_use.pk, payload("note")) > 0
    sent = mail.outbox[-1]
    assert sent.content_subtype == "plain" and not getattr(sent, "alternatives", None)
    failures += [
        f"needs-review mail: {FIELDS[t]} changed"
        for t in ("service_name", "department", "note")
        if payload(t) not in sent.body
    ]
    assert not failures, "\n".join(failures)


# --------------------------------------------------------------------------- the catalog

CATALOG_PAYLOAD = "<script>alert(catalog)</script><img src=x onerror=alert(catalog)>"
HOSTILE_VERSION = "sakai-cloud-usage-criteria@1.2-hostile"


@pytest.fixture
def hostile_catalog(tmp_path, monkeypatch, settings):
    """The example revision with 本市 replaced by markup everywhere it is text
    (clause texts, item titles, rule messages), installed and in force: the
    catalog is trusted, but a page must not depend on that."""
    source = (FIXTURES / "sakai-1.1-example.yaml").read_text(encoding="utf-8")
    text = source.replace('version: "1.1-example"', 'version: "1.2-hostile"')
    (tmp_path / "sakai-1.2-hostile.yaml").write_text(
        text.replace("本市", CATALOG_PAYLOAD), encoding="utf-8"
    )
    monkeypatch.setenv("CLOUDJUDGE_CATALOG_DIRS", str(tmp_path))
    settings.CLOUDJUDGE_CATALOG_VERSION = HOSTILE_VERSION


def test_catalog_text_is_escaped_too(hostile_catalog, make_application, login, applicant, security):
    from .helpers import INTERNET_PC

    application = make_application(**INTERNET_PC)
    assert application.latest_judgement.criteria_version == HOSTILE_VERSION
    row = application.checklist_items.filter(title__contains=CATALOG_PAYLOAD).first()
    assert row is not None  # a required measure has the markup in its title
    pages = {
        "versions": (security, reverse("register:versions")),  # its label only
        "diff": (security, reverse("register:catalog_diff") + "?old=1.0&new=1.2-hostile"),
        "application page": (applicant, reverse("register:detail", args=[application.pk])),
        "checklist row": (
            applicant,
            reverse("register:checklist_item", args=[application.pk, row.pk]),
        ),
    }
    failures = []
    for name, (user, url) in pages.items():
        response = login(user).get(url)
        html = response.content.decode()
        if response.status_code != 200:
            failures.append(f"{name}: HTTP {response.status_code}")
        elif CATALOG_PAYLOAD in html or "<script>alert(catalog)" in html:
            failures.append(f"{name}: catalog markup raw")
        elif name != "versions" and escape(CATALOG_PAYLOAD) not in html:
            failures.append(f"{name}: the catalog's words not shown")
    assert not failures, "\n".join(failures)
    report = login(applicant).get(reverse("documents:report_pdf", args=[application.pk]))
    assert report.status_code == 200 and report.content.startswith(b"%PDF-")


def test_search_words_come_back_escaped(world, login):
    """What was typed in a search box is shown again above the results."""
    words = payload("search")
    failures = []
    for who, name in (
        ("applicant", "register:list"),
        ("reviewer", "registries:list"),
        ("auditor", "audit:list"),
    ):
        response = login(getattr(world, who)).get(reverse(name), {"q": words})
        html = response.content.decode()
        if response.status_code != 200 or words in html or '<script>alert("search")' in html:
            failures.append(f"{name}: HTTP {response.status_code}, raw: {words in html}")
        elif escape(words) not in html:
            failures.append(f"{name}: the search words are not in the form")
    assert not failures, "\n".join(failures)
