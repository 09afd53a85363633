"""Formula neutralisation in every export (issue 14): a value beginning with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return never starts a formula.

Every CSV and workbook the city hands out is written by one of five writers,
each asking ``cloudjudge.documents.cells``: ``exports.iter_csv`` /
``csv_bytes`` (register CSV, re-judging report CSV, ``rejudge --export``),
``exports.cp932_csv_bytes`` (register CSV in Shift_JIS),
``exports.xlsx_bytes`` (register, checklist and re-judging Excel),
``audit.export.csv_lines`` (audit log CSV, ``audit_export``) and the core
``documents.questionnaire`` (the vendor questionnaire); the registry template
(``registries.template``) writes only its own words, through the same helper.

Each test fills the register with one value per leading character and checks
two things of the file: the value is there, as the helper writes it (CSV: the
apostrophe before it; Excel: a string cell with the quote prefix), and no cell
anywhere in the file starts a formula (CSV: no cell begins with one of the
characters; Excel: no ``<f>`` element, every string cell that begins with one
is quote-prefixed).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from cloudjudge.documents.cells import FORMULA_PREFIXES, csv_text, looks_like_formula
from cloudjudge.registries.template import template_bytes
from cloudjudge.web.accounts.models import Role, User
from cloudjudge.web.register import applications, checklist, workflow
from cloudjudge.web.register.models import Service
from cloudjudge.web.register.workflow import Step

from ..conftest import GROUPWARE

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "catalogs"
REVISION = "sakai-cloud-usage-criteria@1.1-example"
LEADS = {"=": "equals", "+": "plus", "-": "minus", "@": "at", "\t": "tab", "\r": "CR"}
assert tuple(LEADS) == FORMULA_PREFIXES


def hostile(lead: str, what: str) -> str:
    return f'{lead}HYPERLINK("http://evil.example/{what}","{LEADS[lead]}")'


@pytest.fixture
def register(department, security, monkeypatch):
    """One applicant, service and application per leading character, each
    text field starting with it; the first application's checklist notes too."""
    monkeypatch.setenv("CLOUDJUDGE_CATALOG_DIRS", str(FIXTURES))
    made = []
    for lead in LEADS:
        user = User.objects.create_user(
            username=hostile(lead, "user"),
            password="x" * 16,
            role=Role.APPLICANT,
            department=department,
            last_name=hostile(lead, "name"),
        )
        service = Service(name=hostile(lead, "service"), provider=hostile(lead, "provider"))
        service.listings = ("ismap",)
        service.save()
        application = applications.create_application(
            user, service, **{**GROUPWARE, "purpose": hostile(lead, "purpose")}
        )
        workflow.perform(application, Step.SUBMIT, user)
        made.append(application)
    rows = list(made[0].checklist_items.order_by("position"))
    for lead, row in zip(LEADS, rows, strict=False):
        checklist.update_item(row, made[0].applicant, note=hostile(lead, "note"))
    return made


def _body(response) -> bytes:
    assert response.status_code == 200, response
    return b"".join(response.streaming_content) if response.streaming else response.content


def _check_csv(data: bytes, encoding: str, values: list[str]) -> None:
    rows = list(csv.reader(io.StringIO(data.decode(encoding), newline="")))
    cells = [cell for row in rows for cell in row]
    starting = [cell for cell in cells if looks_like_formula(cell)]
    assert not starting, f"cells that start a formula: {starting!r}"
    missing = [v for v in values if csv_text(v) not in cells]
    assert not missing, f"not written as {csv_text(missing[0])!r}: {missing!r}"
    assert all(csv_text(v) == "'" + v for v in values)


def _check_xlsx(data: bytes, values: list[str]) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for part in package.namelist():
            if part.startswith("xl/worksheets/"):
                assert not re.search(r"<f[ >]", package.read(part).decode()), part
    book = load_workbook(io.BytesIO(data))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    live = [
        c.coordinate
        for c in cells
        if isinstance(c.value, str)
        and looks_like_formula(c.value)
        and not (c.data_type == "s" and c.quotePrefix)
    ]
    assert not live, f"formula-like cells without the quote prefix: {live}"
    texts = {c.value for c in cells if isinstance(c.value, str)}
    missing = [v for v in values if v not in texts]
    assert not missing, f"not in any cell: {missing!r}"


def _application_values(register, *whats: str) -> list[str]:
    return [hostile(lead, what) for lead in LEADS for what in whats]


@pytest.mark.parametrize("encoding", ["utf-8", "cp932"])
def test_register_csv(register, login, security, encoding):
    query = {"encoding": encoding} if encoding == "cp932" else {}
    data = _body(login(security).get(reverse("documents:export_csv"), query))
    values = _application_values(register, "service", "provider", "purpose")
    _check_csv(data, "cp932" if encoding == "cp932" else "utf-8-sig", values)


def test_register_excel(register, login, security):
    data = _body(login(security).get(reverse("documents:export_xlsx")))
    _check_xlsx(data, _application_values(register, "service", "provider", "purpose"))


def test_checklist_excel(register, login, security):
    url = reverse("documents:checklist_xlsx", args=[register[0].pk])
    _check_xlsx(_body(login(security).get(url)), [hostile(lead, "note") for lead in LEADS])


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_rejudge_report(register, login, security, fmt, tmp_path):
    url = reverse("documents:rejudge_export", args=[fmt])
    data = _body(login(security).get(url, {"version": REVISION}))
    target = tmp_path / f"report.{fmt}"
    call_command("rejudge", "--version", REVISION, "--dry-run", "--export", str(target))
    values = _application_values(register, "service")
    for content in (data, target.read_bytes()):
        if fmt == "csv":
            _check_csv(content, "utf-8-sig", values)
        else:
            _check_xlsx(content, values)


def test_audit_log_csv(register, login, auditor, tmp_path):
    usernames = _application_values(register, "user")
    _check_csv(_body(login(auditor).get(reverse("audit:export_csv"))), "utf-8-sig", usernames)
    target = tmp_path / "audit.csv"
    call_command("audit_export", "--format", "csv", "--output", str(target))
    _check_csv(target.read_bytes(), "utf-8-sig", usernames)


@pytest.mark.parametrize("lead", list(LEADS), ids=list(LEADS.values()))
def test_vendor_questionnaire(register, login, lead):
    """The file that goes to outside vendors: service, provider, department
    (here the applicant's) and the ``?contact=`` of the download."""
    application = register[list(LEADS).index(lead)]
    url = reverse("documents:questionnaire_download", args=[application.pk])
    contact = hostile(lead, "contact")
    data = _body(login(application.applicant).get(url, {"due": "2099-12-31", "contact": contact}))
    service = application.service
    # A form field drops a leading tab or line break before the view sees it.
    _check_xlsx(data, [service.name, service.provider, contact.lstrip("\t\r")])


@pytest.mark.parametrize("kind", ["ismap", "ismap_liu", "lgwan_asp"])
def test_registry_templates(kind):
    _check_xlsx(template_bytes(kind), [])
