"""Forms of the document pages: the questionnaire's due date and contact."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cloudjudge.web.documents import content


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class QuestionnaireDownloadForm(forms.Form):
    """Read from the querystring of the download link (a GET form)."""

    due = forms.DateField(label=_("Answer due by"), widget=DateInput)
    contact = forms.CharField(
        label=_("Return to (contact)"),
        max_length=200,
        required=False,
        help_text=_("Printed on the cover. Empty: the applying department."),
    )

    def clean_due(self):
        due = self.cleaned_data["due"]
        if due < timezone.localdate():
            raise forms.ValidationError(_("The due date is in the past."), code="past")
        return due

    @classmethod
    def initial_for(cls, user) -> dict:
        return {"due": content.default_due_date(), "contact": content.default_contact(user)}
