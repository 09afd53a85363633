"""The procurement specification section (3.3): what a 調達仕様書 must say.

3.3 requires the selection criteria to be part of the specification, and the
city to confirm before the contract that the vendor meets them. This module
writes that section: the selection criteria 3.1(2)(ア)–(キ) (every SEL item,
verbatim, with its ID), the exit requirements 3.2 (EXIT), and the measures of
別紙1 that apply (all of ① and ② without a decision, the decision's required
ones with one), each followed by the figures the city fills in per procurement,
shown as 【　　　】 fields.

The same content is rendered as Markdown and as .docx (python-docx).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cloudjudge.catalog import Catalog
from cloudjudge.catalog.schema import Item
from cloudjudge.labels import VERDICT_LABELS, label

BLANK = "【　　　】"

#: The figures the city fills in, per item: (what, the sentence with the blank).
FILL_INS: dict[str, tuple[tuple[str, str], ...]] = {
    "SEL-B1": (("監査結果の報告時期", f"年 {BLANK} 回（{BLANK} 月）"),),
    "SEL-C2": (
        ("稼働率", f"{BLANK} ％以上（月間、計画停止を除く）"),
        ("目標復旧時間（RTO）", f"障害発生から {BLANK} 時間以内"),
        ("目標復旧時点（RPO）", f"障害発生の {BLANK} 時間前の時点まで"),
        ("計画停止の事前通知", f"{BLANK} 日前まで"),
        ("SLA 未達時の措置", BLANK),
    ),
    "SEL-D1": (
        ("データセンターの所在地", f"日本国内（{BLANK}）"),
        ("準拠法・合意管轄裁判所", f"日本法、{BLANK} 地方裁判所"),
    ),
    "SEL-F3": (("稼働停止の速報", f"検知から {BLANK} 分以内"),),
    "SEL-F4": (("障害の速報", f"検知から {BLANK} 分以内"),),
    "SEL-F5": (("詳細の報告時期", f"{BLANK}（例: 月次報告）"),),
    "SEL-F6": (
        ("インシデントの報告期限（第一報）", f"検知から {BLANK} 時間以内"),
        ("報告先・連絡手段", BLANK),
    ),
    "SEL-F7": (("調査結果の詳細報告", f"検知から {BLANK} 日以内"),),
    "EXIT-1": (
        ("データの出力形式", f"{BLANK}（例: CSV）"),
        ("移行への協力期間", f"利用終了の {BLANK} か月前から終了まで"),
    ),
    "EXIT-2": (("削除証明書の提出", f"利用終了後 {BLANK} 日以内"),),
    "S1-01": (("冗長化の範囲", BLANK),),
    "S1-06": (("ログ等の保存期間", f"{BLANK} 年以上（1 年以上を記載）"),),
    "S1-10": (
        ("バックアップの頻度", BLANK),
        ("バックアップデータの保存期間", f"{BLANK}（{BLANK} 世代）"),
        ("リカバリー方法", BLANK),
    ),
    "S2-11": (("画面ロックまでの時間", f"無操作 {BLANK} 分"),),
    "S2-12": (("自動ログオフまでの時間", f"無操作 {BLANK} 分"),),
}

TITLE = "外部サービスの利用に係る要件（調達仕様書記載事項）"


# --------------------------------------------------------------------------- content


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Entry:
    """One requirement: its ID, verbatim text and the blanks that follow it."""

    item_id: str
    text: str
    fill_ins: tuple[tuple[str, str], ...]


Block = Heading | Paragraph | Entry


def _clause_title(catalog: Catalog, ref: str) -> str:
    return catalog.clause(ref).title if catalog.has_clause(ref) else ""


def _by_clause(items: list[Item]) -> list[tuple[str, list[Item]]]:
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(item.clause, []).append(item)
    return list(groups.items())


def _entry(item: Item) -> Entry:
    return Entry(item.id, item.text, FILL_INS.get(item.id, ()))


def _clause_label(ref: str) -> str:
    """``3.1(2)(ア)`` → ``(ア)``; ``別紙1①`` → ``①``."""
    if ref.startswith("別紙1"):
        return ref.removeprefix("別紙1")
    return ref[ref.rfind("(") :] if "(" in ref else ref


#: Brackets as a Japanese document writes them: full width throughout, in the
#: criteria's own text too (its words are kept, only 「(」「)」 become 「（」「）」).
_BRACKETS = str.maketrans({"(": "（", ")": "）"})


def full_width_brackets(text: str) -> str:
    return text.translate(_BRACKETS)


def _full_width(block: Block) -> Block:
    if isinstance(block, Entry):
        fill_ins = tuple(
            (full_width_brackets(a), full_width_brackets(b)) for a, b in block.fill_ins
        )
        return Entry(block.item_id, full_width_brackets(block.text), fill_ins)
    if isinstance(block, Heading):
        return Heading(block.level, full_width_brackets(block.text))
    return Paragraph(full_width_brackets(block.text))


def procurement_blocks(catalog: Catalog, decision: Mapping[str, Any] | None = None) -> list[Block]:
    """The section as a list of headings, paragraphs and entries, brackets full width."""
    return [_full_width(b) for b in _blocks(catalog, decision)]


def _blocks(catalog: Catalog, decision: Mapping[str, Any] | None) -> list[Block]:
    required = None if decision is None else {r["id"] for r in decision.get("required", ())}
    sel = [i for i in catalog.items if i.group == "SEL"]
    exits = [i for i in catalog.items if i.group == "EXIT"]
    annex = [
        i
        for i in catalog.items
        if i.group in ("S1", "S2") and (required is None or i.id in required)
    ]
    blocks: list[Block] = [
        Heading(1, TITLE),
        Paragraph(
            f"本章は、{catalog.publisher}「{catalog.title}」（第 {catalog.version} 版。"
            "以下「基準」という。）3.3 に基づき、外部サービス及び外部サービス提供者が"
            "満たすべき要件を定める。受注者は、各要件への対応状況を根拠資料とともに示し、"
            "契約締結までに本市の確認を受けること。"
        ),
        Paragraph(f"{BLANK} は、本市が調達ごとに記入する欄である。"),
    ]
    if decision is not None:
        verdict = label(VERDICT_LABELS, decision.get("verdict"))
        blocks.append(
            Paragraph(
                f"別紙1 の対策は、判定結果（判断基準 {decision.get('criteria_version', '')}、"
                f"判定「{verdict}」）により必要とされたものを記載している。"
            )
        )
        if decision.get("verdict") == "prohibited":
            blocks.append(
                Paragraph(
                    "注意: 判定結果は「禁止」である。判定の理由が解消されない限り、"
                    "このサービスを調達することはできない。"
                )
            )

    blocks.append(Heading(2, "1. サービス及びサービス提供者の選定基準（基準 3.1(2)）"))
    for ref, items in _by_clause(sel):
        blocks.append(
            Heading(3, f"{_clause_label(ref)} {_clause_title(catalog, ref)}（基準 {ref}）")
        )
        blocks.extend(_entry(i) for i in items)

    blocks.append(Heading(2, f"2. {_clause_title(catalog, '3.2')}（基準 3.2）"))
    blocks.extend(_entry(i) for i in exits)

    blocks.append(Heading(2, f"3. {_clause_title(catalog, '別紙1')}に示す対策（基準 別紙1）"))
    if not annex:
        blocks.append(Paragraph("判定結果により必要とされた別紙1 の対策はない。"))
    for ref, items in _by_clause(annex):
        blocks.append(
            Heading(3, f"{_clause_label(ref)} {_clause_title(catalog, ref)}（基準 {ref}）")
        )
        clause_text = catalog.clause(ref).text if catalog.has_clause(ref) else ""
        if ref == "別紙1②" and clause_text:
            blocks.append(Paragraph(clause_text))
        blocks.extend(_entry(i) for i in items)

    blocks.append(Heading(2, "4. 要件の確認及び契約（基準 3.3）"))
    blocks.append(
        Paragraph(
            "受注者は、契約締結までに、本章の各要件への対応状況（事業者確認票の回答）及び"
            "その根拠資料を本市に提出し、調達仕様を満たすことの確認を受けること。"
        )
    )
    blocks.append(
        Paragraph(
            "情報セキュリティに関する本市と受注者の役割及び責任の範囲（責任分界）は、"
            f"{BLANK} に定めるとおりとし、契約書に明記する。"
        )
    )
    return blocks


# --------------------------------------------------------------------------- Markdown


def procurement_markdown(catalog: Catalog, decision: Mapping[str, Any] | None = None) -> str:
    """The section as Markdown."""
    out: list[str] = []
    for block in procurement_blocks(catalog, decision):
        if isinstance(block, Heading):
            out += ["#" * block.level + " " + block.text, ""]
        elif isinstance(block, Paragraph):
            out += [block.text.replace("\n", "  \n"), ""]
        else:
            lines = block.text.split("\n")
            lines[0] = f"- **{block.item_id}** {lines[0]}"
            # Two trailing spaces: a hard line break inside the list item.
            out.extend(
                (line if n == 0 else f"  {line}") + ("  " if n < len(lines) - 1 else "")
                for n, line in enumerate(lines)
            )
            for name, value in block.fill_ins:
                out.append(f"  - {name}：{value}")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


# --------------------------------------------------------------------------- .docx

MINCHO = "游明朝"
GOTHIC = "游ゴシック"


def _set_fonts(element: Any, east_asia: str, latin: str | None = None) -> None:
    """Name the fonts in an rPr-bearing element (a style or a run), East Asian
    included, and drop theme fonts that would otherwise win in Word."""
    from docx.oxml.ns import qn

    if hasattr(element, "get_or_add_rPr"):  # styles and runs place rPr in schema order
        r_pr = element.get_or_add_rPr()
    else:  # w:rPrDefault holds only an rPr
        r_pr = element.find(qn("w:rPr"))
        if r_pr is None:
            r_pr = element.makeelement(qn("w:rPr"), {})
            element.append(r_pr)
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = r_pr.makeelement(qn("w:rFonts"), {})
        r_pr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    latin = latin or east_asia
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:cs"), latin)
    lang = r_pr.find(qn("w:lang"))
    if lang is None:
        lang = r_pr.makeelement(qn("w:lang"), {})
        r_pr.append(lang)
    lang.set(qn("w:eastAsia"), "ja-JP")


def _prepare(document: Any) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt, RGBColor

    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(22)
    section.top_margin = section.bottom_margin = Mm(25)
    defaults = document.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        r_pr_default = defaults.find(qn("w:rPrDefault"))
        if r_pr_default is not None:
            _set_fonts(r_pr_default, MINCHO)
    normal = document.styles["Normal"]
    normal.font.size = Pt(10.5)
    _set_fonts(normal.element, MINCHO)
    for name, size in (("Title", 16), ("Heading 1", 15), ("Heading 2", 13), ("Heading 3", 11)):
        style = document.styles[name]
        style.font.size = Pt(size)
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.font.bold = True
        _set_fonts(style.element, GOTHIC)


def _field(paragraph: Any, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) that Word and LibreOffice fill in on each page."""
    from docx.oxml.ns import qn

    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, f" {instruction} "), ("separate", None)):
        if kind:
            char = run._r.makeelement(qn("w:fldChar"), {qn("w:fldCharType"): kind})
            run._r.append(char)
        else:
            instr = run._r.makeelement(qn("w:instrText"), {qn("xml:space"): "preserve"})
            instr.text = text
            run._r.append(instr)
    paragraph.add_run("1")  # shown until the field is updated
    end = paragraph.add_run()
    end._r.append(end._r.makeelement(qn("w:fldChar"), {qn("w:fldCharType"): "end"}))


def _page_numbers(document: Any) -> None:
    """「1 / 5」 centred in every page's footer."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    footer = document.sections[0].footer
    paragraph = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(paragraph, "PAGE")
    paragraph.add_run(" / ")
    _field(paragraph, "NUMPAGES")


def procurement_docx(catalog: Catalog, decision: Mapping[str, Any] | None = None) -> bytes:
    """The section as a Word document (.docx bytes), Japanese fonts set."""
    from docx import Document
    from docx.shared import Mm, Pt

    document = Document()
    _prepare(document)
    document.core_properties.title = TITLE
    document.core_properties.subject = catalog.label
    document.core_properties.language = "ja-JP"
    _page_numbers(document)
    blocks = procurement_blocks(catalog, decision)
    # The closing section (its heading and paragraphs) moves to the next page
    # whole rather than leave a line or two alone on the last page.
    closing = max(n for n, b in enumerate(blocks) if isinstance(b, Heading) and b.level == 2)
    for n, block in enumerate(blocks):
        if isinstance(block, Heading):
            heading = document.add_heading(block.text, level=block.level)
            heading.paragraph_format.keep_with_next = True
        elif isinstance(block, Paragraph):
            paragraph = document.add_paragraph(block.text)
            if n > closing and n < len(blocks) - 1:
                paragraph.paragraph_format.keep_with_next = True
        else:
            paragraph = document.add_paragraph()
            fmt = paragraph.paragraph_format
            fmt.left_indent, fmt.first_line_indent = Mm(18), Mm(-18)
            fmt.space_after = Pt(4)
            fmt.tab_stops.add_tab_stop(Mm(18))
            head = paragraph.add_run(block.item_id)
            head.bold = True
            _set_fonts(head._r, GOTHIC)
            paragraph.add_run("\t")
            for n, line in enumerate(block.text.split("\n")):
                if n:
                    paragraph.add_run().add_break()
                paragraph.add_run(line)
            for name, value in block.fill_ins:
                blank = document.add_paragraph()
                blank.paragraph_format.left_indent = Mm(24)
                blank.paragraph_format.space_after = Pt(2)
                blank.add_run(f"{name}：")
                for n, part in enumerate(value.split(BLANK)):
                    if n:
                        field = blank.add_run(BLANK)
                        field.bold = True
                        field.underline = True
                    if part:
                        blank.add_run(part)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
