"""Judging many requests as JSON Lines: one request per line in, one decision
per line out, streaming, so memory stays flat however long the input is.

Each line is read and validated in one step by pydantic's JSON parser, which
refuses nesting deeper than a request could be and numbers too large to be a
value (issue 14), so a hostile line is an error naming the line, never a crash.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

from cloudjudge.catalog import Catalog, default_catalog
from cloudjudge.engine.errors import RequestError
from cloudjudge.engine.judge import judge_for, parse_request_json


class LineResult(NamedTuple):
    """One input line's outcome: a decision as a JSON line, or its errors."""

    line_number: int
    output: str | None
    error: RequestError | None


def judge_lines(lines: Iterable[str], catalog: Catalog | None = None) -> Iterator[LineResult]:
    """Judge each non-blank line; a bad line yields its error and the rest go on."""
    judge = judge_for(catalog or default_catalog())
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            decision = judge.decide_json(parse_request_json(text))
        except RequestError as exc:
            yield LineResult(number, None, exc)
        else:
            yield LineResult(number, decision, None)
