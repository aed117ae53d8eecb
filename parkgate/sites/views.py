"""Owner pages: the site agents of the organisation's lots, pairing, health, offline rules."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from parkgate.accounts.models import MANAGER_ROLES
from parkgate.accounts.tenancy import TenantRequest, require_role
from parkgate.parking.models import Gate
from parkgate.parking.selectors import get_gate_for_owner
from parkgate.sites.forms import AgentForm, OfflineRuleForm
from parkgate.sites.models import GateOfflineRule
from parkgate.sites.selectors import agent_health, agents_of, get_agent_for_owner
from parkgate.sites.services import site_agent_create, site_agent_pairing_renew, site_offline_rule_set


@require_role(*MANAGER_ROLES)
def agent_list(request: TenantRequest) -> HttpResponse:
    now = timezone.now()
    gates = Gate.objects.filter(lot__owner=request.organisation, is_active=True).select_related("lot")
    rules = {r.gate_id: r for r in GateOfflineRule.objects.filter(gate__in=gates)}
    context = {
        "nav": "devices",
        "health": [agent_health(a, now=now) for a in agents_of(request.organisation)],
        "gates": [(gate, rules.get(gate.pk)) for gate in gates.order_by("lot__name", "name")],
    }
    return render(request, "sites/agent_list.html", context)


@require_role(*MANAGER_ROLES)
def agent_create(request: TenantRequest) -> HttpResponse:
    form = AgentForm(request.POST or None, organisation=request.organisation)
    if request.method == "POST" and form.is_valid():
        agent, code = site_agent_create(
            lot=form.cleaned_data["lot"], name=form.cleaned_data["name"], actor=request.user
        )
        return render(request, "sites/pairing_code.html", {"nav": "devices", "agent": agent, "code": code})
    return render(request, "sites/agent_form.html", {"nav": "devices", "form": form})


@require_role(*MANAGER_ROLES)
def agent_detail(request: TenantRequest, agent_id: int) -> HttpResponse:
    agent = get_agent_for_owner(request.organisation, agent_id)
    return render(
        request,
        "sites/agent_detail.html",
        {"nav": "devices", "agent": agent, "health": agent_health(agent, now=timezone.now())},
    )


@require_role(*MANAGER_ROLES)
@require_POST
def agent_pairing_renew(request: TenantRequest, agent_id: int) -> HttpResponse:
    agent = get_agent_for_owner(request.organisation, agent_id)
    code = site_agent_pairing_renew(agent=agent, actor=request.user)
    return render(request, "sites/pairing_code.html", {"nav": "devices", "agent": agent, "code": code})


@require_role(*MANAGER_ROLES)
def gate_offline_rule(request: TenantRequest, gate_id: int) -> HttpResponse:
    gate = get_gate_for_owner(request.organisation, gate_id)
    instance = GateOfflineRule.objects.filter(gate=gate).first() or GateOfflineRule(gate=gate)
    form = OfflineRuleForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        site_offline_rule_set(
            gate=gate,
            keep_deciding_hours=form.cleaned_data["keep_deciding_hours"],
            entry=form.cleaned_data["entry"],
            exit=form.cleaned_data["exit"],
            language=form.cleaned_data["language"],
            actor=request.user,
        )
        messages.success(request, _("Offline rules of %(gate)s saved.") % {"gate": gate.name})
        return redirect("sites:agent_list")
    return render(request, "sites/offline_rule_form.html", {"nav": "devices", "form": form, "gate": gate})
