from __future__ import annotations

from django import forms
from django.contrib.auth.forms import PasswordChangeForm as BasePasswordChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class PasswordChangeForm(BasePasswordChangeForm):
    """Django's form (old password, the policy on the new one, twice), and the
    new password may not be the old one: an initial password must really change."""

    error_messages = {
        **BasePasswordChangeForm.error_messages,
        "password_unchanged": _("The new password must be different from the current one."),
    }

    def clean(self):
        cleaned = super().clean()
        old, new = cleaned.get("old_password"), cleaned.get("new_password1")
        if old and new and old == new:
            raise ValidationError(
                self.error_messages["password_unchanged"], code="password_unchanged"
            )
        return cleaned


def _token_field(label, help_text, inputmode):
    return forms.CharField(
        label=label,
        help_text=help_text,
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "none",
                "spellcheck": "false",
                "inputmode": inputmode,
                "autofocus": True,
                "size": 12,
            }
        ),
    )


class TokenForm(forms.Form):
    """The second factor at login: a token from the app or a recovery code."""

    otp_token = _token_field(
        _("Confirmation code"),
        _("The six-digit code your authenticator app shows, or one of your recovery codes."),
        "text",
    )


class EnrolForm(forms.Form):
    """The first token of a new authenticator, to show it was set up right."""

    otp_token = _token_field(
        _("Confirmation code"),
        _("The six-digit code the authenticator app now shows for cloudjudge."),
        "numeric",
    )
