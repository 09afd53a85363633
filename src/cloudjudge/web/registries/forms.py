"""Forms of the registry pages."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from cloudjudge import registries as core
from cloudjudge.web.registries.entries import FILTER_STATUSES
from cloudjudge.web.registries.listings import STATUS_LABELS
from cloudjudge.web.registries.models import Kind, RegistryEntry

KIND_CHOICES = [("", _("All kinds")), *Kind.choices]
STATUS_CHOICES = [("", _("All statuses")), *[(s, STATUS_LABELS[s]) for s in FILTER_STATUSES]]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class EntryFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=KIND_CHOICES, required=False)
    status = forms.ChoiceField(label=_("Status today"), choices=STATUS_CHOICES, required=False)


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("List"), choices=Kind.choices)
    file = forms.FileField(
        label=_("File (.xlsx, .ods or .csv)"),
        help_text=_("CSV in UTF-8 or Shift_JIS (CP932), .xlsx from Excel 2007 or later, or .ods"),
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        limit = getattr(settings, "CLOUDJUDGE_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
        if file.size > limit:
            raise ValidationError(
                _("The file is too large (up to %(limit)s MiB)") % {"limit": limit // (1024 * 1024)}
            )
        return file


_REGION_SPLIT = re.compile(r"[、,，・/／\n]+")


class EntryForm(forms.ModelForm):
    source_url = forms.URLField(
        label=_("URL"),
        required=False,
        max_length=500,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
    )
    regions_text = forms.CharField(
        label=_("Regions"),
        required=False,
        help_text=_("Separate several with commas"),
        max_length=1000,
    )

    class Meta:
        model = RegistryEntry
        fields = [
            "kind",
            "number",
            "service_name",
            "provider",
            "category",
            "registered_on",
            "audit_period_end",
            "renewal_pending",
            "renewal_applied_on",
            "withdrawn",
            "lapsed",
            "suspended",
            "status_since",
            "source_url",
            "last_checked_on",
        ]
        widgets = {
            "registered_on": DateInput,
            "audit_period_end": DateInput,
            "renewal_applied_on": DateInput,
            "status_since": DateInput,
            "last_checked_on": DateInput,
        }
        help_texts = {
            "audit_period_end": _(
                "Required for ISMAP and ISMAP-LIU (unless withdrawn). The expiry date is "
                "computed from it"
            ),
            "last_checked_on": _("The day this entry was last checked on the public page"),
            "renewal_applied_on": _(
                "ISMAP 3.5: past the expiry date the registration stays valid only if the "
                "renewal was applied for by then"
            ),
            "status_since": _(
                "The day a withdrawal, lapse or suspension takes effect (blank: whatever the day)"
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            # (kind, number) is the entry's identity across imports.
            self.fields["kind"].disabled = True
            self.fields["number"].disabled = True
            self.initial["regions_text"] = "、".join(self.instance.regions or [])

    def clean(self):
        data = super().clean()
        regions = [r.strip() for r in _REGION_SPLIT.split(data.get("regions_text") or "")]
        self.instance.regions = [r for r in regions if r]
        kind, number = data.get("kind"), core.normalise_number(data.get("number") or "")
        if kind and number:
            data["number"] = number
            duplicate = RegistryEntry.objects.filter(kind=kind, number=number)
            if self.instance.pk is not None:
                duplicate = duplicate.exclude(pk=self.instance.pk)
            if duplicate.exists():
                self.add_error(
                    "number", _("An entry of this kind with the same registration number exists")
                )
        if (
            kind in ("ismap", "ismap_liu")
            and not data.get("audit_period_end")
            and not data.get("withdrawn")
            and not data.get("lapsed")
        ):
            self.add_error(
                "audit_period_end",
                _("ISMAP and ISMAP-LIU registrations need the end of the audited period"),
            )
        return data

    def validate_unique(self):
        """Checked in ``clean`` on the normalised number."""


class NumberForm(forms.Form):
    """The registration numbers of one service, one field per list."""

    def __init__(self, *args, numbers: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        numbers = numbers or {}
        for kind, label in Kind.choices:
            self.fields[kind] = forms.CharField(
                label=(
                    _("%(kind)s service code")
                    if kind == "lgwan_asp"
                    else _("%(kind)s registration number")
                )
                % {"kind": label},
                required=False,
                max_length=40,
                initial=numbers.get(kind, ""),
                help_text=_("When blank, the service is matched by name and provider"),
            )
