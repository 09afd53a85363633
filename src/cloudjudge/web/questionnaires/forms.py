"""Forms of a filled questionnaire coming back: the upload, the review."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class QuestionnaireUploadForm(forms.Form):
    workbook = forms.FileField(
        label=_("Filled questionnaire (.xlsx)"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )


class DecisionForm(forms.Form):
    ACCEPT_SELECTED = "accept_selected"
    ACCEPT_ALL = "accept_all"
    REJECT_SELECTED = "reject_selected"
    REJECT_ALL = "reject_all"

    decision = forms.ChoiceField(
        choices=[
            (ACCEPT_SELECTED, _("Accept selected")),
            (ACCEPT_ALL, _("Accept all")),
            (REJECT_SELECTED, _("Reject selected")),
            (REJECT_ALL, _("Reject all")),
        ]
    )
    proposals = forms.TypedMultipleChoiceField(coerce=int, required=False)
    #: Set by the confirmation page: accepting several rows at once is asked twice.
    confirmed = forms.BooleanField(required=False)

    def __init__(self, *args, pending_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.pending_ids = list(pending_ids)
        self.fields["proposals"].choices = [(pk, pk) for pk in self.pending_ids]

    @property
    def reasons(self) -> dict[int, str]:
        """The reviewer's reasons typed per row (``reason-<pk>``), by proposal pk."""
        return {
            pk: text.strip()
            for pk in self.pending_ids
            if (text := str(self.data.get(f"reason-{pk}", ""))).strip()
        }

    def clean(self):
        data = super().clean()
        if data.get("decision") in (self.ACCEPT_SELECTED, self.REJECT_SELECTED) and not data.get(
            "proposals"
        ):
            raise forms.ValidationError(_("Select at least one answer."), code="none_selected")
        return data

    @property
    def accepting(self) -> bool:
        return self.cleaned_data["decision"] in (self.ACCEPT_SELECTED, self.ACCEPT_ALL)

    @property
    def selected(self) -> list[int] | None:
        """The chosen proposals, or None for all pending ones."""
        if self.cleaned_data["decision"] in (self.ACCEPT_ALL, self.REJECT_ALL):
            return None
        return self.cleaned_data["proposals"]
