"""Stored XSS (issue 14): a script or an attribute-breaking payload kept in a
free-text field of an application comes back escaped on the pages and as inert
text in the PDF report, the CSV and the Excel export.

Covered here: the service's name and provider and the application's purpose,
on the register list, the application page, the PDF report (pdftotext), the
register CSV and Excel. Not yet: the other free-text fields and outputs listed
in issue 14 (checklist notes, review comments, evidence names, registry
entries, user names; DOCX, questionnaire).
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess

import pytest
from django.urls import reverse
from django.utils.html import escape
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db

PAYLOADS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']
FIELDS = ["name", "provider", "purpose"]


@pytest.fixture(
    params=[(f, p) for f in FIELDS for p in PAYLOADS],
    ids=lambda fp: f"{fp[0]}-{PAYLOADS.index(fp[1])}",
)
def hostile(request, make_application, make_service):
    field, payload = request.param
    service = make_service(**({field: payload} if field != "purpose" else {}))
    facts = {"purpose": payload} if field == "purpose" else {}
    return make_application(service=service, **facts), payload


def test_pages_escape_it(hostile, login, applicant):
    application, payload = hostile
    client = login(applicant)
    for url in (reverse("register:list"), reverse("register:detail", args=[application.pk])):
        html = client.get(url).content.decode()
        assert payload not in html, url
        assert "<script>alert" not in html and "<img src=x" not in html, url
    assert escape(payload) in html  # the application page shows it, as text


def test_csv_and_excel_hold_it_as_text(hostile, login, applicant):
    _, payload = hostile
    client = login(applicant)
    response = client.get(reverse("documents:export_csv"))
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content, newline="")))
    assert any(payload in cell for cell in rows[1])
    sheet = load_workbook(io.BytesIO(client.get(reverse("documents:export_xlsx")).content)).active
    cells = [c for c in sheet[2] if c.value and payload in str(c.value)]
    assert cells and all(c.data_type == "s" for c in cells)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler's pdftotext")
def test_the_pdf_holds_it_as_text(hostile, login, applicant, tmp_path):
    application, payload = hostile
    response = login(applicant).get(reverse("documents:report_pdf", args=[application.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    path = tmp_path / "report.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout.decode()
    flat = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", payload) in flat
    assert b"/JavaScript" not in response.content and b"/JS " not in response.content
