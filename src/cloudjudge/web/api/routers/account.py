"""``GET /api/v1/me``: who the token (or session) is, and what they may do."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from cloudjudge.web.api import schemas, serialize
from cloudjudge.web.register import permissions

router = Router(tags=["account"])


@router.get("", response={200: schemas.MeOut, 401: schemas.ErrorOut}, summary="認証中の利用者")
def me(request: HttpRequest):
    user = request.auth
    return {
        **serialize.user_ref(user),
        "role": user.role,
        "role_label": str(user.get_role_display()),
        "department": serialize.department(user.department),
        "read_only": permissions.is_read_only(user),
    }
