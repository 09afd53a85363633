"""Japanese labels for the engine's codes: verdicts, effects, facts, methods.

One place for the words people read, shared by the documents, the web layer
and the CLI. Plain data and two small helpers; no third-party imports, so the
CLI can use it without the ``web`` extra.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

VERDICT_LABELS: dict[str, str] = {
    "prohibited": "禁止",
    "approval_required": "承認が必要",
    "permitted": "利用可",
}

EFFECT_LABELS: dict[str, str] = {
    "prohibit": "禁止",
    "approve": "承認が必要",
    "require": "要対策",
    "info": "参考",
}

APPROVER_LABELS: dict[str, str] = {"ciso": "統括情報セキュリティ責任者"}

#: Where required measures come from, in the order documents show them.
GROUP_LABELS: dict[str, str] = {
    "T1": "表1 ローカルブレイクアウト方式の対策",
    "S1": "別紙1① 外部サービス共通",
    "S2": "別紙1② インターネットパソコン方式",
    "SEL": "選定基準 3.1(2)",
    "EXIT": "終了時 3.2",
    "PROC": "調達 3.3",
    "SU": "セキュリティ関連サービスの条件 3.1(1)(イ)",
    "RISK": "留意事項 2(3)",
}

#: Where each group's measures come from, as a reader cites it.
GROUP_SOURCES: dict[str, str] = {
    "T1": "表1",
    "S1": "別紙1①",
    "S2": "別紙1②",
    "SEL": "3.1(2)",
    "EXIT": "3.2",
    "PROC": "3.3",
    "SU": "3.1(1)(イ) ただし書",
    "RISK": "2(3)",
}

#: Who carries out a catalog item (``party`` in the catalog).
PARTY_LABELS: dict[str, str] = {"provider": "事業者", "city": "本市", "both": "事業者・本市"}

METHOD_LABELS: dict[str, str] = {
    "local_breakout": "ローカルブレイクアウト方式",
    "internet_pc": "インターネットパソコン方式",
    "lgwan_asp": "LGWAN-ASP 利用方式",
    "government_cloud": "ガバメントクラウド方式",
}

USAGE_LABELS: dict[str, str] = {
    "auth_only": "利用方法 A: 認証・ウイルス定義体の取得のみ",
    "no_file_import": "利用方法 B: ファイルを庁内に取り込まない",
    "file_import": "利用方法 C: 外部とファイル送受信を行い内部に取り込む",
}

NETWORK_LABELS: dict[str, str] = {
    "lgwan": "LGWAN 回線",
    "government_cloud_line": "ガバメントクラウド専用線",
    "internet": "インターネット回線",
}

LISTING_LABELS: dict[str, str] = {
    "lgwan_asp": "LGWAN-ASP",
    "ismap": "ISMAP クラウドサービスリスト",
    "ismap_liu": "ISMAP-LIU クラウドサービスリスト",
}

ISMS_LABELS: dict[str, str] = {
    "iso27001": "ISO/IEC 27001",
    "iso27017": "ISO/IEC 27017",
    "iso27018": "ISO/IEC 27018",
}

CONFIDENTIALITY_LABELS: dict[str, str] = {
    "3A": "自治体機密性 3A（外部サービスでの取扱い禁止）",
    "3B": "自治体機密性 3B（重要情報資産）",
    "3C": "自治体機密性 3C（重要情報資産）",
    "2": "自治体機密性 2",
    "1": "自治体機密性 1",
}

#: Short forms for narrow table cells (the register).
CONFIDENTIALITY_SHORT_LABELS: dict[str, str] = {
    "3A": "3A",
    "3B": "3B（重要）",
    "3C": "3C（重要）",
    "2": "2",
    "1": "1",
}

#: Every fact of a judgement request, keyed ``part.field``, in display order.
FACT_LABELS: dict[str, str] = {
    "service.name": "サービス名",
    "service.provider": "提供事業者",
    "service.listings": "掲載・登録",
    "service.isms_certifications": "ISMS 認証",
    "service.security_update_service": "セキュリティ関連サービス（更新情報の配信のみ）",
    "data.confidentiality": "取り扱う情報の機密性",
    "data.my_number": "特定個人情報を含む",
    "data.administrative_documents": "行政文書又はそれに相当する情報を扱う",
    "data.critical_to_citizens": "停止により市民サービスに多大な影響がある",
    "connection.method": "接続方法",
    "connection.breakout_usage": "利用方法（表1）",
    "connection.internet_virtual_pc": "インターネット仮想パソコンを使用する",
    "connection.network": "接続回線",
    "connection.download_to_internet_terminal": "インターネット環境の端末へダウンロードする",
    "connection.download_by_contractor": "指定管理者・委託事業者がダウンロードする",
    "exceptions.internet_only_function": (
        "業務に必要な機能がインターネットクラウドのみで提供されている"
    ),
    "exceptions.limited_external_sharing": (
        "外部事業者との情報共有・ファイル共有の実現方法が限られる"
    ),
    "exceptions.council_approved_legacy": "個人情報保護審議会の承認を得て導入済み",
}

#: Value labels for the facts whose values are codes.
FACT_VALUE_LABELS: dict[str, dict[str, str]] = {
    "service.listings": LISTING_LABELS,
    "service.isms_certifications": ISMS_LABELS,
    "data.confidentiality": CONFIDENTIALITY_LABELS,
    "connection.method": METHOD_LABELS,
    "connection.breakout_usage": USAGE_LABELS,
    "connection.network": NETWORK_LABELS,
}

YES, NO, NONE = "はい", "いいえ", "なし"

# --------------------------------------------------------------------------- remedies

#: How a remedy says it changes a fact to a code: ``{}`` is the code's label.
CHANGE_TO_CODE: dict[str, str] = {
    "service.listings": "「{}」に掲載されたサービスを選ぶ",
    "service.isms_certifications": "「{}」の認証を受けたサービスを選ぶ",
    "connection.method": "接続方法を「{}」にする",
    "connection.network": "接続回線を「{}」にする",
    "connection.breakout_usage": "利用方法（表1）を「{}」にする",
}

#: How a remedy says it sets a yes/no fact: (to yes, to no).
CHANGE_TO_FLAG: dict[str, tuple[str, str]] = {
    "connection.internet_virtual_pc": (
        "インターネット仮想パソコンを使用する",
        "インターネット仮想パソコンを使用しない",
    ),
    "connection.download_to_internet_terminal": (
        "インターネット環境の端末へダウンロードする",
        "インターネット環境の端末へダウンロードしない",
    ),
    "connection.download_by_contractor": (
        "指定管理者・委託事業者がダウンロードする",
        "指定管理者・委託事業者にダウンロードさせない",
    ),
    "exceptions.internet_only_function": (
        "業務に必要な機能がインターネットクラウドのみで提供されていることを示す",
        "業務に必要な機能がインターネットクラウドのみで提供されているとしない",
    ),
    "exceptions.limited_external_sharing": (
        "外部事業者との情報共有・ファイル共有の実現方法が限られることを示す",
        "外部事業者との情報共有・ファイル共有の実現方法が限られるとしない",
    ),
}


def change_phrase(key: str, value: Any) -> str:
    """What a remedy asks, in Japanese: set fact ``key`` to ``value`` (for a set
    of codes, ``value`` is the code added)."""
    if isinstance(value, bool):
        if key in CHANGE_TO_FLAG:
            return CHANGE_TO_FLAG[key][0 if value else 1]
        return f"{FACT_LABELS.get(key, key)}: {YES if value else NO}"
    words = FACT_VALUE_LABELS.get(key, {}).get(str(value), str(value))
    if key in CHANGE_TO_CODE:
        return CHANGE_TO_CODE[key].format(words)
    return f"{FACT_LABELS.get(key, key)}を「{words}」にする"


# --------------------------------------------------------------------------- questionnaire

#: The vendor's answer choices, in drop-down order.
ANSWER_CHOICES: tuple[str, ...] = ("対応可", "一部対応", "対応不可", "該当なし")

#: Checklist status codes (as the web layer's ``ItemStatus``) and their labels.
CHECKLIST_STATUS_LABELS: dict[str, str] = {
    "todo": "未対応",
    "in_progress": "対応中",
    "done": "対応済",
    "not_applicable": "該当なし",
}

#: The checklist status each answer proposes, for the reviewer to accept.
ANSWER_STATUS: dict[str, str] = {
    "対応可": "done",
    "一部対応": "in_progress",
    "対応不可": "todo",
    "該当なし": "not_applicable",
}

#: The seal boxes of a judgement report, in signing order.
SEAL_ROLES: tuple[str, ...] = (
    "担当",
    "情報システム管理者",
    # The security office's reviewer, who checks the measures and the vendor's answers.
    "情報セキュリティ課",
    "統括情報セキュリティ責任者",
)


def label(mapping: Mapping[str, str], code: Any) -> str:
    """The label of ``code``, or the code itself when it has none (never fails)."""
    if code is None or code == "":
        return ""
    return mapping.get(str(code), str(code))


def fact_value_label(key: str, value: Any) -> str:
    """One fact's value in Japanese: はい/いいえ, labelled codes, lists joined."""
    if isinstance(value, bool):
        return YES if value else NO
    names = FACT_VALUE_LABELS.get(key, {})
    if isinstance(value, (list, tuple, set, frozenset)):
        values = sorted(str(v) for v in value)
        return "、".join(names.get(v, v) for v in values) if values else NONE
    if value is None or value == "":
        return NONE if key in FACT_VALUE_LABELS else ""
    return names.get(str(value), str(value))


def _flatten(facts: Mapping[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for part, fields in facts.items():
        if isinstance(fields, Mapping):
            for field, value in fields.items():
                flat[f"{part}.{field}"] = value
        else:
            flat[str(part)] = fields
    return flat


def fact_rows(facts: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A judgement request (as given to ``cloudjudge.judge``) as (label, value)
    rows in Japanese, defaults filled in, in the order of ``FACT_LABELS``.

    A request the engine cannot parse is still shown, field by field, as given.
    """
    from cloudjudge.engine import RequestError, parse_request

    try:
        request = parse_request(facts)
    except RequestError:
        flat = _flatten(facts)
    else:
        flat = {
            "service.name": request.service.name,
            "service.provider": request.service.provider,
            **request.fact_values(),
        }
    ordered: Iterable[str] = [
        *(k for k in FACT_LABELS if k in flat),
        *(k for k in flat if k not in FACT_LABELS),
    ]
    rows = []
    for key in ordered:
        value = flat[key]
        if key == "connection.breakout_usage" and not value:
            continue  # only meaningful with local breakout
        rows.append((FACT_LABELS.get(key, key), fact_value_label(key, value)))
    return rows
