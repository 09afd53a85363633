"""Japanese terminal reports: a decision, the catalog listing, one catalog entry.

Plain text, no colour, every line at most ``width`` display columns, counting
East Asian wide characters (and ambiguous ones such as ○ and ①, to be safe) as
two columns, and wrapping Japanese prose at character boundaries without
starting a line with closing punctuation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any, cast

from cloudjudge.catalog import Catalog
from cloudjudge.catalog.schema import Clause, Item
from cloudjudge.engine import Decision, Request
from cloudjudge.labels import (
    APPROVER_LABELS,
    EFFECT_LABELS,
    GROUP_LABELS,
    METHOD_LABELS,
    USAGE_LABELS,
    VERDICT_LABELS,
)

WIDTH = 100

#: Findings are listed most decisive first; within an effect, in document order.
_SEVERITY = {"prohibit": 0, "approve": 1, "require": 2, "info": 3}
#: The effect whose findings decide each verdict.
_DECISIVE = {"prohibited": "prohibit", "approval_required": "approve"}

GROUP_ORDER = tuple(GROUP_LABELS)

COLUMN_LABELS = {
    "A": "認証・ウイルス定義体の取得のみ",
    "B": "ファイルを庁内に取り込まない",
    "C": "ファイルを取り込む",
}

# --------------------------------------------------------------------------- text layout

#: Characters a line must not start with: closing brackets, punctuation, small
#: kana, and circled numbers, which here always end a reference (別紙1①, (ウ)①).
_NO_START = frozenset(
    "、。，．・：；？！）」』】〕〉》］｝ー～〜…‥々ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
    ",.:;!?)]}%"
    "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
)
#: Characters a line must not end with (opening brackets).
_NO_END = frozenset("（「『【〔〈《［｛([{")
#: Units never split: an ASCII run with the kana or kanji before it (表1, 別紙1),
#: an ASCII run, a run of spaces, any other single character.
_TOKEN = re.compile(r"[\u3041-\u30ff\u4e00-\u9fff][!-~]+|[!-~]+| +|.", re.DOTALL)


def char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in "WFA" else 1


def display_width(text: str) -> int:
    """Columns the text takes in a terminal (wide and ambiguous characters count 2)."""
    if text.isascii():
        return len(text)
    return sum(char_width(c) for c in text)


def pad(text: str, width: int) -> str:
    """Left-justify to ``width`` display columns."""
    return text + " " * max(0, width - display_width(text))


def _tokens(text: str, room: int) -> list[str]:
    tokens: list[str] = []
    for token in _TOKEN.findall(text):
        if len(token) > 1 and not token.isspace() and display_width(token) > room:
            tokens.extend(token)  # an ASCII run longer than a line: break anywhere
        else:
            tokens.append(token)
    return tokens


def wrap(
    text: str, width: int = WIDTH, indent: str = "", subsequent_indent: str | None = None
) -> list[str]:
    """Wrap text to ``width`` columns; ASCII words stay whole, Japanese breaks
    between characters, and no line starts with 、。） or ends with （."""
    rest = indent if subsequent_indent is None else subsequent_indent
    room = max(1, width - max(display_width(indent), display_width(rest)))
    lines: list[str] = []
    prefix = indent
    for paragraph in text.split("\n"):
        line: list[str] = []
        used = display_width(prefix)
        for token in _tokens(paragraph, room):
            size = display_width(token)
            if line and used + size > width:
                carried: list[str] = []
                moved = size  # never carry more than fits on the next line
                while (
                    len(line) > 1
                    and (
                        (carried[0] if carried else token)[0] in _NO_START
                        or line[-1][-1] in _NO_END
                    )
                    and moved + display_width(line[-1]) <= room
                ):
                    moved += display_width(line[-1])
                    carried.insert(0, line.pop())
                lines.append((prefix + "".join(line)).rstrip())
                prefix = rest
                line = carried
                used = display_width(prefix) + sum(display_width(t) for t in line)
                if token.isspace() and not line:
                    continue
            line.append(token)
            used += size
        lines.append((prefix + "".join(line)).rstrip())
        prefix = rest
    return lines


def _field(label: str, value: str, width: int, label_width: int = 14) -> list[str]:
    return wrap(value, width, pad(label, label_width), " " * label_width)


def _rule(char: str, width: int) -> str:
    return char * width


# --------------------------------------------------------------------------- decision


def _group_of(item_id: str, catalog: Catalog) -> str:
    if catalog.has_item(item_id):
        return catalog.item(item_id).group
    return item_id.split("-", 1)[0]


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
    text = METHOD_LABELS.get(conn.method, conn.method)
    details = []
    if conn.breakout_usage:
        details.append(USAGE_LABELS.get(conn.breakout_usage, conn.breakout_usage))
    if conn.internet_virtual_pc:
        details.append("インターネット仮想パソコンを使用")
    if conn.download_to_internet_terminal:
        details.append("インターネット環境の端末へダウンロードあり")
    return text + (f"（{'、'.join(details)}）" if details else "")


def _required_groups(
    required: Sequence[dict[str, Any]], catalog: Catalog
) -> list[tuple[str, list[dict[str, Any]]]]:
    by_group: dict[str, list[dict[str, Any]]] = {}
    for entry in required:
        by_group.setdefault(_group_of(entry["id"], catalog), []).append(entry)
    known = [g for g in GROUP_ORDER if g in by_group]
    others = [g for g in by_group if g not in GROUP_LABELS]
    return [(g, by_group[g]) for g in (*known, *others)]


def _by_reason(entries: Iterable[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Entries gathered under each distinct reason, in order of first appearance."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        runs.setdefault(entry["reason"], []).append(entry)
    return list(runs.items())


def format_decision(
    request: Request, decision: Decision | dict[str, Any], catalog: Catalog, width: int = WIDTH
) -> str:
    """The decision as a Japanese report for a terminal, at most ``width`` columns wide."""
    out: list[str] = []
    add = out.append
    add("クラウドサービス利用判断結果")
    add(_rule("=", width))
    service = request.service.name
    if request.service.provider:
        service += f"（提供者: {request.service.provider}）"
    out += _field("サービス", service, width)
    out += _field("取り扱う情報", _data_summary(request), width)
    out += _field("接続方法", _connection_summary(request), width)
    criteria = f"{catalog.publisher}「{catalog.title}」{catalog.version}"
    out += _field("判断基準", f"{criteria}（{decision['criteria_version']}）", width)
    add(_rule("-", width))
    verdict = decision["verdict"]
    out += _field("判定", f"【{VERDICT_LABELS.get(verdict, verdict)}】", width)
    findings = sorted(decision["findings"], key=lambda f: _SEVERITY.get(f["effect"], 9))
    decisive = _DECISIVE.get(verdict)
    grounds = list(dict.fromkeys(f["clause"] for f in findings if f["effect"] == decisive))
    if grounds:
        out += _field("根拠", "、".join(grounds) + "（詳細は下記の判定理由）", width)
    approvals = [APPROVER_LABELS.get(a, a) for a in decision["approvals"]]
    none = "なし" if verdict == "prohibited" else "不要"
    out += _field("承認", "、".join(f"{a}の承認が必要" for a in approvals) or none, width)
    pia = "必要" if decision["pia_required"] else "不要"
    out += _field("PIA", f"{pia}（特定個人情報保護評価）", width)
    add(_rule("=", width))

    add("")
    add(f"判定理由（{len(findings)} 件、重要なものから）")
    for finding in findings:
        effect = EFFECT_LABELS.get(finding["effect"], finding["effect"])
        add(f"  [{effect}] {finding['clause']}")
        out += wrap(finding["message"], width, "      ")

    required = cast("list[dict[str, Any]]", decision["required"])
    add("")
    add(f"必要な対策（{len(required)} 件）")
    if not required:
        add("  なし")
    elif verdict == "prohibited":
        out += wrap(
            "※ 判定が禁止のため、申請内容のままでは利用できません。"
            "以下は申請内容から求められる対策です（参考）。",
            width,
            "  ",
            "    ",
        )
    id_width = max((len(entry["id"]) for entry in required), default=0) + 2
    for group, entries in _required_groups(required, catalog):
        add("")
        add(f"  【{GROUP_LABELS.get(group, group)}】 {len(entries)} 件")
        for reason, same in _by_reason(entries):
            out += wrap(reason, width, "    理由: ", "          ")
            for entry in same:
                out += wrap(entry["title"], width, f"    {entry['id']:<{id_width}}", " " * 12)
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
    marks = "  ".join(f"{c} {'○' if c in item.columns else '－'}" for c in COLUMN_LABELS)
    return marks


def format_item(catalog: Catalog, item: Item, width: int = WIDTH) -> str:
    """One item: its metadata wrapped, its text verbatim (unwrapped, as in the source)."""
    out = [f"{item.id}  {item.title}".rstrip(), _rule("=", width)]
    out += _field("ID", item.id, width)
    out += _field("グループ", f"{GROUP_LABELS.get(item.group, item.group)}（{item.group}）", width)
    clause = item.clause
    if catalog.has_clause(item.clause):
        clause += f"  {catalog.clause(item.clause).title}"
    out += _field("条項", clause, width)
    if item.title:
        out += _field("題目", item.title, width)
    if item.category:
        out += _field("区分", item.category, width)
    if item.columns:
        out += _field("表1 の列", _columns_text(item), width)
        legend = "、".join(f"{c}: {label}" for c, label in COLUMN_LABELS.items())
        out += wrap(f"（○ は対策が必要な利用方法。{legend}）", width, " " * 14)
    out.append(_rule("-", width))
    out.append("本文:")
    out.append(item.text)
    return "\n".join(out) + "\n"


def format_clause(
    catalog: Catalog, clause: Clause, items: Sequence[Item], width: int = WIDTH
) -> str:
    """One clause: reference, title, verbatim text and the items under it."""
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
            out += wrap(item.title, width, f"  {item.id:<{id_width}}", " " * (id_width + 2))
    return "\n".join(out) + "\n"
