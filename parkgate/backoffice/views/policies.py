from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from parkgate.accounts.models import MANAGER_ROLES
from parkgate.accounts.tenancy import TenantRequest, require_role
from parkgate.backoffice.forms import ParkerSearchForm, PolicyForm
from parkgate.backoffice.timetable import ACTION_FIELD, Timetable
from parkgate.backoffice.views._helpers import form_errors_from
from parkgate.parking import services
from parkgate.parking.models import AccessPolicy, PolicyKind
from parkgate.parking.selectors import (
    get_parker_for_organisation,
    get_policy_for_organisation,
    lots_visible_to,
    parkers_matching,
    policies_of,
)

BOOLEAN_FIELDS = ("hourly_booking",)


@require_role(*MANAGER_ROLES)
def policy_list(request: TenantRequest) -> HttpResponse:
    policies = policies_of(request.organisation).prefetch_related("windows", "members")
    return render(request, "backoffice/policy_list.html", {"nav": "policies", "policies": policies})


@require_role(*MANAGER_ROLES)
def policy_create(request: TenantRequest) -> HttpResponse:
    return _policy_form(request, AccessPolicy(organisation=request.organisation))


@require_role(*MANAGER_ROLES)
def policy_edit(request: TenantRequest, policy_id: int) -> HttpResponse:
    return _policy_form(request, get_policy_for_organisation(request.organisation, policy_id))


def _policy_form(request: TenantRequest, policy: AccessPolicy) -> HttpResponse:
    """The policy with its weekly timetable. Timetable buttons redisplay; "Save" saves."""
    lots = lots_visible_to(request.organisation)
    is_new = policy.pk is None
    focus = ""
    if request.method != "POST":
        form = PolicyForm(
            instance=policy, lots=lots, initial={"lot": request.GET.get("lot")} if is_new else None
        )
        timetable = Timetable.from_windows(policy.windows.all()) if not is_new else _default_timetable()
    else:
        timetable = Timetable.from_post(request.POST)
        action = request.POST.get(ACTION_FIELD, "")
        if action:
            # An editing step: show the edited timetable and keep what was typed, save nothing.
            timetable.apply(action)
            focus = _focus_after(action, timetable)
            typed: dict[str, Any] = request.POST.dict()
            for name in BOOLEAN_FIELDS:
                typed[name] = name in request.POST
            form = PolicyForm(instance=policy, lots=lots, initial=typed)
        else:
            form = PolicyForm(request.POST, instance=policy, lots=lots)
            windows = timetable.specs()
            if form.is_valid() and windows is not None:
                try:
                    saved = services.policy_save(
                        policy=form.save(commit=False), windows=windows, actor=request.user
                    )
                except ValidationError as error:
                    form_errors_from(form, error)
                else:
                    text = (
                        _("Access policy “%(name)s” created.")
                        if is_new
                        else _("Access policy “%(name)s” saved.")
                    )
                    messages.success(request, text % {"name": saved.name})
                    return redirect("backoffice:policy_list")
    context = {
        "nav": "policies",
        "form": form,
        "policy": None if is_new else policy,
        "timetable": timetable,
        "action_field": ACTION_FIELD,
        "focus": focus,
    }
    return render(request, "backoffice/policy_form.html", context)


def _default_timetable() -> Timetable:
    timetable = Timetable.empty()
    for day in timetable.days:
        timetable.apply(f"add:{day.weekday}")
    return timetable


def _focus_after(action: str, timetable: Timetable) -> str:
    """The id of the input to focus after an editing step (the new window's start)."""
    parts = action.split(":")
    if parts[0] == "add" and len(parts) == 2 and parts[1].isdigit() and int(parts[1]) < 7:
        count = len(timetable.days[int(parts[1])].windows)
        return f"w{parts[1]}-{count - 1}-start" if count else ""
    if parts[0] in ("remove", "clear") and len(parts) >= 2:
        return f"add-{parts[1]}"
    return "copy-monday" if action == "copy-monday" else ""


@require_role(*MANAGER_ROLES)
def policy_members(request: TenantRequest, policy_id: int) -> HttpResponse:
    """The member parkers of a member policy: search the organisation's parkers, add, remove."""
    organisation = request.organisation
    policy = get_policy_for_organisation(organisation, policy_id)
    if policy.kind != PolicyKind.MEMBER:
        raise Http404
    if request.method == "POST":
        try:
            parker_id = int(request.POST.get("parker", ""))
        except ValueError:
            raise Http404 from None
        parker = get_parker_for_organisation(organisation, parker_id)
        if request.POST.get("operation") == "remove":
            services.policy_member_remove(policy=policy, parker=parker, actor=request.user)
            messages.success(
                request, _("%(parker)s removed from “%(policy)s”.") % {"parker": parker, "policy": policy}
            )
        else:
            services.policy_member_add(policy=policy, parker=parker, actor=request.user)
            messages.success(
                request, _("%(parker)s added to “%(policy)s”.") % {"parker": parker, "policy": policy}
            )
        query = request.POST.get("q", "")
        return redirect(request.path + (f"?{urlencode({'q': query})}" if query else ""))
    search = ParkerSearchForm(request.GET or None)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    members = policy.members.prefetch_related("plates").order_by("last_name", "first_name")
    candidates = (
        list(parkers_matching(organisation, query).exclude(member_policies=policy)[:25]) if query else []
    )
    context = {
        "nav": "policies",
        "policy": policy,
        "members": members,
        "search": search,
        "query": query,
        "candidates": candidates,
    }
    return render(request, "backoffice/policy_members.html", context)
