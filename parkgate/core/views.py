from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from parkgate.core.health import health_report
from parkgate.core.tenancy import organisation_switch


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("backoffice:home")
    return redirect("accounts:login")


@require_POST
@login_required
def organisation_switch_view(request: HttpRequest) -> HttpResponse:
    try:
        organisation_id = int(request.POST.get("organisation", ""))
    except ValueError:
        return HttpResponseBadRequest("organisation must be a number")
    organisation_switch(request, organisation_id)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/office/"
    return redirect(next_url)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """JSON for load balancers and monitoring: 200 when every dependency answers, else 503 naming it."""
    healthy, body = health_report()
    return JsonResponse(body, status=200 if healthy else 503)
