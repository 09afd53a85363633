"""Error bodies: what went wrong, where, in Japanese.

Every input error, whoever finds it (the engine, the API's schemas, the UI's
forms reused here, the models), comes back in one shape::

    {"detail": [{"loc": ["body", "data", "confidentiality"],
                 "path": "data.confidentiality",
                 "msg": "必須項目です"}]}

``loc`` says where (``body``, ``query``, ``path``, then the field), ``path``
the field alone as a dotted path (for the judgement endpoint: exactly the
engine's field path, as ``cloudjudge judge`` prints it). Refusals are
``{"detail": "<message>", "code": "<code>"}``: 401, 403 (not this user's to
do; ``code`` e.g. ``role``), 404, 405, 409 (a workflow guard; ``code`` is its
name), 413, 414, 500 and 503.

Every answer of ``/api/v1/`` is JSON, whatever went wrong: an unknown path or
a non-integer ID (404, ``urls.py``), a method the path does not have (405), a
body that is not JSON or too deeply nested or a number too large to read
(400), a multipart body without its boundary (400), a URL over
:data:`MAX_URL_LENGTH` (414), an unexpected exception (500, logged).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cloudjudge.engine import RequestError
from cloudjudge.validation import japanese_message


class InputError(Exception):
    """Input the API cannot use: 422 (or 400 when it is not JSON at all)."""

    def __init__(
        self,
        errors: Iterable[dict[str, Any]],
        status: int = 422,
        extra: Mapping[str, Any] | None = None,
    ):
        self.errors = list(errors)
        self.status = status
        #: Fields of the endpoint's own 422 shape beside ``detail``.
        self.extra = dict(extra or {})
        super().__init__(self.errors)


def _parts(path: str) -> list[str | int]:
    # isdigit() alone takes 「¹」 for a digit, and int() then fails on it.
    return [int(p) if p.isascii() and p.isdigit() else p for p in path.split(".")] if path else []


def field_error(path: str, msg: str, source: str = "body") -> dict[str, Any]:
    """One entry of ``detail`` for a dotted field path (``""``: the whole body)."""
    return {"loc": [source, *_parts(path)], "path": path, "msg": str(msg)}


def from_loc(source: str, loc: Sequence[Any], msg: str) -> dict[str, Any]:
    parts = [p if isinstance(p, int) else str(p) for p in loc]
    return {"loc": [source, *parts], "path": ".".join(str(p) for p in parts), "msg": str(msg)}


def from_request_error(exc: RequestError, rename: Mapping[str, str] | None = None) -> InputError:
    """The engine's field errors; ``rename`` maps an engine path to the API's
    field where the two differ (the application endpoints)."""
    rename = rename or {}
    return InputError(field_error(rename.get(e.path, e.path), e.message) for e in exc.errors)


#: A longer URL (path and query) is a 414; gunicorn refuses request lines
#: over 4,094 bytes itself, before the application sees them.
MAX_URL_LENGTH = 2048

TOO_DEEP = "入れ子が深すぎます"
TOO_BIG_NUMBER = "数値が大きすぎます"


def not_json(exc: Exception) -> InputError:
    """A body that is not JSON text: 400, said as the CLI says it."""
    if isinstance(exc, RecursionError):
        msg = f"JSON として読めません（{TOO_DEEP}）"
    elif isinstance(exc, json.JSONDecodeError):
        msg = f"JSON として読めません（{exc.lineno} 行 {exc.colno} 文字目: {exc.msg}）"
    elif isinstance(exc, UnicodeDecodeError):
        msg = "本文を UTF-8 の文字列として読めません"
    elif isinstance(exc, ValueError) and "digits" in str(exc):  # int() over Python's limit
        msg = f"JSON として読めません（{TOO_BIG_NUMBER}）"
    else:
        msg = f"JSON として読めません（{exc}）"
    return InputError([field_error("", msg)], status=400)


EMPTY_BODY = "本文が空です。JSON を送ってください。"


def not_multipart(exc: Exception) -> InputError:
    """A file upload whose body is not readable multipart/form-data: 400."""
    return InputError(
        [field_error("", f"multipart/form-data の本文として読めません（{exc}）")], status=400
    )


def message(err: Mapping[str, Any]) -> str:
    """Japanese for one pydantic error of the API's own schemas: the engine's
    wording where the kinds are the same, a few more for types it never has."""
    kind = err.get("type", "")
    given = err.get("input")
    ctx = err.get("ctx") or {}
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return f"整数を指定してください（入力値: {given!r}）"
    if kind in {"date_type", "date_parsing", "date_from_datetime_parsing"}:
        return f"日付を YYYY-MM-DD の形で指定してください（入力値: {given!r}）"
    if kind == "date_from_datetime_inexact":
        return f"時刻のない日付を指定してください（入力値: {given!r}）"
    if kind == "string_too_long":
        return f"{ctx.get('max_length')} 文字以内で指定してください"
    if kind == "string_too_short" and ctx.get("min_length", 1) > 1:
        return f"{ctx.get('min_length')} 文字以上で指定してください"
    if kind == "none_required":
        return "null を指定してください"
    return japanese_message(err)
