from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from parkgate.core.health import health_report


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """JSON for load balancers and monitoring: 200 when every dependency answers, else 503 naming it."""
    healthy, body = health_report()
    return JsonResponse(body, status=200 if healthy else 503)
