"""Labels for the codes found in engine decisions and the catalog."""

from django import template
from django.utils.translation import gettext_lazy as _

from cloudjudge.web.register.models import ItemStatus, Status, Verdict

register = template.Library()

EFFECTS = {
    "prohibit": _("Prohibited"),
    "approve": _("Approval needed"),
    "require": _("Measures required"),
    "info": _("Note"),
}
APPROVERS = {"ciso": _("CISO")}
GROUPS = {
    "RISK": _("Risks of external services (2(3))"),
    "SU": _("Conditions for security update feeds (3.1(1)(イ))"),
    "T1": _("Table 1: local breakout measures (3.1(1)(ウ)①)"),
    "SEL": _("Selection conditions (3.1(2))"),
    "EXIT": _("Ending the service (3.2)"),
    "PROC": _("Procurement and contract (3.3)"),
    "S1": _("Annex 1 ①: common measures"),
    "S2": _("Annex 1 ②: internet PC method"),
}


@register.filter
def verdict_label(code):
    return Verdict(code).label if code in Verdict.values else _("Not judged")


@register.filter
def status_label(code):
    return Status(code).label if code in Status.values else code


@register.filter
def item_status_label(code):
    return ItemStatus(code).label if code in ItemStatus.values else code


@register.filter
def effect_label(code):
    return EFFECTS.get(code, code)


@register.filter
def approver_label(code):
    return APPROVERS.get(code, code)


@register.filter
def group_label(code):
    return GROUPS.get(code, code)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
