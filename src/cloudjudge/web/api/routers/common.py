"""Lookups every router shares: applications only through the user's scope
(``permissions.visible_applications``: out of scope is a 404, never a 403
that would confirm the ID exists), and pages."""

from __future__ import annotations

import math
from typing import Any

from django.core.paginator import EmptyPage, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from cloudjudge.web.register import permissions
from cloudjudge.web.register.models import Application

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


def get_application(request: HttpRequest, pk: int, *related: str) -> Application:
    qs = permissions.visible_applications(request.auth)
    return get_object_or_404(
        qs.select_related("service", "department", "applicant", *related), pk=pk
    )


def paginate(qs: QuerySet, page: int, page_size: int) -> tuple[list[Any], dict[str, int]]:
    """The rows of one page and the page's numbers (``count``, ``page``,
    ``pages``, ``page_size``); a page past the end is a 404."""
    paginator = Paginator(qs, page_size)
    try:
        rows = list(paginator.page(page).object_list)
    except EmptyPage:
        raise Http404 from None
    count = paginator.count
    return rows, {
        "count": count,
        "page": page,
        "pages": max(1, math.ceil(count / page_size)),
        "page_size": page_size,
    }
