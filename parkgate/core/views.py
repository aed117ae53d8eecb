from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from parkgate.core.health import health_report


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("backoffice:home")
    return redirect("accounts:login")


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """JSON for load balancers and monitoring: 200 when every dependency answers, else 503 naming it."""
    healthy, body = health_report()
    return JsonResponse(body, status=200 if healthy else 503)
