"""Who may see what. Tenant objects are only ever fetched through these helpers.

The current organisation is chosen per session (a user may belong to several); every lookup
is scoped to it, and an object outside it is a 404, never a 403, so outsiders learn nothing.
A right organisation with the wrong role is a 403.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from parkgate.accounts.models import Membership, Organisation, Role, User

SESSION_KEY = "parkgate_organisation_id"


class TenantRequest(HttpRequest):
    """What a view decorated with ``require_role`` receives (for type checking)."""

    organisation: Organisation
    membership: Membership
    user: User


ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponse])


def memberships_for(user: Any) -> list[Membership]:
    if not user.is_authenticated:
        return []
    # A deactivated membership, or one in a suspended organisation, gives no access at all.
    return list(
        Membership.objects.filter(
            user=user, is_active=True, organisation__suspended_at__isnull=True
        ).select_related("organisation")
    )


def current_membership(request: HttpRequest) -> Membership | None:
    """The membership for the organisation chosen in this session (the first one by default)."""
    cached = getattr(request, "_parkgate_membership", False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    memberships = memberships_for(request.user)
    chosen = None
    wanted = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    for membership in memberships:
        if membership.organisation_id == wanted:
            chosen = membership
            break
    if chosen is None and memberships:
        chosen = memberships[0]
    request._parkgate_membership = chosen  # type: ignore[attr-defined]
    return chosen


def organisation_switch(request: HttpRequest, organisation_id: int) -> Organisation:
    for membership in memberships_for(request.user):
        if membership.organisation_id == organisation_id:
            request.session[SESSION_KEY] = organisation_id
            request._parkgate_membership = membership  # type: ignore[attr-defined]
            return membership.organisation
    raise Http404


def require_role(*roles: Role | str) -> Callable[[ViewFunc], ViewFunc]:
    """Log in, have a current organisation, and hold one of ``roles`` in it (else 403).

    The view receives ``request.membership`` and ``request.organisation``.
    """
    allowed: Iterable[str] = frozenset(str(r) for r in roles)

    def decorator(view: ViewFunc) -> ViewFunc:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            membership = current_membership(request)
            if membership is None:
                raise PermissionDenied
            if allowed and membership.role not in allowed:
                raise PermissionDenied
            request.membership = membership  # type: ignore[attr-defined]
            request.organisation = membership.organisation  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator
