"""The procurement section (3.3): every SEL and EXIT item verbatim with its ID,
the applicable 別紙1 measures, visible blanks, Japanese fonts in the .docx."""

from __future__ import annotations

import io
import re

import docx
from docx.oxml.ns import qn

from cloudjudge.documents import procurement_docx, procurement_markdown
from cloudjudge.documents.procurement import BLANK, FILL_INS, full_width_brackets


def _docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    return "\n".join(p.text for p in document.paragraphs)


def _ids(text: str) -> set[str]:
    return set(
        re.findall(r"\b(?:SEL-[A-G]\d|EXIT-\d|S1-\d\dN?|S2-\d\d|T1-\d\d|PROC-\d|SU-\d)\b", text)
    )


def test_the_docx_holds_every_sel_and_exit_item_verbatim(catalog):
    text = _docx_text(procurement_docx(catalog))
    for item in catalog.items:
        if item.group in ("SEL", "EXIT"):
            assert item.id in text
            # The criteria's words, its brackets full width as the rest of the document.
            assert full_width_brackets(item.text) in text, item.id


def test_without_a_decision_every_annex_measure_is_included(catalog):
    text = _docx_text(procurement_docx(catalog))
    expected = {i.id for i in catalog.items if i.group in ("SEL", "EXIT", "S1", "S2")}
    assert _ids(text) == expected
    for item in catalog.items:
        if item.group in ("S1", "S2"):
            assert full_width_brackets(item.text) in text, item.id


def test_with_a_decision_only_its_annex_measures_are_included(catalog, decisions):
    decision = decisions["groupware"]
    required = {r["id"] for r in decision["required"]}
    markdown = procurement_markdown(catalog, decision)
    annex = {i for i in _ids(markdown) if i.startswith(("S1-", "S2-"))}
    assert annex == {i for i in required if i.startswith(("S1-", "S2-"))}
    assert not any(i.startswith("S2-") for i in annex)
    assert "S1-01" not in annex  # not critical to citizens
    sel_exit = {i.id for i in catalog.items if i.group in ("SEL", "EXIT")}
    assert sel_exit <= _ids(markdown)  # the selection criteria are always part of it
    assert "利用可" in markdown and catalog.label in markdown


def test_a_prohibited_decision_is_flagged(catalog, decisions):
    markdown = procurement_markdown(catalog, decisions["my_number"])
    assert "判定「禁止」" in markdown and "調達することはできない" in markdown


def test_headings_carry_the_clause_numbers(catalog):
    markdown = procurement_markdown(catalog)
    headings = [line for line in markdown.splitlines() if line.startswith("#")]
    assert "## 1. サービス及びサービス提供者の選定基準（基準 3.1（2））" in headings
    for letter in "アイウエオカキ":
        ref = f"3.1（2）（{letter}）"
        assert any(f"（基準 {ref}）" in h and h.startswith(f"### （{letter}） ") for h in headings)
    # Full-width brackets throughout: no half-width one is left in the text.
    assert "(" not in markdown and ")" not in markdown
    assert any("（基準 3.2）" in h for h in headings)
    assert any("（基準 別紙1①）" in h for h in headings)
    assert any("（基準 別紙1②）" in h for h in headings)
    assert any("（基準 3.3）" in h for h in headings)

    document = docx.Document(io.BytesIO(procurement_docx(catalog)))
    styled = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert set(styled) == {h.lstrip("# ") for h in headings}


def test_the_city_fills_blanks_for_retention_backup_sla_and_incidents(catalog):
    markdown = procurement_markdown(catalog)
    text = _docx_text(procurement_docx(catalog))
    for item_id, wanted in {
        "S1-06": ("ログ等の保存期間", f"{BLANK} 年以上"),
        "S1-10": ("バックアップの頻度", "バックアップデータの保存期間"),
        "SEL-C2": ("稼働率", "目標復旧時間（RTO）"),
        "SEL-F6": ("インシデントの報告期限（第一報）", f"検知から {BLANK} 時間以内"),
    }.items():
        assert item_id in FILL_INS
        for output in (markdown, text):
            block = output[output.index(item_id) :]
            block = block[: block.index(BLANK) + 200]
            for fragment in wanted:
                assert fragment in block, (item_id, fragment)
    assert markdown.count(BLANK) == text.count(BLANK) >= 20


def test_markdown_items_keep_their_line_breaks(catalog):
    markdown = procurement_markdown(catalog)
    g1 = catalog.item("SEL-G1")
    first, *rest = g1.text.split("\n")
    assert f"- **SEL-G1** {first}  \n" in markdown
    for line in rest:
        assert f"  {line}" in markdown


def test_the_docx_names_japanese_fonts(catalog):
    document = docx.Document(io.BytesIO(procurement_docx(catalog)))
    for name in ("Normal", "Heading 1", "Heading 2", "Heading 3"):
        fonts = document.styles[name].element.rPr.find(qn("w:rFonts"))
        assert fonts.get(qn("w:eastAsia")) in ("游明朝", "游ゴシック"), name
        assert fonts.get(qn("w:asciiTheme")) is None  # a theme font would override it
    defaults = document.styles.element.find(qn("w:docDefaults"))
    fonts = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:rFonts')}")
    assert fonts.get(qn("w:eastAsia")) == "游明朝"
    section = document.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297


def test_the_docx_converted_by_libreoffice_reads_back(
    catalog, decisions, libreoffice, poppler, tmp_path
):
    """Word's rendering, approximated by LibreOffice Writer: the page numbers of
    the footer's PAGE field, full-width brackets, the IDs, and a last page that
    is not a line or two left alone."""
    source = tmp_path / "procurement.docx"
    source.write_bytes(procurement_docx(catalog, decisions["storage"]))
    pdf = libreoffice.convert(source, tmp_path, "pdf")
    pages = poppler.page_texts(pdf)
    assert len(pages) >= 2
    for n, page in enumerate(pages, start=1):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        assert f"{n}/{len(pages)}" in [line.replace(" ", "") for line in lines], lines
    text = "".join(pages)
    assert "外部サービスの利用に係る要件" in text
    assert "SEL-A1" in text and "EXIT-1" in text and "【" in text
    assert "3.1（2）" in re.sub(r"\s+", "", text)
    assert "(" not in re.sub(r"[A-Za-z]\(|\)[A-Za-z]", "", text)
    last = [line for line in pages[-1].splitlines() if line.strip()]
    assert len(last) >= 6, last  # the closing section whole, and the footer
