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
from cloudjudge.engine.errors import FieldError, RequestError
from cloudjudge.engine.judge import judge_for, parse_request_json


class LineResult(NamedTuple):
    """One input line's outcome: a decision as a JSON line (``encoded``: UTF-8 with
    its newline, as a stream writes it), or its errors."""

    line_number: int
    encoded: bytes | None
    error: RequestError | None

    @property
    def output(self) -> str | None:
        """The decision's JSON text, without the newline."""
        return None if self.encoded is None else self.encoded[:-1].decode()


def judge_lines(
    lines: Iterable[str | bytes], catalog: Catalog | None = None
) -> Iterator[LineResult]:
    """Judge each non-blank line (text, or UTF-8 bytes as read from a file); a bad
    line yields its error and the rest go on."""
    judge = judge_for(catalog or default_catalog())
    for number, text in enumerate(lines, start=1):
        if not text or text.isspace():
            continue
        try:
            request = parse_request_json(text)
        except RequestError as exc:
            yield LineResult(number, None, _not_utf8(text) or exc)
        else:
            yield LineResult(number, judge.decide_line(request), None)


def _not_utf8(text: str | bytes) -> RequestError | None:
    """For a line of bytes that is not UTF-8, the error that says so and where."""
    if isinstance(text, str):
        return None
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as exc:
        return RequestError([FieldError("", f"UTF-8 として読めません（{exc.start + 1} バイト目）")])
    return None
