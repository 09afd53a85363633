"""Labels for the codes found in engine decisions and the catalog."""

import json
from collections.abc import Mapping
from typing import Any

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from cloudjudge.catalog import default_catalog
from cloudjudge.engine import RequestError, parse_request
from cloudjudge.labels import FACT_LABELS
from cloudjudge.presentation import DecisionView, FindingView, present
from cloudjudge.web.register.forms import CERTIFICATION_CHOICES, LISTING_CHOICES
from cloudjudge.web.register.models import Application, ItemStatus, Service, Status, Verdict

register = template.Library()

# The English words of the codes; in Japanese each is the word of
# ``cloudjudge.labels`` (the .po says so, and tests/web/test_choices.py checks it).
EFFECTS = {
    "prohibit": pgettext_lazy("finding effect", "Prohibited"),
    "approve": pgettext_lazy("finding effect", "Approval required"),
    "require": pgettext_lazy("finding effect", "Measures required"),
    "info": pgettext_lazy("finding effect", "Note"),
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
PARTIES = {
    "provider": pgettext_lazy("party", "Provider"),
    "city": pgettext_lazy("party", "City"),
    "both": pgettext_lazy("party", "Provider and city"),
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
def approver_labels(codes) -> str:
    """Approvers in words, 「・」 between them."""
    return "・".join(str(APPROVERS.get(code, code)) for code in codes)


@register.filter
def group_label(code):
    return GROUPS.get(code, code)


@register.filter
def party_label(code):
    """Who carries out a measure (``party`` in the catalog): 事業者, 本市 or both."""
    return PARTIES.get(code, code)


@register.filter
def presented(decision) -> DecisionView | None:
    """A stored or live decision as every screen shows it (``cloudjudge.presentation``):
    findings by weight, required measures grouped by source, remedies."""
    if not isinstance(decision, Mapping):
        return None
    return present(decision, default_catalog())


@register.simple_tag
def rule_known(rule_id: str) -> bool:
    """Whether the catalog page lists the rule (its anchor is ``rule-<id>``)."""
    return any(rule.id == rule_id for rule in default_catalog().rules)


#: Findings shown next to a form field as well as in the verdict panel:
#: ruling 5, 特定個人情報 with confidentiality 2 or 1 (the applicant confirms the level).
FIELD_FINDINGS: dict[str, tuple[str, ...]] = {
    "my_number": ("R-2-MY-NUMBER-LEVEL",),
}


@register.filter
def field_findings(view: DecisionView | None, field_name: str) -> list[FindingView]:
    if view is None:
        return []
    wanted = FIELD_FINDINGS.get(field_name, ())
    return [f for f in view.findings if f.rule in wanted]


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
def as_json(value) -> str:
    """A stored request as the JSON ``cloudjudge judge`` and the API read
    (not Python's repr: 「判定エンジンへの入力（JSON）」 is copied as it stands)."""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


@register.filter
def state_line(application) -> str:
    """The application's one status line (``workflow.state_of``)."""
    from cloudjudge.web.register.workflow import state_of

    return str(state_of(application).line)


@register.filter
def verdict_word(application):
    """The application's verdict as the pages name it (``workflow.verdict_word``):
    once the CISO's approval is given, not 承認が必要."""
    from cloudjudge.web.register.workflow import verdict_word

    return verdict_word(application)


@register.inclusion_tag("register/_state.html")
def application_state(application):
    """The status line with who acts next, as every register page shows it."""
    from cloudjudge.web.register.workflow import state_of

    return {"state": state_of(application), "application": application}
