"""An organisation's members (its admins): invite by e-mail with a role, resend or revoke, change a
role, deactivate, require two-factor authentication. And a lot owner's tenant companies."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from parkgate.accounts.models import MANAGER_ROLES, Membership, OrganisationSSO, Role
from parkgate.accounts.tenancy import TenantRequest, require_role
from parkgate.backoffice import people
from parkgate.backoffice.models import Invitation, InvitationKind, InvitationStatus
from parkgate.backoffice.views._helpers import form_errors_from
from parkgate.parking.models import Lot


class InviteForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail"))
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices)
    language = forms.ChoiceField(label=gettext_lazy("Language of the invitation"), choices=settings.LANGUAGES)


class SSOForm(forms.Form):
    issuer = forms.CharField(
        label=gettext_lazy("Issuer"),
        max_length=300,
        help_text=gettext_lazy(
            "Your provider's address, such as https://login.microsoftonline.com/<tenant>/v2.0."
        ),
    )
    client_id = forms.CharField(label=gettext_lazy("Client id"), max_length=191)
    secret = forms.CharField(
        label=gettext_lazy("Client secret"),
        max_length=191,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text=gettext_lazy("Leave empty to keep the stored secret."),
    )
    domains = forms.CharField(
        label=gettext_lazy("E-mail domains"),
        max_length=1000,
        help_text=gettext_lazy(
            "Addresses of these domains sign in with your provider (separate with spaces)."
        ),
    )
    default_role = forms.ChoiceField(label=gettext_lazy("Role of new members"), choices=Role.choices)


def _sso_form(organisation: Any, data: Any = None) -> SSOForm:
    sso = OrganisationSSO.objects.select_related("app").filter(organisation=organisation).first()
    initial = (
        {
            "issuer": sso.app.settings.get("server_url", ""),
            "client_id": sso.app.client_id,
            "domains": " ".join(sso.domain_list()),
            "default_role": sso.default_role,
        }
        if sso
        else {"default_role": Role.PARKER}
    )
    return SSOForm(data, initial=initial)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices)


class TenantInviteForm(forms.Form):
    lot = forms.ModelChoiceField(label=gettext_lazy("Lot"), queryset=Lot.objects.none())
    company_name = forms.CharField(label=gettext_lazy("Company name"), max_length=200)
    email = forms.EmailField(label=gettext_lazy("E-mail of the company's admin"))
    spots = forms.IntegerField(label=gettext_lazy("Spots"), min_value=1)
    accepts_visitors = forms.BooleanField(label=gettext_lazy("May receive visitors"), required=False)
    language = forms.ChoiceField(label=gettext_lazy("Language of the invitation"), choices=settings.LANGUAGES)

    def __init__(self, *args: Any, lots: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lot"].queryset = lots  # type: ignore[attr-defined]


def _language() -> str:
    return (get_language() or settings.LANGUAGE_CODE)[:2]


def _members_page(
    request: TenantRequest, form: InviteForm | None = None, status: int = 200, sso_form: SSOForm | None = None
) -> HttpResponse:
    organisation = request.organisation
    memberships = (
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("-is_active", "user__last_name", "user__first_name")
    )
    invitations = Invitation.objects.filter(
        organisation=organisation, kind=InvitationKind.MEMBER, status=InvitationStatus.PENDING
    )
    return render(
        request,
        "backoffice/members.html",
        {
            "nav": "members",
            "memberships": [(m, RoleForm(initial={"role": m.role}, prefix=f"m{m.pk}")) for m in memberships],
            "invitations": invitations,
            "form": form or InviteForm(initial={"language": _language(), "role": Role.PARKER}),
            "sso_form": sso_form or _sso_form(organisation),
            "sso_callback": settings.SITE_URL
            + reverse("openid_connect_callback", kwargs={"provider_id": f"org-{organisation.slug}"}),
        },
        status=status,
    )


@require_role(Role.ADMIN)
def member_list(request: TenantRequest) -> HttpResponse:
    if request.method == "POST":
        form = InviteForm(request.POST)
        if form.is_valid():
            try:
                people.invitation_create(
                    organisation=request.organisation,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    language=form.cleaned_data["language"],
                    actor=request.user,
                )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(
                    request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]}
                )
                return redirect("backoffice:member_list")
        return _members_page(request, form, status=400)
    return _members_page(request)


def _invitation(request: TenantRequest, invitation_id: int) -> Invitation:
    """An invitation of the current organisation (else 404): members' for admins, tenants' for
    managers."""
    invitation = get_object_or_404(Invitation, pk=invitation_id, organisation=request.organisation)
    if invitation.kind == InvitationKind.MEMBER and request.membership.role != Role.ADMIN:
        raise_forbidden()
    return invitation


def raise_forbidden() -> None:
    from django.core.exceptions import PermissionDenied

    raise PermissionDenied


def _back(invitation: Invitation) -> HttpResponse:
    return redirect(
        "backoffice:tenant_list" if invitation.kind == InvitationKind.TENANT else "backoffice:member_list"
    )


@require_POST
@require_role(*MANAGER_ROLES)
def invitation_resend(request: TenantRequest, invitation_id: int) -> HttpResponse:
    invitation = _invitation(request, invitation_id)
    try:
        people.invitation_resend(invitation=invitation, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Invitation sent again to %(email)s.") % {"email": invitation.email})
    return _back(invitation)


@require_POST
@require_role(*MANAGER_ROLES)
def invitation_revoke(request: TenantRequest, invitation_id: int) -> HttpResponse:
    invitation = _invitation(request, invitation_id)
    try:
        people.invitation_revoke(invitation=invitation, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Invitation to %(email)s withdrawn.") % {"email": invitation.email})
    return _back(invitation)


def _membership(request: TenantRequest, membership_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_id, organisation=request.organisation
    )


@require_POST
@require_role(Role.ADMIN)
def member_role(request: TenantRequest, membership_id: int) -> HttpResponse:
    membership = _membership(request, membership_id)
    form = RoleForm(request.POST, prefix=f"m{membership.pk}")
    if not form.is_valid():
        messages.error(request, _("Choose a role."))
        return redirect("backoffice:member_list")
    try:
        people.membership_role_change(
            membership=membership, role=form.cleaned_data["role"], actor=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Role of %(name)s changed.") % {"name": membership.user})
    return redirect("backoffice:member_list")


@require_POST
@require_role(Role.ADMIN)
def member_deactivate(request: TenantRequest, membership_id: int) -> HttpResponse:
    membership = _membership(request, membership_id)
    try:
        people.membership_deactivate(membership=membership, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(name)s is deactivated: signed out everywhere, parking access and keypad codes stopped.")
            % {"name": membership.user},
        )
    return redirect("backoffice:member_list")


@require_POST
@require_role(Role.ADMIN)
def member_reactivate(request: TenantRequest, membership_id: int) -> HttpResponse:
    membership = _membership(request, membership_id)
    people.membership_reactivate(membership=membership, actor=request.user)
    messages.success(request, _("%(name)s is active again.") % {"name": membership.user})
    return redirect("backoffice:member_list")


@require_POST
@require_role(Role.ADMIN)
def organisation_mfa(request: TenantRequest) -> HttpResponse:
    required = request.POST.get("require_mfa") == "on"
    people.organisation_require_mfa(organisation=request.organisation, required=required, actor=request.user)
    if required:
        messages.success(request, _("Admins, owners and receptionists now need two-factor authentication."))
    else:
        messages.success(request, _("Two-factor authentication is no longer required."))
    return redirect("backoffice:member_list")


@require_POST
@require_role(Role.ADMIN)
def organisation_sso(request: TenantRequest) -> HttpResponse:
    form = _sso_form(request.organisation, request.POST)
    if form.is_valid():
        try:
            people.sso_configure(organisation=request.organisation, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Single sign-on saved."))
            return redirect("backoffice:member_list")
    return _members_page(request, status=400, sso_form=form)


# --- Tenant companies (lot owners) ------------------------------------------------------------


@require_role(*MANAGER_ROLES)
def tenant_list(request: TenantRequest) -> HttpResponse:
    lots = Lot.objects.filter(owner=request.organisation).order_by("name")
    form = TenantInviteForm(
        request.POST or None, lots=lots, initial={"language": _language(), "accepts_visitors": False}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                people.tenant_invitation_create(
                    lot=data["lot"],
                    company_name=data["company_name"],
                    email=data["email"],
                    spots=data["spots"],
                    accepts_visitors=data["accepts_visitors"],
                    language=data["language"],
                    actor=request.user,
                )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, _("Invitation sent to %(email)s.") % {"email": data["email"]})
                return redirect("backoffice:tenant_list")
        status = 400
    invitations = Invitation.objects.filter(
        organisation=request.organisation, kind=InvitationKind.TENANT
    ).select_related("lot", "created_organisation")
    return render(
        request,
        "backoffice/tenants.html",
        {"nav": "tenants", "form": form, "invitations": invitations, "has_lots": lots.exists()},
        status=status,
    )
