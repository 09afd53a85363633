"""Validation messages in Japanese, for people who wrote the input by hand:
applicants writing requests and catalog authors writing the catalog."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


def _allowed(ctx: dict[str, Any] | None) -> str:
    expected = str((ctx or {}).get("expected", ""))
    return expected.replace("'", "").replace(" or ", ", ")


#: pydantic's JSON parser's words for what it could not read, in Japanese.
_JSON_PROBLEMS = (
    ("recursion limit exceeded", "入れ子が深すぎます"),
    ("number out of range", "数値が大きすぎます"),
    ("EOF while parsing", "途中で終わっています"),
    ("trailing characters", "余分な文字があります"),
    ("invalid unicode", "UTF-8 の文字として読めません"),
)
_JSON_POSITION = re.compile(r"at line (\d+) column (\d+)")


def _json_problem(msg: str) -> str:
    problem = next((ja for en, ja in _JSON_PROBLEMS if en in msg), "構文の誤り")
    where = _JSON_POSITION.search(msg)
    if where is None:
        return problem
    line, column = where.groups()
    return f"{'' if line == '1' else f'{line} 行 '}{column} 文字目: {problem}"


def japanese_message(err: Mapping[str, Any]) -> str:
    """The Japanese text for one pydantic error (``ValidationError.errors()``)."""
    kind = err["type"]
    given = err.get("input")
    if kind == "missing":
        return "必須項目です"
    if kind == "literal_error":
        return f"次のいずれかを指定してください: {_allowed(err.get('ctx'))}（入力値: {given!r}）"
    if kind == "extra_forbidden":
        return "この項目は定義されていません（綴りを確認してください）"
    if kind in {"bool_type", "bool_parsing"}:
        return f"true または false を指定してください（入力値: {given!r}）"
    if kind == "string_type":
        return f"文字列を指定してください（入力値: {given!r}）"
    if kind == "string_too_short":
        return "空にはできません"
    if kind == "string_pattern_mismatch":
        pattern = (err.get("ctx") or {}).get("pattern", "")
        return f"形式が正しくありません（入力値: {given!r}、形式: {pattern}）"
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return "キーと値の組（オブジェクト）を指定してください"
    if kind in {"list_type", "set_type", "frozen_set_type"}:
        return "配列（リスト）を指定してください"
    if kind == "breakout_usage_required":
        return (
            "接続方法がローカルブレイクアウト方式の場合は必須です"
            "（auth_only, no_file_import, file_import のいずれか）"
        )
    if kind == "contractor_download_required":
        return (
            "指定管理者・委託事業者のダウンロードは、インターネット環境の端末への"
            "ダウンロード（download_to_internet_terminal: true）と併せて指定してください"
        )
    if kind == "json_invalid":
        return f"JSON として読めません（{_json_problem(str(err.get('msg', '')))}）"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    return str(err.get("msg", kind))


def json_depth(text: str, limit: int) -> int:
    """How deep JSON text nests, counting brackets outside strings; it stops
    as soon as the depth passes ``limit``. Read before ``json.loads`` so that
    deep nesting is refused with a message, not a RecursionError."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif char in "]}":
            depth -= 1
    return deepest
