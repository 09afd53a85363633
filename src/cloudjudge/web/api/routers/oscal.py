"""``GET /api/v1/applications/{id}/assessment-results``: the latest judgement and its
checklist status as OSCAL assessment-results (``web.documents.oscal``), for other
compliance tools; the same document as the application page's download."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router

from cloudjudge.web.api import schemas
from cloudjudge.web.api.routers.common import get_application
from cloudjudge.web.documents import oscal
from cloudjudge.web.register.models import Judgement

router = Router(tags=["oscal"])


@router.get(
    "/{int:application_id}/assessment-results",
    response={
        200: dict,
        401: schemas.ErrorOut,
        403: schemas.ErrorOut,
        404: schemas.ErrorOut,
    },
    summary="最新の判定とチェックリストの状況（OSCAL 1.1 assessment-results）",
)
def assessment_results(request: HttpRequest, application_id: int):
    application = get_application(request, application_id, "latest_judgement")
    try:
        document = oscal.application_assessment_results(application, timezone.now())
    except Judgement.DoesNotExist:
        return 404, {"detail": "この申請はまだ判定されていません"}
    return HttpResponse(json.dumps(document, ensure_ascii=False), content_type=oscal.JSON_TYPE)
