"""Labels for the codes found in engine decisions and the catalog."""

from collections.abc import Mapping
from typing import Any

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from cloudjudge.engine import RequestError, parse_request
from cloudjudge.labels import FACT_LABELS
from cloudjudge.web.register.forms import CERTIFICATION_CHOICES, LISTING_CHOICES
from cloudjudge.web.register.models import Application, ItemStatus, Service, Status, Verdict

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


LISTINGS = dict(LISTING_CHOICES)
CERTIFICATIONS = dict(CERTIFICATION_CHOICES)


@register.filter
def listing_label(code):
    """``ismap`` → 「ISMAP クラウドサービスリスト」, as the application form says it."""
    return LISTINGS.get(code, code)


@register.filter
def certification_label(code):
    return CERTIFICATIONS.get(code, code)


#: Request facts stated by a form field rather than a model field: (label, value labels).
_LIST_FACTS = {
    "service.listings": (_("Listings"), LISTINGS),
    "service.isms_certifications": (_("ISMS certifications"), CERTIFICATIONS),
}


def _flat(request: Mapping[str, Any]) -> dict[str, Any]:
    try:
        parsed = parse_request(request)
    except RequestError:  # shown as stored, field by field
        return {
            f"{part}.{name}": value
            for part, fields in request.items()
            if isinstance(fields, Mapping)
            for name, value in fields.items()
        }
    return {
        "service.name": parsed.service.name,
        "service.provider": parsed.service.provider,
        **parsed.fact_values(),
    }


def _fact_value(value: Any, names: Mapping[str, Any]) -> str:
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, (list, tuple, set, frozenset)):
        separator = "、" if (get_language() or "").startswith("ja") else ", "
        return separator.join(str(names.get(v, v)) for v in sorted(map(str, value))) or "—"
    if value is None or value == "":
        return "—"
    return str(names.get(str(value), value))


@register.filter
def request_facts(request) -> list[tuple[str, str]]:
    """A judgement's request as (label, value) rows in the active language,
    with the application form's labels and the choices' names, not the codes."""
    if not isinstance(request, Mapping):
        return []
    flat = _flat(request)
    ordered = [*(k for k in FACT_LABELS if k in flat), *(k for k in flat if k not in FACT_LABELS)]
    rows = []
    for key in ordered:
        value = flat[key]
        if key == "connection.breakout_usage" and not value:
            continue  # only meaningful with local breakout
        part, _dot, name = key.partition(".")
        if key in _LIST_FACTS:
            label, names = _LIST_FACTS[key]
        else:
            model = Service if part == "service" else Application
            try:
                field = model._meta.get_field(name)
            except FieldDoesNotExist:
                label, names = key, {}
            else:
                label, names = field.verbose_name, dict(field.flatchoices)
        rows.append((capfirst(str(label)), _fact_value(value, names)))
    return rows


@register.filter
def state_line(application) -> str:
    """The application's one status line (``workflow.state_of``)."""
    from cloudjudge.web.register.workflow import state_of

    return str(state_of(application).line)


@register.inclusion_tag("register/_state.html")
def application_state(application):
    """The status line with who acts next, as every register page shows it."""
    from cloudjudge.web.register.workflow import state_of

    return {"state": state_of(application), "application": application}
