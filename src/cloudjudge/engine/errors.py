"""Input errors that name the field, in Japanese, for people who wrote the input."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from cloudjudge.engine.request import CONSISTENCY_FIELD
from cloudjudge.validation import japanese_message


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


def _name(key: str) -> str:
    """A key as written; quoted (JSON-escaped) when empty or holding spaces or
    control characters, so the error names it visibly and on one line."""
    if key and all(c.isprintable() and not c.isspace() for c in key):
        return key
    quoted = json.dumps(key, ensure_ascii=False)
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in quoted)


def _path(err: Mapping[str, Any]) -> str:
    loc = [_name(str(part)) for part in err["loc"]]
    if err["type"] in CONSISTENCY_FIELD:
        loc.append(CONSISTENCY_FIELD[err["type"]])
    return ".".join(loc)


def request_error_from(exc: ValidationError) -> RequestError:
    return RequestError(FieldError(_path(e), japanese_message(e)) for e in exc.errors())
