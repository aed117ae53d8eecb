"""Request middleware of accounts: the current organisation, and the second factor before work.

Platform staff always, and the admins, owners and receptionists of an organisation that requires
it, are sent to set up a second factor (an authenticator app or a passkey) before any page other
than their account's."""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from parkgate.accounts.models import MFA_ROLES
from parkgate.accounts.tenancy import current_membership


class CurrentOrganisationMiddleware:
    """Expose the session's organisation to views and templates (lazily: no query for anonymous)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            membership = current_membership(request)
            request.membership = membership  # type: ignore[attr-defined]
            request.organisation = membership.organisation if membership else None  # type: ignore[attr-defined]
        else:
            request.membership = None  # type: ignore[attr-defined]
            request.organisation = None  # type: ignore[attr-defined]
        return self.get_response(request)


# Pages reachable without a second factor: signing in and out, setting the factor up, the
# language switch, public visitor pages and machine endpoints.
OPEN_PREFIXES = (
    "/accounts/",
    "/i18n/",
    "/static/",
    "/media/",
    "/healthz",
    "/favicon.ico",
    "/visit/",
    "/payments/webhook/",
    "/invitations/",
    "/dev/mail/",
)


def mfa_required(request: HttpRequest) -> bool:
    user = request.user
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    membership = getattr(request, "membership", None)
    return bool(membership and membership.organisation.require_mfa and membership.role in MFA_ROLES)


# Recovery codes alone are no second factor: an authenticator app or a passkey is.
SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def has_mfa(user: object) -> bool:
    return Authenticator.objects.filter(user=user, type__in=SECOND_FACTORS).exists()


class AccountGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if (
            request.user.is_authenticated
            and not path.startswith(OPEN_PREFIXES)
            and mfa_required(request)
            and not has_mfa(request.user)
        ):
            messages.warning(
                request, _("Set up two-factor authentication to continue: an authenticator app or a passkey.")
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
