"""Accepting an invitation (public: the token in the e-mail is the key)."""

from __future__ import annotations

from typing import Any

from allauth.account.internal.flows.login import record_authentication
from django import forms
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from parkgate.accounts.adapter import home_url
from parkgate.accounts.models import User
from parkgate.backoffice.people import invitation_accept, invitation_by_token, invitation_is_open
from parkgate.backoffice.views._helpers import form_errors_from

BACKEND = "allauth.account.auth_backends.AuthenticationBackend"


class NewAccountForm(forms.Form):
    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=150)
    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=150)
    password1 = forms.CharField(
        label=gettext_lazy("Choose a password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=gettext_lazy("The same password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            probe = User(
                email=self.email,
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                validate_password(first, probe)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


@never_cache
def accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_by_token(token)
    if invitation is None or not invitation_is_open(invitation):
        return render(request, "backoffice/invitation_closed.html", status=404)
    user = request.user if request.user.is_authenticated else None
    existing = User.objects.filter(email__iexact=invitation.email).first()
    context: dict[str, Any] = {"invitation": invitation, "existing": existing}
    if user is not None and user.email.lower() != invitation.email.lower():
        if request.method == "POST" and request.POST.get("action") == "sign_out":
            logout(request)
            return redirect(request.path)
        return render(request, "backoffice/invitation_accept.html", {**context, "wrong_user": user})
    if user is None and existing is not None:
        return render(request, "backoffice/invitation_accept.html", {**context, "sign_in_first": True})
    form = NewAccountForm(request.POST or None, email=invitation.email) if user is None else None
    if request.method == "POST":
        if form is None or form.is_valid():
            try:
                accepted = invitation_accept(
                    invitation=invitation,
                    user=user,
                    password=form.cleaned_data["password1"] if form else "",
                    first_name=form.cleaned_data["first_name"] if form else "",
                    last_name=form.cleaned_data["last_name"] if form else "",
                )
            except ValidationError as error:
                if form is None:
                    messages.error(request, " ".join(error.messages))
                    return redirect(request.path)
                form_errors_from(form, error)
            else:
                if accepted.created_user:
                    login(request, accepted.user, backend=BACKEND)
                    # They just chose their password: that counts as a recent sign-in (setting up
                    # two-factor authentication right away asks for no password again).
                    record_authentication(
                        request,
                        accepted.user,
                        method="password",
                        email=accepted.user.email,
                        reauthenticated=True,
                    )
                request.session["parkgate_organisation_id"] = accepted.membership.organisation_id
                messages.success(
                    request,
                    _("Welcome to %(organisation)s.")
                    % {"organisation": accepted.membership.organisation.name},
                )
                return redirect(home_url(accepted.user))
        return render(request, "backoffice/invitation_accept.html", {**context, "form": form}, status=400)
    return render(request, "backoffice/invitation_accept.html", {**context, "form": form})
