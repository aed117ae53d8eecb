from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from parkgate.accounts.models import MANAGER_ROLES, STAFF_ROLES
from parkgate.accounts.tenancy import TenantRequest, require_role
from parkgate.backoffice.forms import ParkerForm, ParkerSearchForm
from parkgate.backoffice.views._helpers import form_errors_from
from parkgate.parking import services
from parkgate.parking.models import Parker
from parkgate.parking.selectors import get_parker_for_organisation, parkers_matching


@require_role(*STAFF_ROLES)
def parker_list(request: TenantRequest) -> HttpResponse:
    search = ParkerSearchForm(request.GET or None)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    parkers = parkers_matching(request.organisation, query).prefetch_related("member_policies")
    page = Paginator(parkers, 50).get_page(request.GET.get("page"))
    context = {
        "nav": "parkers",
        "page": page,
        "search": search,
        "query": query,
        "page_query": urlencode({"q": query}) if query else "",
        "can_manage": request.membership.role in MANAGER_ROLES,
    }
    return render(request, "backoffice/parker_list.html", context)


@require_role(*MANAGER_ROLES)
def parker_create(request: TenantRequest) -> HttpResponse:
    return _parker_form(request, Parker(managed_by=request.organisation))


@require_role(*MANAGER_ROLES)
def parker_edit(request: TenantRequest, parker_id: int) -> HttpResponse:
    return _parker_form(request, get_parker_for_organisation(request.organisation, parker_id))


def _parker_form(request: TenantRequest, parker: Parker) -> HttpResponse:
    is_new = parker.pk is None
    form = ParkerForm(request.POST or None, instance=parker)
    if request.method == "POST" and form.is_valid():
        parker = form.save(commit=False)
        parker.organisation = None if form.cleaned_data["is_visitor"] else request.organisation
        try:
            services.parker_save(parker=parker, plates=form.cleaned_data["plates"], actor=request.user)
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            text = _("Parker %(name)s created.") if is_new else _("Parker %(name)s saved.")
            messages.success(request, text % {"name": parker})
            return redirect("backoffice:parker_list")
    context = {"nav": "parkers", "form": form, "parker": None if is_new else parker}
    return render(request, "backoffice/parker_form.html", context)


@require_role(*MANAGER_ROLES)
@require_POST
def parker_delete(request: TenantRequest, parker_id: int) -> HttpResponse:
    parker = get_parker_for_organisation(request.organisation, parker_id)
    name = str(parker)
    try:
        services.parker_delete(parker=parker, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("backoffice:parker_edit", parker_id=parker.pk)
    messages.success(request, _("Parker %(name)s deleted.") % {"name": name})
    return redirect("backoffice:parker_list")
