from __future__ import annotations

import json
import zoneinfo
from datetime import datetime
from typing import Any

from django import template
from django.utils import formats
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from parkgate.backoffice.forms import currency_exponent, minor_to_major
from parkgate.parking.models import minute_label

register = template.Library()


@register.filter
def money(amount: int | None, currency: str) -> str:
    """Minor units to a localised amount with its currency: 250, "EUR" -> "2.50 EUR" (or "2,50 EUR")."""
    major = minor_to_major(amount, currency)
    if major is None:
        return ""
    return f"{number_format(major, currency_exponent(currency))} {currency}"


@register.filter
def hhmm(minute: int) -> str:
    return minute_label(minute)


@register.filter
def as_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str) if data else ""


# The audit log in words (issue 14): what happened, then the facts recorded with it.
AUDIT_ACTIONS: dict[str, Any] = {
    "access.keypad.locked_out": _("Keypad locked after wrong codes"),
    "access.reservation.cancelled": _("Reservation cancelled"),
    "access.reservation.confirmed": _("Reservation confirmed"),
    "access.reservation.created": _("Reservation made"),
    "access.reservation.expired": _("Reservation expired"),
    "booking.booking.created": _("Visitor booking made"),
    "booking.email.resent": _("Booking e-mail sent again"),
    "booking.links.sent": _("Lost links sent to a visitor"),
    "booking.reservation.cancelled": _("Visitor reservation cancelled"),
    "controlroom.gate.opened": _("Gate opened from the control room"),
    "controlroom.gate.refused": _("Gate opening refused in the control room"),
    "controlroom.gate.failed": _("Gate did not open from the control room"),
    "controlroom.gate.forced": _("Gate forced open from the control room"),
    "controlroom.visitor.registered": _("Walk-in visitor registered"),
    "controlroom.visitor.registered_outside_timetable": _(
        "Walk-in visitor registered outside the visitor timetable"
    ),
    "members.devices.signed_out": _("Parker signed out of their devices"),
    "members.plate.added": _("Licence plate added by the parker"),
    "members.plate.removed": _("Licence plate removed by the parker"),
    "members.spot.booked": _("Day booked by a parker"),
    "members.spot.shared": _("Spot shared for a day"),
    "members.spot.taken_back": _("Shared spot taken back"),
    "members.waiting.joined": _("Parker joined the waiting list"),
    "members.waiting.left": _("Parker left the waiting list"),
    "members.waiting.promoted": _("Waiting parker got a spot"),
    "parking.allocation.created": _("Spots allocated to an organisation"),
    "parking.allocation.updated": _("Allocation changed"),
    "parking.allocation.deleted": _("Allocation removed"),
    "parking.gate.created": _("Gate added"),
    "parking.gate.updated": _("Gate changed"),
    "parking.lot.created": _("Car park added"),
    "parking.lot.updated": _("Car park changed"),
    "parking.parker.created": _("Parker added"),
    "parking.parker.updated": _("Parker changed"),
    "parking.parker.deleted": _("Parker removed"),
    "parking.policy.created": _("Access policy added"),
    "parking.policy.updated": _("Access policy changed"),
    "parking.policy.member_added": _("Parker added to an access policy"),
    "parking.policy.member_removed": _("Parker removed from an access policy"),
    "payments.account.connected": _("Payment account connected"),
    "payments.account.fees_set": _("Platform fees set"),
    "payments.account.updated": _("Payment account updated"),
    "payments.payment.created": _("Payment started"),
    "payments.payment.paid": _("Payment received"),
    "payments.payment.processing": _("Payment being processed"),
    "payments.payment.anomaly": _("Payment anomaly"),
    "payments.refund.requested": _("Refund requested"),
    "payments.refund.fee_refunded": _("Platform fee refunded"),
    "portal.invitation.created": _("Invitation created"),
    "portal.invitation.revoked": _("Invitation revoked"),
    "portal.invitation.sent": _("Invitation sent"),
    "portal.payment.approved": _("Online payment approved"),
    "portal.payment.requested": _("Online payment requested"),
    "portal.portal.created": _("Visitor portal created"),
    "portal.portal.updated": _("Visitor portal changed"),
}
AUDIT_KEYS: dict[str, Any] = {
    "reason": _("Reason"),
    "start": _("From"),
    "end": _("Until"),
    "plate": _("Plate"),
    "status": _("Status"),
    "result": _("Result"),
    "decision": _("Decision"),
    "language": _("Language"),
    "spots": _("Spots"),
    "days": _("Days"),
    "name": _("Name"),
    "email": _("E-mail"),
    "source": _("Source"),
    "amount": _("Amount"),
    "slug": _("Address"),
}


@register.filter
def audit_what(action: str) -> str:
    """The action in the reader's language; an action without words keeps its code."""
    words = AUDIT_ACTIONS.get(action)
    return str(words) if words is not None else action


def _audit_value(value: Any, zone: Any) -> str:
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list):
        return ", ".join(_audit_value(v, zone) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_audit_value(v, zone)}" for k, v in value.items())
    text = str(value)
    if len(text) >= 16 and text[4:5] == "-" and "T" in text:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return text
        if moment.tzinfo is not None and zone is not None:
            moment = moment.astimezone(zone)
        return formats.date_format(moment, "DATETIME_FORMAT")
    return text


@register.filter
def audit_facts(data: Any, zone: Any = None) -> list[tuple[str, str]]:
    """The recorded facts as (label, value) pairs: named ones first, in words; ids last."""
    if not isinstance(data, dict):
        return []
    if isinstance(zone, str) and zone:
        zone = zoneinfo.ZoneInfo(zone)
    named = [(str(AUDIT_KEYS[k]), _audit_value(v, zone)) for k, v in data.items() if k in AUDIT_KEYS]
    other = [(k.replace("_", " "), _audit_value(v, zone)) for k, v in data.items() if k not in AUDIT_KEYS]
    return named + other
