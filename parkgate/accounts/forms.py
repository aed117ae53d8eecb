"""Forms of accounts that differ from allauth's."""

from __future__ import annotations

from allauth.mfa.webauthn.forms import AddWebAuthnForm, EditWebAuthnForm
from django import forms
from django.utils.translation import gettext_lazy as _


class AddPasskeyForm(AddWebAuthnForm):
    """Every key added is a passkey: kept on the device (a resident credential) and unlocked with
    its PIN or biometrics, so it signs in on its own and counts as a second factor. allauth's
    "passwordless" choice is therefore always on, and the server insists on user verification."""

    name = forms.CharField(
        label=_("Name of this passkey"),
        max_length=100,
        required=False,
        help_text=_("To tell your passkeys apart, e.g. “Work laptop” or “My phone”."),
    )
    passwordless = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_passwordless(self) -> bool:
        return True


class EditPasskeyForm(EditWebAuthnForm):
    name = forms.CharField(label=_("Name of this passkey"), max_length=100)
