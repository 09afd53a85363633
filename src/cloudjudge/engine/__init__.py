"""The pure judgement engine. It knows the catalog and nothing of the web."""

from cloudjudge.engine.errors import FieldError, RequestError
from cloudjudge.engine.judge import (
    Decision,
    Judge,
    judge,
    judge_for,
    parse_request,
    parse_request_json,
)
from cloudjudge.engine.request import Request

__all__ = [
    "Decision",
    "FieldError",
    "Judge",
    "Request",
    "RequestError",
    "judge",
    "judge_for",
    "parse_request",
    "parse_request_json",
]
