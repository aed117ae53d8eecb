"""The platform console (/platform/): staff manage organisations, their members, payment approvals
and fees. Staff are superusers with a second factor (AccountGuardMiddleware sends them to set it up
first)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from parkgate.accounts.models import Membership, Organisation, Role, User
from parkgate.backoffice import people
from parkgate.backoffice.models import Invitation, InvitationKind, InvitationStatus
from parkgate.backoffice.views._helpers import form_errors_from
from parkgate.payments.forms import FeesForm
from parkgate.payments.models import PaymentAccount, PaymentApproval, PaymentApprovalStatus
from parkgate.payments.money import amount_as_text
from parkgate.payments.services import payment_account_fees_set, payment_approval_decide


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_superuser:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _language() -> str:
    return (get_language() or settings.LANGUAGE_CODE)[:2]


class OrganisationForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    email = forms.EmailField(label=gettext_lazy("Contact e-mail"), required=False)
    admin_email = forms.EmailField(label=gettext_lazy("E-mail of its admin (invited now)"))
    language = forms.ChoiceField(label=gettext_lazy("Language of the invitation"), choices=settings.LANGUAGES)


class AdminInviteForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail"))
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices, initial=Role.ADMIN)
    language = forms.ChoiceField(label=gettext_lazy("Language of the invitation"), choices=settings.LANGUAGES)


class DecisionForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "platform/home.html",
        {
            "nav": "platform_home",
            "organisations": Organisation.objects.count(),
            "suspended": Organisation.objects.filter(suspended_at__isnull=False).count(),
            "pending_approvals": PaymentApproval.objects.filter(status=PaymentApprovalStatus.PENDING).count(),
            "open_invitations": Invitation.objects.filter(status=InvitationStatus.PENDING).count(),
        },
    )


@staff_required
def organisation_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    organisations = Organisation.objects.annotate(
        members=Count("memberships", filter=Q(memberships__is_active=True))
    ).order_by("name")
    if query:
        organisations = organisations.filter(
            Q(name__icontains=query)
            | Q(slug__icontains=query)
            | Q(email__icontains=query)
            | Q(memberships__user__email__icontains=query)
        ).distinct()
    form = OrganisationForm(request.POST or None, initial={"language": _language()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    organisation = people.organisation_create(
                        name=data["name"], email=data["email"], actor=request.user
                    )
                    people.invitation_create(
                        organisation=organisation,
                        email=data["admin_email"],
                        role=Role.ADMIN,
                        language=data["language"],
                        actor=request.user,
                    )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(
                    request,
                    _("%(name)s created; its admin is invited at %(email)s.")
                    % {"name": organisation.name, "email": data["admin_email"]},
                )
                return redirect("platform:organisation_detail", organisation_id=organisation.pk)
        status = 400
    page = Paginator(organisations, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "platform/organisation_list.html",
        {"nav": "platform_organisations", "page": page, "query": query, "form": form},
        status=status,
    )


def _detail(
    request: HttpRequest, organisation: Organisation, form: AdminInviteForm | None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "platform/organisation_detail.html",
        {
            "nav": "platform_organisations",
            "organisation": organisation,
            "memberships": Membership.objects.filter(organisation=organisation)
            .select_related("user")
            .order_by("-is_active", "role", "user__email"),
            "invitations": Invitation.objects.filter(
                organisation=organisation, kind=InvitationKind.MEMBER, status=InvitationStatus.PENDING
            ),
            "payment_approval": PaymentApproval.objects.filter(organisation=organisation).first(),
            "form": form or AdminInviteForm(initial={"language": _language(), "role": Role.ADMIN}),
        },
        status=status,
    )


@staff_required
def organisation_detail(request: HttpRequest, organisation_id: int) -> HttpResponse:
    organisation = get_object_or_404(Organisation, pk=organisation_id)
    if request.method == "POST":
        form = AdminInviteForm(request.POST)
        if form.is_valid():
            try:
                people.invitation_create(
                    organisation=organisation,
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
                return redirect("platform:organisation_detail", organisation_id=organisation.pk)
        return _detail(request, organisation, form, status=400)
    return _detail(request, organisation, None)


@require_POST
@staff_required
def organisation_suspend(request: HttpRequest, organisation_id: int) -> HttpResponse:
    organisation = get_object_or_404(Organisation, pk=organisation_id)
    suspend = request.POST.get("suspend") == "1"
    people.organisation_suspend(organisation=organisation, suspend=suspend, actor=request.user)
    if suspend:
        messages.success(
            request,
            _("%(name)s is suspended: its members no longer reach the back office.")
            % {"name": organisation.name},
        )
    else:
        messages.success(request, _("%(name)s is active again.") % {"name": organisation.name})
    return redirect("platform:organisation_detail", organisation_id=organisation.pk)


@require_POST
@staff_required
def invitation_action(request: HttpRequest, invitation_id: int, action: str) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=invitation_id)
    try:
        if action == "resend":
            people.invitation_resend(invitation=invitation, actor=request.user)
            messages.success(request, _("Invitation sent again to %(email)s.") % {"email": invitation.email})
        else:
            people.invitation_revoke(invitation=invitation, actor=request.user)
            messages.success(request, _("Invitation to %(email)s withdrawn.") % {"email": invitation.email})
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("platform:organisation_detail", organisation_id=invitation.organisation_id)


# --- Payment approvals and fees ---------------------------------------------------------------


def _approval_rows(
    bound: tuple[int, FeesForm, DecisionForm] | None = None,
) -> list[dict[str, Any]]:
    approvals = PaymentApproval.objects.select_related("organisation", "requested_by", "decided_by").order_by(
        "status", "-requested_at"
    )
    accounts = {a.organisation_id: a for a in PaymentAccount.objects.all()}
    rows = []
    for approval in approvals:
        account = accounts.get(approval.organisation_id)
        if bound and bound[0] == approval.pk:
            fees, decision = bound[1], bound[2]
        else:
            currency = account.currency if account else "EUR"
            fees = FeesForm(
                currency=currency,
                prefix=f"a{approval.pk}",
                # No default: staff type the fees they agreed with the organisation.
                initial={
                    "fee_fixed": amount_as_text(account.fee_fixed, account.currency),
                    "fee_percent": account.fee_percent,
                }
                if account and approval.status == PaymentApprovalStatus.APPROVED
                else {},
            )
            decision = DecisionForm(prefix=f"a{approval.pk}", initial={"note": approval.note})
        rows.append({"approval": approval, "account": account, "fees": fees, "decision": decision})
    return rows


@staff_required
def payment_approvals(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "platform/payment_approvals.html",
        {"nav": "platform_payments", "rows": _approval_rows()},
    )


@require_POST
@staff_required
def payment_decide(request: HttpRequest, approval_id: int) -> HttpResponse:
    approval = get_object_or_404(PaymentApproval.objects.select_related("organisation"), pk=approval_id)
    account = PaymentAccount.objects.filter(organisation=approval.organisation).first()
    decision = DecisionForm(request.POST, prefix=f"a{approval.pk}")
    fees = FeesForm(request.POST, currency=account.currency if account else "EUR", prefix=f"a{approval.pk}")
    name = approval.organisation.name
    if request.POST.get("decision") == "refuse":
        if not decision.is_valid():
            return render(
                request,
                "platform/payment_approvals.html",
                {"nav": "platform_payments", "rows": _approval_rows((approval.pk, fees, decision))},
                status=400,
            )
        payment_approval_decide(
            approval=approval,
            approve=False,
            note=decision.cleaned_data["note"],
            actor=cast(User, request.user),
        )
        messages.success(request, _("Payments refused for %(org)s.") % {"org": name})
        return redirect("platform:payment_approvals")
    if account is None:
        messages.error(
            request,
            _(
                "%(org)s has not connected its Stripe account yet: its fees are set on that account. Approve once it is connected."  # noqa: E501
            )
            % {"org": name},
        )
        return redirect("platform:payment_approvals")
    if not (fees.is_valid() and decision.is_valid()):
        return render(
            request,
            "platform/payment_approvals.html",
            {"nav": "platform_payments", "rows": _approval_rows((approval.pk, fees, decision))},
            status=400,
        )
    with transaction.atomic():
        payment_account_fees_set(
            payment_account=account,
            actor=cast(User, request.user),
            fee_fixed=fees.cleaned_data["fee_fixed"],
            fee_percent=fees.cleaned_data["fee_percent"],
        )
        payment_approval_decide(
            approval=approval,
            approve=True,
            note=decision.cleaned_data["note"],
            actor=cast(User, request.user),
        )
    messages.success(request, _("Payments approved for %(org)s, with its fees.") % {"org": name})
    return redirect("platform:payment_approvals")
