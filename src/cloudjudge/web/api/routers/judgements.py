"""``POST /api/v1/judgements``: the engine, over HTTP.

The body is read and validated here with the engine's own ``parse_request``
(so error paths are the engine's field paths), and the decision is written
with ``Judge.decide_json``: the same JSON as ``cloudjudge judge --format
json`` (compact), without building the dict and validating it again. Nothing
is stored.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from ninja import Router

from cloudjudge.catalog import default_catalog
from cloudjudge.engine import RequestError, judge_for, parse_request
from cloudjudge.web.api import errors, schemas

router = Router(tags=["judgements"])

JSON = "application/json; charset=utf-8"

EXAMPLE = {
    "service": {
        "name": "クラウド型グループウェア",
        "provider": "株式会社サンプルクラウド",
        "listings": ["ismap"],
        "isms_certifications": ["iso27001", "iso27017"],
    },
    "data": {"confidentiality": "3B", "my_number": False},
    "connection": {"method": "local_breakout", "breakout_usage": "file_import"},
}


@router.post(
    "",
    response={
        200: schemas.DecisionOut,
        400: schemas.ValidationErrorOut,
        401: schemas.ErrorOut,
        422: schemas.ValidationErrorOut,
    },
    summary="申請を判定する（cloudjudge judge と同じ結果）",
    description=(
        "本文は `cloudjudge judge` の申請 JSON（service / data / connection / exceptions）。"
        "応答は `cloudjudge judge --format json` と同じ判定結果。何も保存しません。"
        "申請の誤りは 422 で、`path` がエンジンの項目パス（例 `data.confidentiality`）です。"
        "JSON として読めない本文は 400 です。"
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/JudgementRequest"},
                    "example": EXAMPLE,
                }
            },
        }
    },
)
def judge(request: HttpRequest):
    body = request.body
    if not body.strip():
        raise errors.InputError([errors.field_error("", errors.EMPTY_BODY)], status=400)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError,
        raise errors.not_json(exc) from None  # an int over 4,300 digits, deep nesting
    try:
        parsed = parse_request(data)
    except RequestError as exc:
        raise errors.from_request_error(exc) from None
    return HttpResponse(judge_for(default_catalog()).decide_json(parsed), content_type=JSON)
