"""Forms of accounts that differ from allauth's: passkeys (allauth.mfa's WebAuthn forms)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allauth.mfa.webauthn.forms import (
    AddWebAuthnForm,
    AuthenticateWebAuthnForm,
    EditWebAuthnForm,
    LoginWebAuthnForm,
    ReauthenticateWebAuthnForm,
)
from django import forms
from django.utils.translation import gettext_lazy as _
from fido2.webauthn import AuthenticationResponse, RegistrationResponse


def refuse_malformed(parse: Callable[[Any], Any], credential: Any) -> None:
    """What the browser sent must at least parse as a WebAuthn response. allauth 65.21 catches
    only TypeError there; a payload without ``rawId`` (KeyError) answered 500."""
    try:
        parse(credential)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise forms.ValidationError(
            _("This passkey could not be checked. Try again."), code="incorrect_code"
        ) from None


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

    def clean(self) -> dict[str, Any]:
        credential = self.cleaned_data.get("credential")
        if credential:
            refuse_malformed(RegistrationResponse.from_dict, credential)
        return super().clean()


class EditPasskeyForm(EditWebAuthnForm):
    name = forms.CharField(label=_("Name of this passkey"), max_length=100)


class _CheckedCredential:
    def clean_credential(self) -> Any:
        refuse_malformed(AuthenticationResponse.from_dict, self.cleaned_data["credential"])  # type: ignore[attr-defined]
        return super().clean_credential()  # type: ignore[misc]


class PasskeyLoginForm(_CheckedCredential, LoginWebAuthnForm):
    pass


class PasskeyAuthenticateForm(_CheckedCredential, AuthenticateWebAuthnForm):
    pass


class PasskeyReauthenticateForm(_CheckedCredential, ReauthenticateWebAuthnForm):
    pass
