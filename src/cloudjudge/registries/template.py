"""The import template offered as a download: an .xlsx per registry kind with the
Japanese headings, an example row (never imported, even when left in) and a
sheet explaining every column."""

from __future__ import annotations

import io
import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cloudjudge.documents.cells import put_text
from cloudjudge.registries.columns import Column, columns_for
from cloudjudge.registries.entries import KIND_LABELS, KINDS, RegistryKind, normalise_number

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

#: The columns the template has, per kind, in order (alternatives such as
#: 監査対象期間 as a range or 状態 are accepted on import but not offered).
TEMPLATE_FIELDS: dict[str, tuple[str, ...]] = {
    "ismap": (
        "number",
        "service_name",
        "provider",
        "registered_on",
        "audit_period_end",
        "renewal_pending",
        "withdrawn",
        "source_url",
        "regions",
    ),
    "ismap_liu": (
        "number",
        "service_name",
        "provider",
        "registered_on",
        "audit_period_end",
        "renewal_pending",
        "withdrawn",
        "source_url",
        "regions",
    ),
    "lgwan_asp": (
        "number",
        "service_name",
        "provider",
        "category",
        "registered_on",
        "withdrawn",
        "source_url",
    ),
}

#: The example row of each template (invented values; delete the row before importing).
EXAMPLES: dict[str, dict[str, object]] = {
    "ismap": {
        "number": "C99-0001-1",
        "service_name": "記入例クラウド",
        "provider": "株式会社記入例",
        "registered_on": date(2024, 1, 15),
        "audit_period_end": date(2023, 9, 30),
        "renewal_pending": "",
        "withdrawn": "",
        "source_url": "https://www.example.jp/ismap/C99-0001-1",
        "regions": "東京、大阪",
    },
    "ismap_liu": {
        "number": "L99-0001-1",
        "service_name": "記入例SaaS",
        "provider": "記入例合同会社",
        "registered_on": date(2024, 2, 1),
        "audit_period_end": date(2023, 10, 31),
        "renewal_pending": "",
        "withdrawn": "",
        "source_url": "https://www.example.jp/ismap-liu/L99-0001-1",
        "regions": "東京",
    },
    "lgwan_asp": {
        "number": "A990001",
        "service_name": "記入例電子申請サービス",
        "provider": "株式会社記入例",
        "category": "アプリケーション及びコンテンツサービス",
        "registered_on": date(2023, 4, 1),
        "withdrawn": "",
        "source_url": "https://www.example.jp/lgwan-asp/A990001",
    },
}

#: The example rows' numbers, and the marks that open an example row: such a
#: row is never imported as an entry, even when left in the file.
EXAMPLE_NUMBERS: frozenset[str] = frozenset(
    normalise_number(example["number"]) for example in EXAMPLES.values()
)
EXAMPLE_MARKS: tuple[str, ...] = ("記入例", "(例)", "【例】", "例:", "[例]")

DATE_FORMATS = (
    "2024/3/31、2024-03-31、2024年3月31日、令和6年3月31日、令和元年5月1日、R6.3.31、"
    "Excel の日付（全角数字も可）"
)


def template_columns(kind: RegistryKind) -> tuple[Column, ...]:
    by_field = {c.field: c for c in columns_for(kind)}
    return tuple(by_field[f] for f in TEMPLATE_FIELDS[kind])


def template_bytes(kind: RegistryKind) -> bytes:
    """The template for ``kind`` as .xlsx bytes (for an HTTP download)."""
    if kind not in KINDS:
        raise ValueError(f"未知の登録簿の種類です: {kind!r}（{', '.join(KINDS)}）")
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    columns = template_columns(kind)
    example = EXAMPLES[kind]

    wb = Workbook()
    ws: Worksheet = wb.active  # type: ignore[assignment]  # a new workbook has one sheet
    ws.title = f"{KIND_LABELS[kind]}登録簿"
    for j, column in enumerate(columns, start=1):
        head = put_text(ws.cell(row=1, column=j), column.heading)
        head.font = bold
        if kind in column.required or column.field == "audit_period_end":
            head.fill = required_fill
        cell = put_text(ws.cell(row=2, column=j), example.get(column.field, ""))
        if isinstance(cell.value, date):
            cell.number_format = "yyyy/m/d"
        letter = head.column_letter
        ws.column_dimensions[letter].width = max(12, len(column.heading) * 2 + 4)
    ws.freeze_panes = "A2"

    notes = wb.create_sheet("記入方法")
    lines: list[list[Any]] = [["列", "必須", "受け付ける見出し", "説明"]]
    for column in columns:
        required = kind in column.required or column.field == "audit_period_end"
        lines.append(
            [
                column.heading,
                "必須" if required else "",
                "、".join(column.variants),
                column.description,
            ]
        )
    lines.append([])
    lines.append(["日付の書き方", "", DATE_FORMATS])
    lines.append(
        ["注意", "", "2行目は記入例です。残したまま取り込んでも、記入例の行は読み飛ばします。"]
    )
    for i, line in enumerate(lines, start=1):
        for j, value in enumerate(line, start=1):
            put_text(notes.cell(row=i, column=j), value)
    for cell in notes[1]:
        cell.font = bold
    for letter, width in zip("ABCD", (24, 6, 60, 60), strict=True):
        notes.column_dimensions[letter].width = width

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def write_template(kind: RegistryKind, path: str | os.PathLike[str]) -> Path:
    """Write the template for ``kind`` to ``path`` (.xlsx) and return the path."""
    target = Path(path)
    target.write_bytes(template_bytes(kind))
    return target
