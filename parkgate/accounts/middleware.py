"""Second factor before work: platform staff always, and the admins, owners and receptionists of an
organisation that requires it, are sent to set up TOTP before any page other than their account's."""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from parkgate.accounts.models import MFA_ROLES

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


def has_mfa(user: object) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


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
                request, _("Set up two-factor authentication with an authenticator app to continue.")
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
