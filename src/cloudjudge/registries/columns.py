"""The columns of a registry spreadsheet: their Japanese headings, the variants
accepted for each, which are required, and how a heading is recognised.

A heading is compared after ``heading_key``: NFKC (full-width → half-width),
case folding, and removal of spaces, brackets, ``の``, ``・``, ``/``, ``-``, ``.``,
``:`` and marks such as ``※``, ``*``, ``必須``, ``任意``. So ``ＩＳＭＡＰ登録番号``,
``登録番号（必須）`` and ``登録 番号`` are all ``登録番号``, and
``監査対象期間（終了）`` is ``監査対象期間終了``.

A two-row heading whose parent cell spans child cells (``監査対象期間`` over
``開始`` / ``終了``) is read as parent + child, e.g. ``監査対象期間`` + ``終了``.
Any of the parents 監査対象期間 / 監査の対象期間 / 監査期間 / 監査対象となる期間
with any child 終了 / 終了日 / 末日 / 終期 / 至 / まで (or 開始 / 開始日 / 初日 /
始期 / 自 / から) is recognised, in one cell or in two rows.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from cloudjudge.registries.entries import KINDS, RegistryKind

ValueType = Literal[
    "number", "text", "date", "period", "flag", "status", "note", "url", "list", "ignored"
]

ISMAP_KINDS: frozenset[RegistryKind] = frozenset({"ismap", "ismap_liu"})
ALL_KINDS: frozenset[RegistryKind] = frozenset(KINDS)
LGWAN: frozenset[RegistryKind] = frozenset({"lgwan_asp"})
NONE: frozenset[RegistryKind] = frozenset()


@dataclass(frozen=True)
class Column:
    """One column a registry file may have.

    ``field`` names the ``RegistryEntry`` field it fills, or one of
    ``audit_period`` (a range whose end is the audit-period end), ``status``
    (a status word that may set ``renewal_pending`` / ``withdrawn``) and
    ``audit_start`` (recognised, not used).
    """

    field: str
    heading: str
    variants: tuple[str, ...]
    value: ValueType
    kinds: frozenset[RegistryKind]
    required: frozenset[RegistryKind]
    description: str

    def headings(self) -> tuple[str, ...]:
        return (self.heading, *self.variants)


_AUDIT_PARENTS = ("監査対象期間", "監査の対象期間", "監査期間", "監査対象となる期間")
_END_CHILDREN = ("終了", "終了日", "末日", "終期", "至", "まで", "to", "end")
_START_CHILDREN = ("開始", "開始日", "初日", "始期", "自", "から", "from", "start")

COLUMNS: tuple[Column, ...] = (
    Column(
        field="number",
        heading="登録番号",
        variants=(
            "ISMAP登録番号",
            "ISMAP-LIU登録番号",
            "登録No",
            "登録No.",
            "登録ナンバー",
            "クラウドサービス登録番号",
            "サービス登録番号",
        ),
        value="number",
        kinds=ISMAP_KINDS,
        required=ISMAP_KINDS,
        description="ISMAP の登録番号（例: C21-0008-2）。ファイル内で重複不可",
    ),
    Column(
        field="number",
        heading="サービスコード",
        variants=(
            "ASPサービスコード",
            "LGWAN-ASPサービスコード",
            "サービスコード番号",
            "サービス番号",
            "コード",
        ),
        value="number",
        kinds=LGWAN,
        required=LGWAN,
        description="J-LIS が付したサービスコード。ファイル内で重複不可",
    ),
    Column(
        field="service_name",
        heading="クラウドサービスの名称",
        variants=(
            "クラウドサービス名称",
            "クラウドサービス名",
            "サービスの名称",
            "サービス名称",
            "サービス名",
            "名称",
        ),
        value="text",
        kinds=ALL_KINDS,
        required=ALL_KINDS,
        description="サービスの名称",
    ),
    Column(
        field="provider",
        heading="事業者",
        variants=(
            "事業者名",
            "事業者の名称",
            "クラウドサービス事業者",
            "クラウドサービス事業者名",
            "提供事業者",
            "提供事業者名",
            "サービス提供事業者",
            "サービス提供者",
            "提供者",
            "ASP事業者",
            "LGWAN-ASP事業者",
        ),
        value="text",
        kinds=ALL_KINDS,
        required=ALL_KINDS,
        description="サービスを提供する事業者の名称",
    ),
    Column(
        field="registered_on",
        heading="登録日",
        variants=("登録年月日", "登録日付", "掲載日"),
        value="date",
        kinds=ALL_KINDS,
        required=NONE,
        description="リストに登録された日",
    ),
    Column(
        field="audit_period_end",
        heading="監査対象期間の末日",
        variants=(
            "監査対象期間（終了）",
            "監査対象期間（終了日）",
            "監査対象期間（至）",
            "監査の対象期間の末日",
            "監査期間の末日",
            "監査期間（終了）",
        ),
        value="date",
        kinds=ISMAP_KINDS,
        required=NONE,  # this or 監査対象期間 is required; see AUDIT_FIELDS
        description="監査対象期間の最終日。有効期限はこの日から計算します",
    ),
    Column(
        field="audit_period",
        heading="監査対象期間",
        variants=_AUDIT_PARENTS[1:],
        value="period",
        kinds=ISMAP_KINDS,
        required=NONE,
        description=(
            "「2023/4/1～2024/3/31」のような期間（終了日を末日として使います）。"
            "2行の見出しで「開始」「終了」に分けても構いません"
        ),
    ),
    Column(
        field="audit_start",
        heading="監査対象期間の開始日",
        variants=("監査対象期間（開始）", "監査対象期間（開始日）", "監査対象期間（自）"),
        value="ignored",
        kinds=ISMAP_KINDS,
        required=NONE,
        description="読み込みますが使いません",
    ),
    Column(
        field="renewal_pending",
        heading="更新申請中",
        variants=("更新申請", "更新申請の有無", "更新申請状況", "更新中"),
        value="flag",
        kinds=ISMAP_KINDS,
        required=NONE,
        description="更新の申請中なら「○」、そうでなければ空欄",
    ),
    Column(
        field="withdrawn",
        heading="取下げ・登録取消",
        variants=(
            "取下げ",
            "取り下げ",
            "取下",
            "登録取消",
            "登録取消し",
            "登録の取消",
            "取消",
            "取消し",
            "取下げ/登録取消",
            "取下げ・取消",
            "取下げ等",
            "登録抹消",
        ),
        value="flag",
        kinds=ALL_KINDS,
        required=NONE,
        description="取下げ・登録取消済みなら「○」（または取下げ日）、そうでなければ空欄",
    ),
    Column(
        field="status",
        heading="状態",
        variants=("ステータス", "登録状況", "登録状態"),
        value="status",
        kinds=ALL_KINDS,
        required=NONE,
        description="「登録」「更新申請中」「取下げ」「登録取消」など（更新申請中・取下げを表す語を読み取ります）",
    ),
    Column(
        field="notes",
        heading="備考",
        variants=("注記", "摘要", "補足", "特記事項", "その他", "コメント"),
        value="note",
        kinds=ALL_KINDS,
        required=NONE,
        description=(
            "「取下げ」「更新申請中」「失効」「一時停止」（日付つきでも可）を読み取ります。"
            "読めない備考は取込み時に警告として表示します"
        ),
    ),
    Column(
        field="source_url",
        heading="URL",
        variants=(
            "掲載URL",
            "詳細URL",
            "参照URL",
            "出典URL",
            "ページURL",
            "掲載ページ",
            "リンク",
            "出典",
        ),
        value="url",
        kinds=ALL_KINDS,
        required=NONE,
        description="公開ページの URL（http:// または https:// で始まるもの）",
    ),
    Column(
        field="category",
        heading="区分",
        variants=(
            "分類",
            "サービス区分",
            "サービス分類",
            "カテゴリ",
            "カテゴリー",
            "種別",
            "サービス種別",
        ),
        value="text",
        kinds=LGWAN,
        required=NONE,
        description="J-LIS の区分（例: アプリケーション及びコンテンツサービス）",
    ),
    Column(
        field="regions",
        heading="リージョン",
        variants=(
            "選択可能なリージョン",
            "選択可能リージョン",
            "対象リージョン",
            "利用可能なリージョン",
        ),
        value="list",
        kinds=ISMAP_KINDS,
        required=NONE,
        description="選択可能なリージョン。複数は「、」で区切ります",
    ),
)

#: Either of these satisfies the audit-period requirement of ISMAP / ISMAP-LIU.
AUDIT_FIELDS: tuple[str, str] = ("audit_period_end", "audit_period")
AUDIT_REQUIREMENT_LABEL = "監査対象期間の末日（または監査対象期間）"

_STRIP_CHARS = re.compile(
    r"[\s()\[\]{}<>「」『』【】〔〕〈〉《》・/\\\-.:;,、。の*#＊]|※\d*|必須|任意"
)


def heading_key(text: object) -> str:
    """A heading reduced to what identifies it (see the module docstring)."""
    if text is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(text)).casefold()
    return _STRIP_CHARS.sub("", folded)


def columns_for(kind: RegistryKind) -> tuple[Column, ...]:
    return tuple(c for c in COLUMNS if kind in c.kinds)


#: Priority of a heading made of an audit-period parent and a child (開始/終了…)
#: that is not among the listed variants.
_COMPOSITE_PRIORITY = 100


def _heading_index(kind: RegistryKind) -> dict[str, tuple[Column, int]]:
    index: dict[str, tuple[Column, int]] = {}
    by_field = {c.field: c for c in columns_for(kind)}
    for column in by_field.values():
        for priority, heading in enumerate(column.headings()):
            index.setdefault(heading_key(heading), (column, priority))
    for field, children in (("audit_period_end", _END_CHILDREN), ("audit_start", _START_CHILDREN)):
        if field in by_field:
            for parent in _AUDIT_PARENTS:
                for child in children:
                    key = heading_key(parent) + heading_key(child)
                    index.setdefault(key, (by_field[field], _COMPOSITE_PRIORITY))
    return index


HEADING_INDEX: dict[str, dict[str, tuple[Column, int]]] = {k: _heading_index(k) for k in KINDS}

#: Heading keys that may stand alone in the lower row of a two-row heading.
CHILD_KEYS: frozenset[str] = frozenset(heading_key(c) for c in _END_CHILDREN + _START_CHILDREN)


def resolve(kind: RegistryKind, key: str, child_key: str = "") -> tuple[Column, int] | None:
    """The column a heading key (and, in a two-row heading, its child) names, with
    the variant's priority (0 for the template's own heading)."""
    index = HEADING_INDEX[kind]
    if child_key:
        return index.get(key + child_key) or index.get(child_key)
    return index.get(key)
