from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
