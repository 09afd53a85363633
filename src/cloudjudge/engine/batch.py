"""Judging many requests as JSON Lines: one request per line in, one decision
per line out, streaming, so memory stays flat however long the input is."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from cloudjudge.catalog import Catalog, default_catalog
from cloudjudge.engine.errors import FieldError, RequestError
from cloudjudge.engine.judge import judge_for, parse_request


@dataclass(frozen=True)
class LineResult:
    """One input line's outcome: a decision as a JSON line, or its errors."""

    line_number: int
    output: str | None
    error: RequestError | None


def _read_line(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RequestError(
            [FieldError("", f"JSON として読めません（{exc.colno} 文字目: {exc.msg}）")]
        ) from None
    if not isinstance(data, dict):
        raise RequestError([FieldError("", "各行は JSON オブジェクトでなければなりません")])
    return data


def judge_lines(lines: Iterable[str], catalog: Catalog | None = None) -> Iterator[LineResult]:
    """Judge each non-blank line; a bad line yields its error and the rest go on."""
    judge = judge_for(catalog or default_catalog())
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            decision = judge.decide_json(parse_request(_read_line(text)))
        except RequestError as exc:
            yield LineResult(number, None, exc)
        else:
            yield LineResult(number, decision, None)
