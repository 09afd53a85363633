"""Cells that leave the city are text, never a formula: the helper itself, and
the vendor questionnaire, whose cover carries the application's own words."""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from cloudjudge.documents import build_questionnaire, read_questionnaire
from cloudjudge.documents.cells import csv_text, looks_like_formula, put_text
from cloudjudge.documents.questionnaire import COVER_SHEET

HOSTILE = (
    '=HYPERLINK("http://evil.example","x")',
    "+81-3-1234",
    "-1+1",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
)


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_like_text_is_quoted_for_csv(text):
    assert looks_like_formula(text)
    assert csv_text(text) == "'" + text


@pytest.mark.parametrize("text", ["株式会社=例", "通常の名前", "", "1+1", "＝全角"])
def test_ordinary_text_is_left_alone(text):
    assert not looks_like_formula(text)
    assert csv_text(text) == text


def test_csv_text_of_none_and_numbers():
    assert csv_text(None) == "" and csv_text(3) == "3" and csv_text(-3) == "'-3"


def _sheet_xml(data: bytes, sheet: int = 1) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return package.read(f"xl/worksheets/sheet{sheet}.xml").decode()


def test_put_text_writes_a_string_cell_with_the_quote_prefix():
    wb = Workbook()
    ws = wb.active
    for row, text in enumerate(HOSTILE, start=1):
        put_text(ws.cell(row, 1), text)
    put_text(ws.cell(1, 2), "ふつう\x01の名前")
    put_text(ws.cell(2, 2), 42)
    out = io.BytesIO()
    wb.save(out)
    xml = _sheet_xml(out.getvalue())
    assert "<f>" not in xml  # no formula anywhere
    again = load_workbook(io.BytesIO(out.getvalue()))
    cells = [again.active.cell(r, 1) for r in range(1, len(HOSTILE) + 1)]
    assert [c.value for c in cells] == list(HOSTILE)
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    assert again.active.cell(1, 2).value == "ふつうの名前"  # a control character dropped
    assert again.active.cell(2, 2).value == 42 and not again.active.cell(1, 2).quotePrefix


def test_the_questionnaire_writes_the_applications_words_as_text(make_questionnaire_request):
    """Service name, provider, department and contact come from people: a vendor
    opening the questionnaire must see them, not run them."""
    app = dataclasses.replace(
        make_questionnaire_request("storage"),
        service_name='=HYPERLINK("http://evil.example","開く")',
        provider="+cmd|' /C calc'!A0",
        department="@SUM(1)",
        contact="-2+3",
    )
    data = build_questionnaire(app)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for name in package.namelist():
            if name.startswith("xl/worksheets/"):
                assert not re.search(r"<f[ >]", package.read(name).decode()), name
    cover = load_workbook(io.BytesIO(data))[COVER_SHEET]
    values = {cover.cell(r, 1).value: cover.cell(r, 2) for r in range(4, 14)}
    for label, text in (
        ("サービス名", app.service_name),
        ("提供事業者", app.provider),
        ("申請部署", app.department),
        ("問い合わせ先（返送先）", app.contact),
    ):
        assert values[label].value == text and values[label].data_type == "s"
        assert values[label].quotePrefix
    # …and the workbook still reads back as this application's questionnaire.
    answers = read_questionnaire(data, app)
    assert len(answers) == len(app.item_ids)
