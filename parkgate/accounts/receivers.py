"""What accounts records when allauth reports a change to someone's second factors
(``allauth.mfa.signals``): every authenticator added, removed or reset is an audit event."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.http import HttpRequest

from parkgate.core.audit import audit_log


def _record(verb: str, request: HttpRequest | None, user: Any, authenticator: Authenticator) -> None:
    membership = getattr(request, "membership", None) if request is not None else None
    data: dict[str, Any] = {"user": user.pk, "type": authenticator.type}
    if authenticator.type == Authenticator.Type.WEBAUTHN:
        data["name"] = authenticator.wrap().name
    audit_log(
        # accounts.mfa.webauthn.added, accounts.mfa.totp.removed, accounts.mfa.recovery_codes.reset...
        action=f"accounts.mfa.{authenticator.type}.{verb}",
        organisation=membership.organisation_id if membership is not None else None,
        actor=user,
        obj=authenticator if authenticator.pk is not None else None,  # a removed one has no pk left
        data=data,
    )


def on_authenticator_added(
    sender: Any, request: HttpRequest, user: Any, authenticator: Authenticator, **kwargs: Any
) -> None:
    _record("added", request, user, authenticator)


def on_authenticator_removed(
    sender: Any, request: HttpRequest, user: Any, authenticator: Authenticator, **kwargs: Any
) -> None:
    _record("removed", request, user, authenticator)


def on_authenticator_reset(
    sender: Any, request: HttpRequest, user: Any, authenticator: Authenticator, **kwargs: Any
) -> None:
    _record("reset", request, user, authenticator)
