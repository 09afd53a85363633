"""``{% listing_check application %}`` shows, on an application's page, what
the registry said about its service's listings when it was last judged
(``{% listing_check application judgement %}`` for one judgement);
``{% dashboard_alerts as registry_alerts %}`` gives the dashboard its registry
alerts. The register's pages load these tags, so the register app itself
never imports the registries app for its screens."""

from __future__ import annotations

from django import template

from cloudjudge.registries import KIND_LABELS
from cloudjudge.web.register import permissions as register_permissions
from cloudjudge.web.registries import permissions
from cloudjudge.web.registries.checking import DashboardAlerts, registry_alerts
from cloudjudge.web.registries.listings import effective_listings
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


@register.simple_tag(takes_context=True)
def dashboard_alerts(context) -> DashboardAlerts:
    """The registry alerts among the applications the signed-in user may see."""
    user = context["request"].user
    return registry_alerts(register_permissions.visible_applications(user))


@register.filter
def can_view_registries(user) -> bool:
    return permissions.can_view(user)


@register.inclusion_tag("registries/_service_status.html")
def service_registry_status(service):
    """What the registry says today about a service picked on the application
    form: each list, whether it counts for the judgement, and its status."""
    if service is None:
        return {"service": None, "checks": []}
    return {"service": service, "checks": effective_listings(service).checks}
