"""PDF reports: the judgement report for one application, and the register.

What the judgement report says about the decision (order, groups, words, the
remedies of a prohibition, each measure's full text and who carries it out)
comes from the presenter, ``cloudjudge.presentation.present``.

reportlab's platypus with the IPAex fonts from Debian (``fonts-ipaexfont-gothic``
for headings and labels, ``fonts-ipaexfont-mincho`` for body text), embedded as
TrueType subsets: only the glyphs used go into the file (tens of kilobytes), so
the report looks the same in every viewer and ``pdffonts`` lists every font as
embedded; each subset carries its ToUnicode map, so copied text is the right
Japanese. Every table cell is a Paragraph with ``wordWrap='CJK'`` so long
Japanese text wraps inside its column. Headings keep with what follows them (a
section heading never ends a page, nor a group row of the measures table).

Dates follow the city's convention (``presentation.dates.format_date``:
和暦 by default), given by the caller as ``date_style``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from cloudjudge.catalog import Catalog, default_catalog
from cloudjudge.documents.models import ApplicationSummary, ChecklistRow, RegisterRow
from cloudjudge.labels import (
    CONFIDENTIALITY_SHORT_LABELS,
    GROUP_LABELS,
    METHOD_LABELS,
    PARTY_LABELS,
    SEAL_ROLES,
    VERDICT_LABELS,
    fact_rows,
    label,
)
from cloudjudge.presentation import DecisionView, MeasureView, present
from cloudjudge.presentation.dates import DateStyle, format_date, format_datetime
from cloudjudge.presentation.decision import group_of

GOTHIC = "IPAexGothic"
MINCHO = "IPAexMincho"
#: Where Debian's packages put the fonts (fonts-ipaexfont-gothic, -mincho).
FONT_FILES: dict[str, tuple[str, ...]] = {
    GOTHIC: (
        "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
        "/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf",
    ),
    MINCHO: (
        "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
        "/usr/share/fonts/truetype/ipaexfont-mincho/ipaexm.ttf",
    ),
}
FONT_PACKAGES = {GOTHIC: "fonts-ipaexfont-gothic", MINCHO: "fonts-ipaexfont-mincho"}

REPORT_TITLE = "クラウドサービス利用判断報告書"
REGISTER_TITLE = "クラウドサービス利用台帳（年次見直し）"

VERDICT_COLOURS = {
    "prohibited": colors.HexColor("#C62828"),
    "approval_required": colors.HexColor("#B26A00"),
    "permitted": colors.HexColor("#2E7D32"),
}
_GRID = colors.HexColor("#808080")
_HEAD = colors.HexColor("#D9E1F2")
_LABEL = colors.HexColor("#F2F2F2")
_GROUP = colors.HexColor("#EEF2F8")


class FontMissing(RuntimeError):
    """A Japanese font the PDFs embed is not installed; the message says which package."""


def _register_fonts() -> None:
    for name, paths in FONT_FILES.items():
        if name in pdfmetrics.getRegisteredFontNames():
            continue
        path = next((p for p in paths if Path(p).is_file()), None)
        if path is None:
            raise FontMissing(
                f"PDF に埋め込む日本語フォント {name}（{paths[0]}）がありません。"
                f"サーバーに {FONT_PACKAGES[name]} をインストールしてください。"
            )
        pdfmetrics.registerFont(TTFont(name, path))


def _style(name: str, font: str = MINCHO, size: float = 9, **kw: Any) -> ParagraphStyle:
    return ParagraphStyle(
        name, fontName=font, fontSize=size, leading=size * 1.45, wordWrap="CJK", **kw
    )


TITLE = _style("title", GOTHIC, 18, alignment=TA_CENTER, spaceAfter=2 * mm)
SUBTITLE = _style(
    "subtitle", MINCHO, 9.5, alignment=TA_CENTER, textColor=colors.HexColor("#444444")
)
#: A section heading: kept with the flowable after it (never the last line of a page).
H2 = _style("h2", GOTHIC, 12, spaceBefore=5 * mm, spaceAfter=2 * mm, keepWithNext=1)
BODY = _style("body")
SMALL = _style("small", size=7.5, textColor=colors.HexColor("#444444"))
CELL = _style("cell", size=8.5)
CELL_HEAD = _style("cellhead", GOTHIC, 8.5)
REASONS_HEAD = _style("reasonshead", GOTHIC, 8.5, keepWithNext=1)
CELL_CENTER = _style("cellcenter", size=8.5, alignment=TA_CENTER)
CELL_HEAD_CENTER = _style("cellheadcenter", GOTHIC, 8.5, alignment=TA_CENTER)
SEAL = _style("seal", GOTHIC, 7.5, alignment=TA_CENTER)
RIGHT = _style("right", size=8.5, alignment=TA_RIGHT)
#: The verdict in a table cell, in its colour.
VERDICT_CELLS = {
    code: _style(f"verdict-{code}", GOTHIC, 8.5, alignment=TA_CENTER, textColor=colour)
    for code, colour in VERDICT_COLOURS.items()
}
PROHIBIT = VERDICT_CELLS["prohibited"]


def _p(text: Any, style: ParagraphStyle = CELL) -> Paragraph:
    """A wrapping cell: text escaped, line breaks kept."""
    value = "" if text is None else str(text)
    return Paragraph(escape(value).replace("\n", "<br/>"), style)


def _date(value: date | None, style: DateStyle) -> str:
    return format_date(value, style) if value else "―"


def _datetime(value: datetime | None, style: DateStyle) -> str:
    return format_datetime(value, style) if value else "―"


def _heading(text: str) -> list[Any]:
    """A section heading that starts a new page rather than end one: with less
    than a few lines left, the page breaks first (and ``keepWithNext`` holds it
    to the first rows of what follows)."""
    return [CondPageBreak(30 * mm), _p(text, H2)]


def _grid(header_rows: int = 1, extra: Sequence[tuple[Any, ...]] = ()) -> TableStyle:
    commands: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), MINCHO),  # empty cells too: no Helvetica
        ("GRID", (0, 0), (-1, -1), 0.5, _GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header_rows:
        commands.append(("BACKGROUND", (0, 0), (-1, header_rows - 1), _HEAD))
    return TableStyle([*commands, *extra])


def _table(rows: list[list[Any]], widths: Sequence[float], **kw: Any) -> Table:
    return Table(rows, colWidths=[w * mm for w in widths], **kw)


# --------------------------------------------------------------------------- page furniture


def _canvas_class(left: str, right: str) -> type[Canvas]:
    """A canvas that knows the page count, so the footer reads 「1 / 3」."""

    class _FooterCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            # Not reportlab's Helvetica, which would be the one font not embedded.
            kwargs["initialFontName"] = MINCHO
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()  # type: ignore[attr-defined]  # reportlab's own reset

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total: int) -> None:
            width, _ = self._pagesize  # type: ignore[attr-defined]
            margin = 15 * mm
            self.saveState()
            self.setStrokeColor(_GRID)
            self.setLineWidth(0.4)
            self.line(margin, 13 * mm, width - margin, 13 * mm)
            self.setFont(MINCHO, 7.5)
            self.setFillColor(colors.HexColor("#444444"))
            self.drawString(margin, 9 * mm, left)
            self.drawRightString(width - margin, 9 * mm, right)
            self.setFont(GOTHIC, 9)
            self.setFillColor(colors.black)
            number = self._pageNumber  # type: ignore[attr-defined]
            self.drawCentredString(width / 2, 9 * mm, f"{number} / {total}")
            self.restoreState()

    return _FooterCanvas


def _document(
    out: io.BytesIO, pagesize: tuple[float, float], title: str, subject: str
) -> SimpleDocTemplate:
    return SimpleDocTemplate(
        out,
        pagesize=pagesize,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=14 * mm,
        bottomMargin=18 * mm,
        title=title,
        subject=subject,
        author="cloudjudge",
        creator="cloudjudge",
        lang="ja-JP",
    )


# --------------------------------------------------------------------------- application report


def _seal_boxes() -> Table:
    """押印欄: one column per signer, a label row and an empty box."""
    table = _table(
        [[_p(role, SEAL) for role in SEAL_ROLES], ["" for _ in SEAL_ROLES]],
        [30] * len(SEAL_ROLES),
        rowHeights=[9 * mm, 22 * mm],
        hAlign="RIGHT",
    )
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), MINCHO),
                ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), _LABEL),
                ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 1),
                ("RIGHTPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table


def _key_values(rows: Iterable[tuple[str, Any]], label_width: float = 45) -> Table:
    data = [[_p(k, CELL_HEAD), _p(v if v not in (None, "") else "―")] for k, v in rows]
    table = _table(data, [label_width, 180 - label_width])
    table.setStyle(_grid(0, [("BACKGROUND", (0, 0), (0, -1), _LABEL)]))
    return table


def _verdict_box(view: DecisionView) -> Table:
    colour = VERDICT_COLOURS.get(view.verdict, colors.black)
    verdict = _style("verdict", GOTHIC, 15, alignment=TA_CENTER, textColor=colour)
    lines = [
        ("必要な承認", "、".join(view.approval_labels) if view.approval_labels else "なし"),
        ("PIA（特定個人情報保護評価）", "必要" if view.pia_required else "不要"),
    ]
    if view.grounds:
        lines.insert(0, ("根拠", "、".join(view.grounds)))
    details = _table([[_p(k, CELL_HEAD), _p(v)] for k, v in lines], [45, 70], style=_grid(0))
    box = _table(
        [[_p("判定", CELL_HEAD_CENTER), _p(view.verdict_label, verdict), details]],
        [18, 47, 115],
    )
    box.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), MINCHO),
                ("BOX", (0, 0), (1, 0), 1.2, colour),
                ("LINEAFTER", (0, 0), (0, 0), 0.5, _GRID),
                ("BACKGROUND", (0, 0), (0, 0), _LABEL),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (2, 0), (2, 0), 4),
                ("RIGHTPADDING", (2, 0), (2, 0), 0),
            ]
        )
    )
    return box


def _findings(view: DecisionView) -> Table | Paragraph:
    if not view.findings:
        return _p("判定理由はありません。", BODY)
    rows: list[list[Any]] = [
        [_p("区分", CELL_HEAD_CENTER), _p("条項", CELL_HEAD), _p("理由", CELL_HEAD)]
    ]
    for finding in view.findings:
        rows.append(
            [
                _p(finding.effect_label, PROHIBIT if finding.effect == "prohibit" else CELL_CENTER),
                [_p(finding.clause), _p(finding.rule, SMALL)],
                _p(finding.message),
            ]
        )
    table = _table(rows, [16, 36, 128], repeatRows=1)
    table.setStyle(_grid(1))
    return table


def _remedies(view: DecisionView) -> list[Any]:
    """The ways out of a prohibition, or why there is none."""
    if not view.prohibited:
        return []
    story: list[Any] = _heading("利用できるようにする変更（変更の少ないものから）")
    if view.remedy_note:
        return [*story, _p(view.remedy_note, BODY)]
    rows: list[list[Any]] = [
        [_p(h, CELL_HEAD_CENTER) for h in ("No.", "変更", "変更後の判定", "根拠")]
    ]
    for n, remedy in enumerate(view.remedies, start=1):
        changes = [_p(f"{c.field_label}: {c.before} → {c.after}", CELL) for c in remedy.changes]
        rows.append(
            [
                _p(n, CELL_CENTER),
                changes,
                _p(remedy.verdict_label, VERDICT_CELLS.get(remedy.verdict, CELL_CENTER)),
                _p(remedy.clause),
            ]
        )
    table = _table(rows, [10, 120, 25, 25], repeatRows=1)
    table.setStyle(_grid(1))
    return [*story, table]


def _measure_rows(
    summary: ApplicationSummary, view: DecisionView, catalog: Catalog
) -> list[tuple[str, ChecklistRow | None, MeasureView | None]]:
    """(group, checklist row, measure) in the presenter's order; checklist rows the
    decision does not mention follow, by group."""
    by_id = {row.item_id: row for row in summary.checklist}
    out: list[tuple[str, ChecklistRow | None, MeasureView | None]] = []
    for group in view.groups:
        out += [(group.group, by_id.get(m.id), m) for m in group.measures]
    seen = {m.id for group in view.groups for m in group.measures}
    out += [
        (group_of(row.item_id, catalog), row, None)
        for row in summary.checklist
        if row.item_id not in seen
    ]
    return out


def _measure_cell(
    row: ChecklistRow | None, measure: MeasureView | None, catalog: Catalog
) -> list[Paragraph]:
    """Title, the item's full text (a title can hide a condition: S2-14's
    「(複数台でネットワークを組む際は)」), who carries it out, and the row's note."""
    item_id = row.item_id if row else measure.id if measure else ""
    item = catalog.item(item_id) if catalog.has_item(item_id) else None
    title = row.title if row else measure.title if measure else ""
    cell = [_p(title, CELL_HEAD)]
    if item is not None:
        cell.append(_p(item.text, SMALL))
        cell.append(_p(f"実施者: {label(PARTY_LABELS, item.party)}", SMALL))
    if row and row.note:
        cell.append(_p(row.note, SMALL))
    return cell


def _measures(summary: ApplicationSummary, view: DecisionView, catalog: Catalog) -> Any:
    style = summary.date_style
    measures = _measure_rows(summary, view, catalog)
    if not measures:
        return _p(view.measures_note or "必要な対策はありません。", BODY)
    head = ["ID", "条項", "対策", "状況", "担当", "期限", "証跡"]
    rows: list[list[Any]] = [[_p(h, CELL_HEAD_CENTER) for h in head]]
    extra: list[tuple[Any, ...]] = []
    group = None
    for code, row, entry in measures:
        if code != group:
            group = code
            rows.append([_p(label(GROUP_LABELS, code), CELL_HEAD), "", "", "", "", "", ""])
            n = len(rows) - 1
            extra += [
                ("SPAN", (0, n), (-1, n)),
                ("BACKGROUND", (0, n), (-1, n), _GROUP),
                # The group's row and its first measure stay on one page.
                ("NOSPLIT", (0, n), (-1, n + 1)),
            ]
        item_id = row.item_id if row else entry.id if entry else ""
        clause = row.clause if row else entry.clause if entry else ""
        measure = _measure_cell(row, entry, catalog)
        evidence = "\n".join(f"・{name}" for name in row.evidence) if row and row.evidence else "―"
        rows.append(
            [
                _p(item_id, CELL_HEAD),
                _p(clause),
                measure,
                _p(row.status if row else "未登録", CELL_CENTER),
                _p(row.owner if row and row.owner else "―"),
                _p(_date(row.due_date, style) if row else "―", CELL_CENTER),
                _p(evidence),
            ]
        )
    table = _table(rows, [15, 20, 67, 15, 18, 17, 28], repeatRows=1)
    table.setStyle(_grid(1, extra))
    return table


def _approvals(summary: ApplicationSummary) -> Table | Paragraph:
    if not summary.approvals:
        return _p("承認の記録はありません。", BODY)
    rows = [[_p(h, CELL_HEAD_CENTER) for h in ("日時", "役割", "氏名", "操作", "コメント")]]
    for record in sorted(summary.approvals, key=lambda r: r.at):
        rows.append(
            [
                _p(_datetime(record.at, summary.date_style), CELL_CENTER),
                _p(record.role),
                _p(record.actor),
                _p(record.action, CELL_CENTER),
                _p(record.comment or "―"),
            ]
        )
    table = _table(rows, [36, 38, 28, 18, 60], repeatRows=1)
    table.setStyle(_grid(1))
    return table


def _exception_grounds(summary: ApplicationSummary) -> list[tuple[str, str]]:
    """The 例外の根拠 row, one ground a line, or no row when none is claimed."""
    grounds = "\n".join(summary.exception_grounds)
    return [("例外の根拠", grounds)] if grounds.strip() else []


def application_report_pdf(summary: ApplicationSummary, catalog: Catalog | None = None) -> bytes:
    """The judgement report for one application, as PDF bytes."""
    _register_fonts()
    catalog = catalog or default_catalog()
    view = present(summary.decision, catalog)
    generated = summary.generated_at or datetime.now()
    version = summary.version
    style = summary.date_style
    out = io.BytesIO()
    doc = _document(
        out, A4, f"{REPORT_TITLE} {summary.number}", f"{summary.service_name}（{version}）"
    )
    heading = [_p(REPORT_TITLE, TITLE)]
    if summary.organisation:
        heading.append(_p(summary.organisation, SUBTITLE))
    story: list[Any] = [
        *heading,
        Spacer(1, 2 * mm),
        _seal_boxes(),
        *_heading("1. 申請の概要"),
        _key_values(
            [
                ("申請番号", summary.number),
                ("サービス名", summary.service_name),
                ("提供事業者", summary.provider),
                ("申請部署", summary.department),
                ("申請者", summary.applicant),
                ("利用目的", summary.purpose),
                *_exception_grounds(summary),
                ("申請の状態", summary.status),
                ("判断基準", version),
                ("出力日時", _datetime(generated, style)),
            ]
        ),
        *_heading("2. 申請内容（判定に用いた事実）"),
        _key_values(fact_rows(summary.facts), label_width=75),
        CondPageBreak(45 * mm),
        KeepTogether([_p("3. 判定結果", H2), _verdict_box(view)]),
        Spacer(1, 3 * mm),
        _p("判定理由", REASONS_HEAD),
        Spacer(1, 1 * mm),
        _findings(view),
        *_remedies(view),
        *_heading("4. 必要な対策と対応状況"),
        _measures(summary, view, catalog),
        *_heading("5. 承認の記録"),
        _approvals(summary),
    ]
    footer_left = f"{REPORT_TITLE}　申請番号 {summary.number}"
    footer_right = f"判断基準 {version}　出力 {_datetime(generated, style)}"
    doc.build(story, canvasmaker=_canvas_class(footer_left, footer_right))
    return out.getvalue()


# --------------------------------------------------------------------------- register


def register_report_pdf(
    rows: Iterable[RegisterRow],
    *,
    title: str = REGISTER_TITLE,
    generated_at: datetime | None = None,
    organisation: str = "",
    date_style: DateStyle = "wareki",
) -> bytes:
    """The register, one row per application, A4 landscape, for the yearly review.

    Reviews due before the generation date are marked 期限超過; each row shows
    its service's standing in the public lists (``RegisterRow.registry_status``:
    失効, 取下げ, 更新申請中, …).
    """
    _register_fonts()
    rows = list(rows)
    generated = generated_at or datetime.now()
    today = generated.date()
    counts = {code: sum(r.verdict == code for r in rows) for code in VERDICT_LABELS}
    overdue = sum(1 for r in rows if r.review_due and r.review_due < today)
    summary = (
        f"出力日時 {_datetime(generated, date_style)}　全 {len(rows)} 件（"
        + "、".join(f"{VERDICT_LABELS[c]} {n} 件" for c, n in counts.items())
        + f"）　見直し期限超過 {overdue} 件"
    )
    out = io.BytesIO()
    doc = _document(out, landscape(A4), title, organisation or title)
    story: list[Any] = [_p(title, TITLE)]
    if organisation:
        story.append(_p(organisation, SUBTITLE))
    story += [_p(summary, SUBTITLE), Spacer(1, 4 * mm)]
    head = [
        "No.",
        "申請番号",
        "申請部署",
        "サービス名（提供事業者）",
        "接続方法",
        "機密性",
        "判定",
        "状態",
        "見直し期限",
        "登録簿の状態",
    ]
    data: list[list[Any]] = [[_p(h, CELL_HEAD_CENTER) for h in head]]
    extra: list[tuple[Any, ...]] = []
    for n, row in enumerate(rows, start=1):
        service = row.service_name + (f"\n（{row.provider}）" if row.provider else "")
        late = bool(row.review_due and row.review_due < today)
        due = _date(row.review_due, date_style) + ("\n期限超過" if late else "")
        data.append(
            [
                _p(n, RIGHT),
                _p(row.number),
                _p(row.department),
                _p(service),
                _p(label(METHOD_LABELS, row.method)),
                _p(label(CONFIDENTIALITY_SHORT_LABELS, row.confidentiality), CELL_CENTER),
                _p(label(VERDICT_LABELS, row.verdict), VERDICT_CELLS.get(row.verdict, CELL_CENTER)),
                _p(row.status, CELL_CENTER),
                _p(due, PROHIBIT if late else CELL_CENTER),
                _p(row.registry_status or "―"),
            ]
        )
    if not rows:
        data.append([_p("登録された申請はありません。"), *([""] * (len(head) - 1))])
        extra.append(("SPAN", (0, 1), (-1, 1)))
    table = _table(data, [9, 22, 30, 46, 40, 16, 20, 18, 28, 38], repeatRows=1)
    table.setStyle(_grid(1, extra))
    story.append(table)
    footer_right = f"出力 {_datetime(generated, date_style)}"
    doc.build(story, canvasmaker=_canvas_class(title, footer_right))
    return out.getvalue()
