"""The downloadable template reads back, and docs/registries.md covers every heading."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from cloudjudge.registries import (
    KINDS,
    RegistryImportError,
    read_registry,
    template_bytes,
    write_template,
)
from cloudjudge.registries.columns import columns_for
from cloudjudge.registries.template import EXAMPLES, TEMPLATE_FIELDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "registries.md"


@pytest.mark.parametrize("kind", KINDS)
def test_the_template_as_downloaded_has_only_its_example_row_which_is_never_imported(
    kind, tmp_path
):
    path = write_template(kind, tmp_path / f"{kind}.xlsx")
    with pytest.raises(RegistryImportError) as caught:
        read_registry(path, kind)
    (problem,) = caught.value.problems
    assert problem.code == "no_rows" and "テンプレートの記入例の行だけがあります" in problem.message


@pytest.mark.parametrize("kind", KINDS)
def test_the_template_filled_in_reads_back_without_its_example_row(kind, tmp_path):
    path = write_template(kind, tmp_path / f"{kind}.xlsx")
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    example = EXAMPLES[kind]
    real = {**example, "number": example["number"].replace("99", "21"), "service_name": "本番"}
    ws.append([real.get(f, "") for f in TEMPLATE_FIELDS[kind]])
    wb.save(path)
    parsed = read_registry(path, kind)
    assert parsed.header_row == 1
    assert set(parsed.columns) == set(TEMPLATE_FIELDS[kind])
    (entry,) = parsed.entries
    assert entry.number == real["number"] and entry.service_name == "本番"
    assert entry.registered_on == example["registered_on"]
    assert entry.audit_period_end == example.get("audit_period_end")
    (warning,) = parsed.warnings
    assert (warning.code, warning.row) == ("example_row", 2)


@pytest.mark.parametrize("kind", KINDS)
def test_template_has_japanese_headings_and_an_explanation_sheet(kind, tmp_path):
    path = tmp_path / "t.xlsx"
    path.write_bytes(template_bytes(kind))
    wb = load_workbook(path)
    sheet, notes = wb.worksheets
    headings = [c.value for c in sheet[1]]
    assert headings[:3] == [
        "登録番号" if kind != "lgwan_asp" else "サービスコード",
        "クラウドサービスの名称",
        "事業者",
    ]
    assert notes.title == "記入方法"
    assert [c.value for c in notes[1]] == ["列", "必須", "受け付ける見出し", "説明"]


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        template_bytes("fedramp")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        read_registry(b"", "fedramp")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", KINDS)
def test_docs_name_every_heading_and_variant(kind):
    text = DOC.read_text(encoding="utf-8")
    for column in columns_for(kind):
        for heading in column.headings():
            assert heading in text, f"docs/registries.md does not mention {heading!r}"
