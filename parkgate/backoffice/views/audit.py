from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from parkgate.accounts.models import MANAGER_ROLES
from parkgate.accounts.tenancy import TenantRequest, require_role
from parkgate.backoffice.forms import AuditFilterForm
from parkgate.backoffice.selectors import audit_action_codes, audit_events, organisation_zone


@require_role(*MANAGER_ROLES)
def audit_list(request: TenantRequest) -> HttpResponse:
    organisation = request.organisation
    zone = organisation_zone(organisation)
    filters = AuditFilterForm(request.GET or None)
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    events = audit_events(
        organisation,
        action_prefix=cleaned.get("action") or "",
        first=cleaned.get("date_from"),
        last=cleaned.get("date_until"),
        zone=zone,
    )
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "nav": "audit",
        "page": page,
        "filters": filters,
        "zone": zone.key,
        "actions": audit_action_codes(organisation),
        "page_query": query.urlencode(),
    }
    return render(request, "backoffice/audit_list.html", context)
