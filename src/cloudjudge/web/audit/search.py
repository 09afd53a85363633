"""Searching the audit log: one filter function for the page, the exports and
``audit_export``, and the page's filter form."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.apps import apps
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cloudjudge.web.audit.models import Action, AuditEntry
from cloudjudge.web.search import search_words

FILTERS = ("q", "actor", "action", "object_type", "since", "until")


def start_of(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of ``day`` in the site's time zone (Asia/Tokyo)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def filter_entries(
    entries: QuerySet[AuditEntry],
    *,
    q: str = "",
    actor: str = "",
    action: str = "",
    object_type: str = "",
    since: datetime.date | datetime.datetime | None = None,
    until: datetime.date | datetime.datetime | None = None,
) -> QuerySet[AuditEntry]:
    """``q``: words found in the username, the object, its ID or the source
    address (width, case and kana folded: ``web/search.py``). ``actor``: a
    username (case-insensitive). ``since``/``until``: dates are whole days
    in local time, both included; datetimes are exact."""
    entries = search_words(
        entries,
        q,
        ("actor_username", "object_repr"),
        extra=lambda word: Q(object_id=word) | Q(source_ip__startswith=word),
    )
    if actor:
        entries = entries.filter(actor_username__iexact=actor.strip())
    if action:
        entries = entries.filter(action=action)
    if object_type:
        entries = entries.filter(object_type=object_type)
    if since is not None:
        if not isinstance(since, datetime.datetime):
            since = start_of(since)
        entries = entries.filter(timestamp__gte=since)
    if until is not None:
        if isinstance(until, datetime.datetime):
            entries = entries.filter(timestamp__lte=until)
        else:
            entries = entries.filter(timestamp__lt=start_of(until + datetime.timedelta(days=1)))
    return entries


def object_type_label(label: str) -> str:
    try:
        return str(apps.get_model(label)._meta.verbose_name)
    except (LookupError, ValueError):
        return label


def object_type_choices() -> list[tuple[str, str]]:
    labels = (
        AuditEntry.objects.exclude(object_type="")
        .order_by("object_type")
        .values_list("object_type", flat=True)
        .distinct()
    )
    return [(label, f"{object_type_label(label)} ({label})") for label in labels]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class AuditFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    actor = forms.CharField(label=_("Username"), required=False, max_length=150)
    action = forms.ChoiceField(label=_("Action"), required=False)
    object_type = forms.ChoiceField(label=_("Object type"), required=False)
    since = forms.DateField(label=_("Date from"), required=False, widget=DateInput)
    until = forms.DateField(label=_("Date to"), required=False, widget=DateInput)

    def __init__(self, data=None):
        super().__init__(data)
        every = [("", _("All"))]
        self.fields["action"].choices = every + Action.choices
        self.fields["object_type"].choices = every + object_type_choices()

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        return data

    def filters(self) -> dict[str, Any]:
        """The valid, non-empty filters (an invalid one is ignored, not fatal)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data[name] for name in FILTERS if data.get(name)}
