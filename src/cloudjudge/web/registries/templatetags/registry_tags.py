"""``{% listing_check application %}`` shows, on an application's page, what
the registry said about its service's listings when it was last judged
(``{% listing_check application judgement %}`` for one judgement)."""

from __future__ import annotations

from django import template

from cloudjudge.registries import KIND_LABELS
from cloudjudge.web.registries import permissions
from cloudjudge.web.registries.models import ListingCheck

register = template.Library()


@register.filter
def dict_get(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def kind_label(code: str) -> str:
    return KIND_LABELS.get(code, code)


@register.inclusion_tag("registries/_listing_check.html", takes_context=True)
def listing_check(context, application, judgement=None):
    judgement_id = judgement.pk if judgement is not None else application.latest_judgement_id
    check = None
    if judgement_id is not None:
        check = ListingCheck.objects.filter(judgement_id=judgement_id).first()
    user = getattr(context.get("request"), "user", None)
    return {
        "check": check,
        "counted_any": bool(check and any(r["counted"] for r in check.results)),
        "service_link": permissions.can_view(user),
        "service_id": application.service_id,
    }
