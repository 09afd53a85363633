"""Japanese terminal reports: a decision, the catalog listing, one catalog entry.

Plain text, no colour, every line at most ``width`` display columns, wrapped
at phrase boundaries (``wrapping``). What a decision report says, in which
order and with which words, comes from the presenter (``decision.present``);
this module only lays it out.
"""

from __future__ import annotations

from collections.abc import Sequence

from cloudjudge.catalog import Catalog
from cloudjudge.catalog.schema import Clause, Item
from cloudjudge.engine import Decision, Request
from cloudjudge.labels import GROUP_LABELS, METHOD_LABELS, PARTY_LABELS, USAGE_LABELS, label
from cloudjudge.presentation.decision import DecisionView, present
from cloudjudge.presentation.wrapping import display_width, pad, wrap

WIDTH = 100

COLUMN_LABELS = {
    "A": "認証・ウイルス定義体の取得のみ",
    "B": "ファイルを庁内に取り込まない",
    "C": "ファイルを取り込む",
}


def _field(label_text: str, value: str, width: int, label_width: int = 14) -> list[str]:
    return wrap(value, width, pad(label_text, label_width), " " * label_width)


def _rule(char: str, width: int) -> str:
    return char * width


# --------------------------------------------------------------------------- decision


def _data_summary(request: Request) -> str:
    level = request.data.confidentiality
    text = f"自治体機密性 {level}"
    if level in ("3B", "3C"):
        text += "（重要情報資産）"
    elif level == "3A":
        text += "（外部サービスでの取扱い禁止）"
    if request.data.my_number:
        text += "・特定個人情報を含む"
    return text


def _connection_summary(request: Request) -> str:
    conn = request.connection
    text = label(METHOD_LABELS, conn.method)
    details = []
    if conn.breakout_usage:
        details.append(label(USAGE_LABELS, conn.breakout_usage))
    if conn.internet_virtual_pc:
        details.append("インターネット仮想パソコンを使用")
    if conn.download_to_internet_terminal:
        details.append("インターネット環境の端末へダウンロードあり")
    if conn.download_by_contractor:
        details.append("指定管理者・委託事業者がダウンロード")
    return text + (f"（{'、'.join(details)}）" if details else "")


def _head(request: Request, view: DecisionView, catalog: Catalog, width: int) -> list[str]:
    out = ["クラウドサービス利用判断結果", _rule("=", width)]
    service = request.service.name
    if request.service.provider:
        service += f"（提供者: {request.service.provider}）"
    out += _field("サービス", service, width)
    out += _field("取り扱う情報", _data_summary(request), width)
    out += _field("接続方法", _connection_summary(request), width)
    criteria = f"{catalog.publisher}「{catalog.title}」{catalog.version}"
    out += _field("判断基準", f"{criteria}（{view.criteria_version}）", width)
    out.append(_rule("-", width))
    out += _field("判定", f"【{view.verdict_label}】", width)
    if view.grounds:
        out += _field("根拠", "、".join(view.grounds) + "（詳細は下記の判定理由）", width)
    out += _field("承認", view.approval_text, width)
    out += _field("PIA", view.pia_text, width)
    out.append(_rule("=", width))
    return out


def _findings(view: DecisionView, width: int) -> list[str]:
    out = ["", f"判定理由（{len(view.findings)} 件、重要なものから）"]
    for finding in view.findings:
        out.append(f"  [{finding.effect_label}] {finding.clause}（{finding.rule}）")
        out += wrap(finding.message, width, "      ")
    return out


def _remedies(view: DecisionView, width: int) -> list[str]:
    if not view.prohibited:
        return []
    out = ["", f"利用できるようにする変更（{len(view.remedies)} 件、変更の少ないものから）"]
    if view.remedy_note:
        out += wrap(view.remedy_note, width, "  ", "  ")
    for n, remedy in enumerate(view.remedies, start=1):
        out += wrap(remedy.message, width, f"  {n}. ", "     ")
        for change in remedy.changes:
            out += wrap(
                f"{change.field_label}: {change.before} → {change.after}",
                width,
                "       ",
                "         ",
            )
    return out


def _measures(view: DecisionView, width: int) -> list[str]:
    out = ["", f"必要な対策（{view.required_count} 件）"]
    if view.measures_note:
        out += wrap(view.measures_note, width, "  ", "  ")
    elif not view.groups:
        out.append("  なし")
    id_width = max((len(m.id) for g in view.groups for m in g.measures), default=0) + 2
    for group in view.groups:
        out.append("")
        out.append(f"  【{group.label}】 {group.count} 件")
        for block in group.by_reason:
            out += wrap(block.reason, width, "    理由: ", "          ")
            for measure in block.measures:
                out += wrap(measure.title, width, f"    {measure.id:<{id_width}}", " " * 12)
    return out


def format_decision(
    request: Request, decision: Decision, catalog: Catalog, width: int = WIDTH
) -> str:
    """The decision as a Japanese report for a terminal, at most ``width`` columns wide."""
    view = present(decision, catalog)
    out = _head(request, view, catalog, width)
    out += _findings(view, width)
    out += _remedies(view, width)
    out += _measures(view, width)
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- catalog


def catalog_heading(catalog: Catalog) -> str:
    return f"{catalog.publisher}「{catalog.title}」{catalog.version}（{catalog.label}）"


def format_catalog_list(catalog: Catalog, items: Sequence[Item], width: int = WIDTH) -> str:
    """Header line, then one row per item: ID, clause, title."""
    out = [f"{catalog_heading(catalog)} — {len(items)} 項目"]
    id_width = max((len(i.id) for i in items), default=0) + 2
    clause_width = max([display_width("条項"), *(display_width(i.clause) for i in items)]) + 2
    out.append(pad("ID", id_width) + pad("条項", clause_width) + "題目")
    for item in items:
        lead = pad(item.id, id_width) + pad(item.clause, clause_width)
        out += wrap(item.title or item.text.split("\n")[0], width, lead, " " * len(lead))
    return "\n".join(out) + "\n"


def _columns_text(item: Item) -> str:
    return "  ".join(f"{c} {'○' if c in item.columns else '－'}" for c in COLUMN_LABELS)


def format_item(catalog: Catalog, item: Item, width: int = WIDTH) -> str:
    """One item: its metadata wrapped, its text verbatim (unwrapped, as in the source)."""
    out = [f"{item.id}  {item.title}".rstrip(), _rule("=", width)]
    out += _field("ID", item.id, width)
    out += _field("グループ", f"{label(GROUP_LABELS, item.group)}（{item.group}）", width)
    clause = item.clause
    if catalog.has_clause(item.clause):
        clause += f"  {catalog.clause(item.clause).title}"
    out += _field("条項", clause, width)
    if item.title:
        out += _field("題目", item.title, width)
    if item.category:
        out += _field("区分", item.category, width)
    out += _field("実施者", label(PARTY_LABELS, item.party), width)
    if item.columns:
        out += _field("表1 の列", _columns_text(item), width)
        legend = "、".join(f"{c}: {text}" for c, text in COLUMN_LABELS.items())
        out += wrap(f"（○ は対策が必要な利用方法。{legend}）", width, " " * 14)
    out.append(_rule("-", width))
    out.append("本文:")
    out.append(item.text)
    return "\n".join(out) + "\n"


def format_clause(
    catalog: Catalog, clause: Clause, items: Sequence[Item], width: int = WIDTH
) -> str:
    """One clause: reference, title, verbatim text and the items under it, each with
    its full text (a title alone can hide a condition: S2-14's 「(複数台で…組む際は)」)."""
    out = [f"{clause.ref}  {clause.title}", _rule("=", width)]
    out += _field("条項", clause.ref, width)
    out += _field("見出し", clause.title, width)
    out += _field("判断基準", catalog_heading(catalog), width)
    out.append(_rule("-", width))
    out.append("本文:")
    out.append(clause.text or "（本文なし）")
    if items:
        out.append("")
        out.append(f"この条項の項目（{len(items)} 件）:")
        id_width = max(len(i.id) for i in items) + 2
        for item in items:
            party = label(PARTY_LABELS, item.party)
            lead = f"  {item.id:<{id_width}}"
            out += wrap(f"{item.title}〔{party}〕", width, lead, " " * (id_width + 2))
            out += wrap(item.text, width, " " * (id_width + 4))
    return "\n".join(out) + "\n"
