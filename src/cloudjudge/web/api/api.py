"""The API object: authentication for every operation, the routers, the
error responses (see ``errors``) and the OpenAPI document."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger

from cloudjudge.engine import Request, RequestError
from cloudjudge.web import outage
from cloudjudge.web.api import auth, errors
from cloudjudge.web.api.routers import (
    account,
    applications,
    checklist,
    judgements,
    oscal,
    reviews,
)
from cloudjudge.web.api.routers import registries as registries_api
from cloudjudge.web.audit.refusals import log_refusal
from cloudjudge.web.audit.trail import record_refusal
from cloudjudge.web.register.workflow import GuardFailed, NotAllowed

DESCRIPTION = """\
クラウドサービス利用判断システム（cloudjudge）の HTTP API。

* `POST /api/v1/judgements`: 申請の JSON（`cloudjudge judge` と同じ形式）を判定し、
  `cloudjudge judge --format json` と同じ判定結果を返します。
* 申請（台帳）・チェックリスト・承認: 画面と同じ権限で読み書きできます。
  他部署の申請は 404、監査者の書き込みは 403、ワークフローの条件を満たさない操作は
  409（`code` に条件名）です。

認証: `Authorization: Bearer <API トークン>`（`cloudjudge manage apitoken ユーザー名` で発行）、
またはログイン中のブラウザーのセッション（書き込みには `X-CSRFToken`）。
入力の誤りは 422 で、`detail` の各項目が `loc` / `path`（項目の位置）と `msg`（日本語の説明）を
持ちます。
"""

#: Prefix of the engine request's schemas in ``components.schemas``.
REQUEST_SCHEMA = "JudgementRequest"


def engine_request_schemas() -> dict[str, Any]:
    """The engine's request model as OpenAPI components (``JudgementRequest``
    and its parts), for the judgement endpoint, which reads its body itself."""
    schema = Request.model_json_schema(
        ref_template=f"#/components/schemas/{REQUEST_SCHEMA}{{model}}"
    )
    parts = schema.pop("$defs", {})
    return {REQUEST_SCHEMA: schema, **{f"{REQUEST_SCHEMA}{k}": v for k, v in parts.items()}}


def _answer(description: str, *schemas: str) -> dict[str, Any]:
    refs: list[dict[str, Any]] = [{"$ref": f"#/components/schemas/{name}"} for name in schemas]
    schema = refs[0] if len(refs) == 1 else {"anyOf": refs}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


#: The refusals any operation may answer, documented on each (``errors``):
#: a body or query not readable (400: a field list, or a refusal of a request
#: Django will not read), no or a wrong token (401), not this role's (403), no
#: such thing or path (404), a URL too long (414), a field wrong (422), the
#: database unreachable (503). Operations with a body add 413.
COMMON_RESPONSES = {
    400: _answer("本文・クエリを読めない", "ValidationErrorOut", "ErrorOut"),
    401: _answer("認証が必要", "ErrorOut"),
    403: _answer("権限がない", "ErrorOut"),
    404: _answer("見つからない（権限の範囲外を含む）", "ErrorOut"),
    414: _answer("URL が長すぎる", "ErrorOut"),
    422: _answer("入力の誤り（項目ごと）", "ValidationErrorOut"),
    503: _answer("データベースに接続できない", "ErrorOut"),
}
BODY_RESPONSES = {413: _answer("本文が大きすぎる", "ErrorOut")}


class CloudjudgeAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {}).update(
            engine_request_schemas()
        )
        for operations in schema["paths"].values():
            for operation in operations.values():
                responses = operation["responses"]
                common = {**COMMON_RESPONSES}
                if "requestBody" in operation:
                    common.update(BODY_RESPONSES)
                for status, answer in common.items():
                    if status == 400 or status not in responses:
                        responses[status] = answer
        return schema

    def validation_error_from_error_contexts(self, error_contexts) -> ValidationError:
        """ninja's own input checks, in the API's error shape: Japanese messages,
        and a body field's ``loc`` without the handler's parameter name."""
        found = []
        for context in error_contexts:
            model = context.model
            source = model.__ninja_param_source__
            single = getattr(model, "__read_from_single_attr__", None)
            flatten = model.__ninja_flatten_map_reverse__
            for err in context.pydantic_validation_error.errors(include_url=False):
                loc = tuple(flatten.get(err["loc"], err["loc"]))
                if single and loc[:1] == (single,):
                    loc = loc[1:]
                found.append(errors.from_loc(source, loc, errors.message(err)))
        return ValidationError(found)


api = CloudjudgeAPI(
    title="cloudjudge API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=auth.AUTH,
    docs=Swagger(settings={"persistAuthorization": False, "displayRequestDuration": True}),
)

api.add_router("/judgements", judgements.router)
api.add_router("/applications", applications.router)
api.add_router("/applications", checklist.router)
api.add_router("/applications", reviews.router)
api.add_router("/applications", oscal.router)
api.add_router("/services", applications.services_router)
api.add_router("/me", account.router)
api.add_router("/registries", registries_api.router)


# --------------------------------------------------------------------------- errors


#: Answers that are refusals of the caller, recorded as アクセス拒否 (a 409 is a
#: workflow guard that failed).
AUDITED_REFUSALS = frozenset({401, 403, 409})


def _refusal(request: HttpRequest, status: int, detail: Any, code: str = "") -> HttpResponse:
    if status in AUDITED_REFUSALS:
        record_refusal(request, detail, status=status, code=code)
        log_refusal(request, status, str(detail))
    return api.create_response(request, {"detail": str(detail), "code": code}, status=status)


@api.exception_handler(ValidationError)
def _validation_error(request, exc):
    return api.create_response(request, {"detail": exc.errors}, status=422)


@api.exception_handler(errors.InputError)
def _input_error(request, exc):
    return api.create_response(request, {**exc.extra, "detail": exc.errors}, status=exc.status)


@api.exception_handler(RequestError)
def _request_error(request, exc):
    return _input_error(request, errors.from_request_error(exc))


@api.exception_handler(DjangoValidationError)
def _model_error(request, exc):
    if hasattr(exc, "error_dict"):
        found = [
            errors.field_error("" if field == "__all__" else field, msg)
            for field, messages in exc.message_dict.items()
            for msg in messages
        ]
    else:
        found = [errors.field_error("", msg) for msg in exc.messages]
    return _input_error(request, errors.InputError(found))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    message = exc.message if isinstance(exc, auth.Unauthenticated) else auth.MISSING
    response = _refusal(request, 401, message, "not_authenticated")
    response["WWW-Authenticate"] = 'Bearer realm="cloudjudge"'
    return response


@api.exception_handler(NotAllowed)
def _not_allowed(request, exc):
    return _refusal(request, 403, exc.message, exc.code or "not_allowed")


@api.exception_handler(GuardFailed)
def _guard_failed(request, exc):
    return _refusal(request, 409, exc.message, exc.code)


@api.exception_handler(PermissionDenied)
def _permission_denied(request, exc):
    return _refusal(request, 403, str(exc) or "この操作は許可されていません。", "permission_denied")


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return _refusal(request, 413, f"本文が大きすぎます（上限 {limit:,} バイト）。", "too_large")


@api.exception_handler(SuspiciousOperation)
def _suspicious(request, exc):
    return _refusal(request, 400, "この要求は受け付けられません。", "bad_request")


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _refusal(request, 404, "見つかりません。", "not_found")


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _database_unavailable(request, exc):
    return outage.unavailable(request)


@api.exception_handler(MultiPartParserError)
def _not_multipart(request, exc):
    return _input_error(request, errors.not_multipart(exc))


@api.exception_handler(Exception)
def _unexpected(request, exc):
    """A bug: logged as Django logs a 500 (with the traceback, to the admins'
    mail where configured), answered in JSON without the details."""
    logging.getLogger("django.request").error(
        "Internal Server Error: %s", request.path, exc_info=exc, extra={"status_code": 500}
    )
    return _refusal(
        request, 500, "サーバーの内部エラーです。管理者に連絡してください。", "server_error"
    )


@api.exception_handler(HttpError)
def _http_error(request, exc):
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        cause = exc.__cause__
        if isinstance(cause, MultiPartParserError):
            return _input_error(request, errors.not_multipart(cause))
        if isinstance(cause, (ValueError, RecursionError)):
            return _input_error(request, errors.not_json(cause))
        return _input_error(
            request, errors.InputError([errors.field_error("", "JSON として読めません")], 400)
        )
    return _refusal(request, exc.status_code, exc.message)
