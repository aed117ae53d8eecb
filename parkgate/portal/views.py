"""Back-office pages of visitor portals and invitations (organisation admins and parking owners)."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from parkgate.accounts.models import MANAGER_ROLES, User
from parkgate.accounts.tenancy import TenantRequest, require_role
from parkgate.core.spreadsheet import csv_cell
from parkgate.payments import selectors as payment_selectors
from parkgate.portal import selectors, services
from parkgate.portal.forms import PortalForm, SlotFormSet, slot_initial
from parkgate.portal.invitation_forms import InvitationFilterForm, InvitationForm, InvitationSendForm
from parkgate.portal.models import VisitorPortal
from parkgate.portal.qr import qr_png, qr_svg
from parkgate.portal.uploads import CONTENT_TYPES, JPEG, PNG, SVG

_NAV = "portals"


@require_role(*MANAGER_ROLES)
def portal_list(request: TenantRequest) -> HttpResponse:
    portals = list(selectors.portals_of(request.organisation))
    approval = payment_selectors.payment_approval_of(request.organisation)
    for portal in portals:
        portal.public_url = selectors.portal_public_url(portal)  # type: ignore[attr-defined]
    return render(request, "portal/portal_list.html", {"nav": _NAV, "portals": portals, "approval": approval})


def _portal_form_page(request: TenantRequest, portal: VisitorPortal | None) -> HttpResponse:
    organisation = request.organisation
    if request.method == "POST":
        form = PortalForm(request.POST, request.FILES, organisation=organisation, instance=portal)
        slots = SlotFormSet(request.POST, prefix="slots")
        form_valid = form.is_valid()
        # Slot rules are checked even when another field is wrong: every message shows at once.
        specs = form.check_slots(slots) if slots.is_valid() else None
        if form_valid and specs is not None:
            data = form.cleaned_data
            try:
                saved = services.portal_save(
                    portal=form.portal_with_changes(),
                    policies=list(data["policies"]),
                    slots=specs,
                    logo=data["logo"] or (services.REMOVE if data.get("remove_logo") else services.KEEP),
                    banner=data["banner"]
                    or (services.REMOVE if data.get("remove_banner") else services.KEEP),
                    actor=request.user,
                )
            except services.SlugTaken:
                # Another portal took the address between the check and the save.
                form.add_error("slug", form.slug_taken_message(data["slug"]))
            else:
                messages.success(request, _("Portal “%(name)s” saved.") % {"name": saved.name})
                return redirect("portal:detail", pk=saved.pk)
    else:
        form = PortalForm(organisation=organisation, instance=portal)
        slots = SlotFormSet(
            prefix="slots",
            initial=slot_initial(portal) if portal is not None else [{"start": "09:00", "duration_hours": 4}],
        )
    context = {
        "nav": _NAV,
        "form": form,
        "slots": slots,
        "portal": portal,
        "approval": payment_selectors.payment_approval_of(organisation),
        "site_prefix": selectors.public_prefix(),
    }
    return render(request, "portal/portal_form.html", context)


@require_role(*MANAGER_ROLES)
def portal_create(request: TenantRequest) -> HttpResponse:
    return _portal_form_page(request, None)


@require_role(*MANAGER_ROLES)
def portal_edit(request: TenantRequest, pk: int) -> HttpResponse:
    return _portal_form_page(request, selectors.get_portal_for_organisation(request.organisation, pk))


@require_role(*MANAGER_ROLES)
def portal_detail(request: TenantRequest, pk: int) -> HttpResponse:
    """The portal and its invitations with their tracking, filtered by status."""
    portal = selectors.get_portal_for_organisation(request.organisation, pk)
    today = selectors.lot_today(portal)
    filters = InvitationFilterForm(request.GET)
    state = filters.cleaned_data["status"] if filters.is_valid() else ""
    page = Paginator(selectors.invitations_of(portal, state=state, today=today), 50).get_page(
        request.GET.get("page")
    )
    for invitation in page:
        invitation.state = selectors.invitation_state(  # type: ignore[attr-defined]
            invitation,
            today,
            bookings=invitation.counted_booking_count,  # type: ignore[attr-defined]
        )
    context = {
        "nav": _NAV,
        "portal": portal,
        "public_url": selectors.portal_public_url(portal),
        "page": page,
        "filters": filters,
        "state": state,
        "can_take_payments": payment_selectors.portal_can_take_payments(portal),
        "approval": payment_selectors.payment_approval_of(request.organisation),
        "slots": portal.slots.all(),
        "policies": portal.policies.all(),
    }
    return render(request, "portal/portal_detail.html", context)


@require_role(*MANAGER_ROLES)
@require_GET
def invitation_export(request: TenantRequest, pk: int) -> HttpResponse:
    portal = selectors.get_portal_for_organisation(request.organisation, pk)
    today = selectors.lot_today(portal)
    filters = InvitationFilterForm(request.GET)
    state = filters.cleaned_data["status"] if filters.is_valid() else ""
    zone = portal.lot.zone
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="invitations-{portal.slug}.csv"'
    writer = csv.writer(response)

    def local(value: Any) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""

    writer.writerow(
        [
            _("Created"), _("Created by"), _("Status"), _("Language"), _("Date"), _("From"), _("Until"),
            _("Visitor name"), _("Visitor e-mail"), _("Sent to"), _("Sent"), _("First opened"),
            _("Last opened"), _("Opens"), _("Bookings"), _("Maximum bookings"), _("Link"),
        ]
    )  # fmt: skip
    for invitation in selectors.invitations_of(portal, state=state, today=today).iterator(chunk_size=500):
        status = selectors.invitation_state(invitation, today, bookings=invitation.counted_booking_count)  # type: ignore[attr-defined]
        writer.writerow(
            [
                csv_cell(x)
                for x in (
                    local(invitation.created_at),
                    invitation.created_by or "",
                    status.label,
                    invitation.language,
                    invitation.date or "",
                    invitation.date_from or "",
                    invitation.date_until or "",
                    invitation.visitor_name,
                    invitation.visitor_email,
                    invitation.sent_to,
                    local(invitation.sent_at),
                    local(invitation.first_opened_at),
                    local(invitation.last_opened_at),
                    invitation.open_count,
                    invitation.booking_count,  # type: ignore[attr-defined]
                    invitation.max_bookings or "",
                    selectors.invitation_url(invitation),
                )
            ]
        )
    return response


@require_role(*MANAGER_ROLES)
def invitation_create(request: TenantRequest, pk: int) -> HttpResponse:
    portal = selectors.get_portal_for_organisation(request.organisation, pk)
    form = InvitationForm(request.POST or None, portal=portal, today=selectors.lot_today(portal))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        invitation = services.invitation_create(
            portal=portal,
            language=data["language"],
            date=data.get("date"),
            date_from=data.get("date_from"),
            date_until=data.get("date_until"),
            visitor_name=data["visitor_name"],
            visitor_email=data["visitor_email"],
            message=data["message"],
            max_bookings=data["max_bookings"],
            send=data["send"],
            attach_qr=data["attach_qr"],
            actor=request.user,
        )
        if data["send"]:
            messages.success(
                request, _("Invitation created and sent to %(to)s.") % {"to": data["visitor_email"]}
            )
        else:
            messages.success(request, _("Invitation created. Copy its link or download its QR code."))
        return redirect("portal:invitation_detail", pk=portal.pk, invitation_id=invitation.pk)
    return render(request, "portal/invitation_form.html", {"nav": _NAV, "portal": portal, "form": form})


@require_role(*MANAGER_ROLES)
def invitation_detail(request: TenantRequest, pk: int, invitation_id: int) -> HttpResponse:
    invitation = selectors.get_invitation_for_organisation(request.organisation, pk, invitation_id)
    return _invitation_page(request, invitation, InvitationSendForm(initial={"to": invitation.visitor_email}))


def _invitation_page(request: TenantRequest, invitation: Any, send_form: InvitationSendForm) -> HttpResponse:
    portal = invitation.portal
    today = selectors.lot_today(portal)
    context = {
        "nav": _NAV,
        "portal": portal,
        "invitation": invitation,
        "url": selectors.invitation_url(invitation),
        "state": selectors.invitation_state(invitation, today),
        "allowed": selectors.invitation_allowed_dates(invitation, today),
        "bookings": invitation.bookings.order_by("-created_at")[:50],
        "counted": selectors.counted_bookings(invitation),
        "emails": selectors.invitation_emails(invitation)[:20],
        "send_form": send_form,
        "zone": portal.lot.timezone,
    }
    return render(request, "portal/invitation_detail.html", context)


@require_role(*MANAGER_ROLES)
@require_POST
def invitation_send(request: TenantRequest, pk: int, invitation_id: int) -> HttpResponse:
    invitation = selectors.get_invitation_for_organisation(request.organisation, pk, invitation_id)
    form = InvitationSendForm(request.POST)
    if invitation.is_revoked:
        form.add_error(None, _("This invitation was revoked; it can no longer be sent."))
    if not form.is_valid():
        return _invitation_page(request, invitation, form)
    services.invitation_send(
        invitation=invitation,
        to=form.cleaned_data["to"],
        attach_qr=form.cleaned_data["attach_qr"],
        actor=request.user,
    )
    messages.success(request, _("Invitation sent to %(to)s.") % {"to": form.cleaned_data["to"]})
    return redirect("portal:invitation_detail", pk=pk, invitation_id=invitation.pk)


@require_role(*MANAGER_ROLES)
@require_POST
def invitation_revoke(request: TenantRequest, pk: int, invitation_id: int) -> HttpResponse:
    invitation = selectors.get_invitation_for_organisation(request.organisation, pk, invitation_id)
    services.invitation_revoke(invitation=invitation, actor=request.user)
    messages.success(request, _("Invitation revoked: its link now says it is no longer valid."))
    return redirect("portal:invitation_detail", pk=pk, invitation_id=invitation.pk)


@require_role(*MANAGER_ROLES)
@require_GET
def invitation_qr(request: TenantRequest, pk: int, invitation_id: int, fmt: str) -> HttpResponse:
    invitation = selectors.get_invitation_for_organisation(request.organisation, pk, invitation_id)
    if fmt not in ("png", "svg"):
        raise Http404
    url = selectors.invitation_url(invitation)
    if fmt == "png":
        response = HttpResponse(qr_png(url), content_type="image/png")
    else:
        response = HttpResponse(qr_svg(url), content_type="image/svg+xml")
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="invitation-{invitation.pk}-qr.{fmt}"'
    return response


# --- Uploaded logos and banners (public: the visitor pages show them) --------------------------

_ASSET_TYPES = {"png": PNG, "jpg": JPEG, "svg": SVG}


@require_GET
def asset(request: HttpRequest, slug: str, kind: str, filename: str) -> FileResponse:
    """Serve an upload so that it can never run as a page: exact type, nosniff, no script for SVG."""
    if kind not in ("logo", "banner"):
        raise Http404
    portal = get_object_or_404(VisitorPortal, slug=slug)
    field = getattr(portal, kind)
    if not field or field.name.rsplit("/", 1)[-1] != filename:
        raise Http404
    image_type = _ASSET_TYPES.get(filename.rsplit(".", 1)[-1])
    if image_type is None or not default_storage.exists(field.name):
        raise Http404
    response = FileResponse(default_storage.open(field.name, "rb"), content_type=CONTENT_TYPES[image_type])
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response["Content-Disposition"] = "inline"
    # The name changes with every upload: cache hard.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


# --- Platform staff: payment approvals -----------------------------------------------------------


def _require_platform_staff(user: Any) -> User:
    """Platform staff (account managers) are superusers; anyone else gets 403."""
    if not user.is_superuser:
        raise PermissionDenied
    return user


@login_required
def payment_approvals(request: HttpRequest) -> HttpResponse:
    """Moved to the platform console, where approving also asks for the fees."""
    _require_platform_staff(request.user)
    return redirect("platform:payment_approvals", permanent=True)


@login_required
def payment_decide(request: HttpRequest, approval_id: int) -> HttpResponse:
    """Decisions are taken on the platform console, where approving asks for the fees."""
    _require_platform_staff(request.user)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    return redirect("platform:payment_approvals")
