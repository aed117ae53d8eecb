from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from parkgate.accounts.tenancy import memberships_for


def organisation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None)
    return {
        "current_membership": membership,
        "current_organisation": membership.organisation if membership else None,
        "all_memberships": memberships_for(user),
    }
