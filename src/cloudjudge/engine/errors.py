"""Input errors that name the field, in Japanese, for people who wrote the input."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError


@dataclass(frozen=True)
class FieldError:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class RequestError(ValueError):
    """The request could not be judged; ``errors`` names every bad field."""

    def __init__(self, errors: Iterable[FieldError]):
        self.errors = tuple(errors)
        super().__init__("; ".join(str(e) for e in self.errors))

    def as_dicts(self) -> list[dict[str, str]]:
        return [{"path": e.path, "message": e.message} for e in self.errors]


def _allowed(ctx: dict[str, Any] | None) -> str:
    expected = (ctx or {}).get("expected", "")
    return expected.replace("'", "").replace(" or ", ", ")


def _message(err: dict[str, Any]) -> str:
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
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return "キーと値の組（オブジェクト）を指定してください"
    if kind in {"list_type", "set_type", "frozen_set_type"}:
        return "配列（リスト）を指定してください"
    if kind == "breakout_usage_required":
        return (
            "接続方法がローカルブレイクアウト方式の場合は必須です"
            "（auth_only, no_file_import, file_import のいずれか）"
        )
    return str(err.get("msg", kind))


def _path(err: dict[str, Any]) -> str:
    loc = [str(part) for part in err["loc"]]
    if err["type"] == "breakout_usage_required":
        loc.append("breakout_usage")
    return ".".join(loc)


def request_error_from(exc: ValidationError) -> RequestError:
    return RequestError(FieldError(_path(e), _message(e)) for e in exc.errors())
