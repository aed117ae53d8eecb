"""While the database is unreachable: a translated 503 page saying nothing was booked, not a bare 500.

``DatabaseUnavailableMiddleware`` answers for a view that hits ``OperationalError`` or
``InterfaceError``; ``server_error`` (the project's handler500) answers for the same errors raised
in other middleware (the session, the signed-in user). The page is rendered without a request
context, so no context processor, session or user lookup touches the database again.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30
# Set on a request once its write has committed: a later database error (saving the session) must
# not tell the visitor that nothing was booked.
COMMITTED = "parkgate_committed"


def mark_committed(request: HttpRequest) -> None:
    """Call after the request's service committed: the outage page then says it may have gone through."""
    setattr(request, COMMITTED, True)


# Devices, Stripe and monitoring read JSON.
MACHINE_PATHS = ("/access/anpr/", "/access/keypad/", "/payments/webhook", "/healthz", "/metrics")


def unavailable_response(request: HttpRequest) -> HttpResponse:
    committed = bool(getattr(request, COMMITTED, False))
    accepts_json = "application/json" in request.headers.get("Accept", "") or request.path.startswith(
        MACHINE_PATHS
    )
    if accepts_json:
        detail = "the change was saved, the answer was lost" if committed else "nothing was changed"
        response: HttpResponse = HttpResponse(
            f'{{"status": "unavailable", "detail": "the database is unavailable; {detail}"}}'.encode(),
            content_type="application/json",
            status=503,
        )
    else:
        html = render_to_string(
            "core/unavailable.html",
            {"LANGUAGE_CODE": get_language() or "en", "retry": RETRY_AFTER_SECONDS, "committed": committed},
        )
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_ERRORS):
            logger.error("database unavailable: %s %s", request.method, request.path, exc_info=exception)
            return unavailable_response(request)
        return None


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the outage page for database errors, Django's plain 500 for anything else."""
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_ERRORS):
        return unavailable_response(request)
    return defaults.server_error(request)
