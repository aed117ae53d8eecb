"""Writes of the visitor booking process: open an invitation, book, notify, cancel, resend links.

The booking flow, and where the payment step plugs in (issue 5):

    booking_submit(...)            free portal: reservations CONFIRMED at once, Booking CONFIRMED,
      │                            returns BookingResult(status=CONFIRMED); the confirmation
      │                            is owed by booking_notify_confirmed(...) IN that transaction
      │                            (an outbox row, parkgate/booking/notices.py), written and sent
      │                            after commit by the task worker or housekeeping.
      └─ portal.payment_enabled:   paid portal: reservations HELD (PAYMENT_HOLD), Booking
                                   AWAITING_PAYMENT and its Payment in one transaction; after commit
                                   the Stripe Checkout Session, BookingResult(redirect_url=session
                                   url). The webhook (payments.checkout) confirms the held
                                   reservations and calls booking_notify_confirmed(booking) exactly
                                   as the free path does. A visitor who cancels a paid spot gets its
                                   price back (payments.refunds).
"""

from __future__ import annotations

import secrets
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from parkgate.access import selectors as access_selectors
from parkgate.access.capacity import (
    ReservationError,
    ReservationRequest,
    reservation_cancel,
    reservations_create,
)
from parkgate.access.models import (
    Reservation,
    ReservationSource,
    ReservationStatus,
)
from parkgate.accounts.models import User
from parkgate.booking import selectors
from parkgate.booking.branding import brand_background
from parkgate.booking.ics import reservations_ics
from parkgate.booking.models import Booking, BookingNotice, BookingNoticeKind, BookingStatus
from parkgate.booking.notices import notice_add, notice_writer
from parkgate.core.audit import audit_batch, audit_log
from parkgate.core.compiled import compiled_objects, compiled_sql
from parkgate.core.errors import ParkgateError
from parkgate.core.mail import Attachment, email_queue, email_send_task
from parkgate.core.models import OutboundEmail, OutboundEmailStatus
from parkgate.parking.models import AccessPolicy, Parker
from parkgate.parking.plates import plate_display  # THE plate rule
from parkgate.parking.services import parker_save
from parkgate.payments import checkout as payments
from parkgate.payments.documents import document_pdf
from parkgate.payments.models import BillingDocument, Payment, PaymentAccount, Refund
from parkgate.payments.models import DocumentKind as BillingDocumentKind
from parkgate.payments.money import format_amount
from parkgate.payments.pricing import SpotPrice, spot_price
from parkgate.payments.refunds import spot_refund_request
from parkgate.payments.selectors import payment_documents, spot_payment
from parkgate.portal.models import Invitation, VisitorPortal

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud on the phone


class BookingRefused(ParkgateError):
    """The booking cannot be made; ``message`` is for the visitor, in their language."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class VisitorDetails:
    first_name: str
    last_name: str
    plate: str
    email: str


@dataclass(frozen=True)
class BookingPlan:
    """What the visitor chose: the same time window on each of ``days``, for ``spots`` visitors."""

    days: tuple[date, ...]
    start_minute: int
    end_minute: int
    spots: int
    # The chosen predefined slot's price per spot (paid portals), else the policy prices apply.
    slot_price: int | None = None


@dataclass(frozen=True)
class BookingResult:
    booking: Booking
    # Where the visitor goes next: None means the confirmation page (free portals). Issue 5 sets the
    # Stripe Checkout address here for paid portals.
    redirect_url: str | None = None


def invitation_open(*, invitation: Invitation, now: datetime | None = None) -> None:
    """Record that the invitation link was opened (atomic, no lost updates between processes)."""
    now = now or timezone.now()
    Invitation.objects.filter(pk=invitation.pk, first_opened_at__isnull=True).update(first_opened_at=now)
    Invitation.objects.filter(pk=invitation.pk).update(last_opened_at=now, open_count=F("open_count") + 1)


def _booking_with_reference(reference: str) -> QuerySet[Booking, tuple[int]]:
    return Booking.objects.filter(reference=reference).values_list("pk")[:1]


def _new_reference() -> str:
    # Once per booking: the ORM's SQL compiled once per process (parkgate.core.compiled).
    sql = compiled_sql("booking_reference_taken", _booking_with_reference, ("-placeholder-",))
    while True:
        reference = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
        with connection.cursor() as cursor:
            cursor.execute(sql, [reference])
            if cursor.fetchone() is None:
                return reference


def _visitor_record(email: str, organisation_id: int) -> QuerySet[Parker]:
    return Parker.objects.filter(
        managed_by_id=organisation_id, organisation__isnull=True, email__iexact=email
    ).order_by("pk")[:1]


def _visitor_parker(*, organisation: Any, visitor: VisitorDetails) -> Parker:
    """The visited organisation's visitor record for this e-mail address (reused across visits)."""
    sql = compiled_sql("booking_visitor_record", _visitor_record, ("-placeholder-", -7002))
    parker = next(iter(Parker.objects.raw(sql, [visitor.email, organisation.pk])), None)
    plates = [visitor.plate]
    if parker is None:
        parker = Parker(managed_by=organisation, organisation=None, email=visitor.email)
    else:
        parker.managed_by = organisation  # the one just read, as for a new record: not read again
        plates += list(parker.plates.values_list("text", flat=True))
    parker.first_name = visitor.first_name
    parker.last_name = visitor.last_name
    # Inside booking_submit's transaction, which any error here rolls back whole: no savepoint.
    return parker_save(parker=parker, plates=plates, actor=None, actor_label="visitor", savepoint=False)


def booking_submit(
    *,
    invitation: Invitation,
    plan: BookingPlan,
    visitors: Sequence[VisitorDetails],
    language: str,
    invoice_requested: bool = False,
    invoice_details: payments.InvoiceDetails | None = None,
    policies: list[AccessPolicy] | None = None,
    now: datetime | None = None,
) -> BookingResult:
    """Book every visitor on every day of the plan, all or nothing.

    Raises BookingRefused (portal closed, invitation used up, payment not available or could not
    start) or the capacity engine's ReservationError / CapacityFull / CapacityBusy; nothing is kept
    in those cases. ``policies``: the portal's, when the caller has just read them
    (``selectors.portal_policies``).
    """
    portal = invitation.portal
    if len(visitors) != plan.spots or not plan.days:
        raise ValueError("one visitor per spot and at least one day")
    if not portal.is_active or invitation.is_revoked:
        raise BookingRefused(_("This invitation is no longer valid."))
    account = _payment_account(portal)
    if policies is None:
        policies = selectors.portal_policies(portal)
    with transaction.atomic(), audit_batch():  # the visitor, reservation and booking events: one INSERT
        locked = _invitation_lock(invitation)
        parkers = [_visitor_parker(organisation=portal.organisation, visitor=v) for v in visitors]
        requests = _reservation_requests(
            portal=portal,
            policies=policies,
            plan=plan,
            parkers=parkers,
            visitors=visitors,
            language=language,
            now=now,
        )
        prices = _spot_prices(requests=requests, plan=plan) if account is not None else []
        # What needs no lot lock is written before it: reservations_create takes the lot's lock,
        # held until this transaction commits, so every statement after it is one that the lot's
        # other bookings wait for (bench/booking_http.py).
        group_id = uuid.uuid4()
        booking = _booking_record(
            invitation=locked,
            plan=plan,
            group_id=group_id,
            visitors=visitors,
            language=language,
            paid=account is not None,
        )
        if account is None:
            # The confirmation is owed in the booking's own transaction (see notices.py).
            booking_notify_confirmed(booking=booking)
        reservations = reservations_create(
            requests=requests,
            source=ReservationSource.PORTAL,
            actor_label="visitor",
            hold_for=payments.PAYMENT_HOLD if account is not None else None,
            now=now,
            savepoint=False,  # a refusal (full, busy) leaves this transaction whole, rolled back
            group_id=group_id,
        )
        _booking_audit(booking=booking, plan=plan, reservations=reservations)
        payment = None
        if account is not None:
            payment = _payment_record(
                booking=booking,
                account=account,
                reservations=reservations,
                prices=prices,
                invoice_requested=invoice_requested,
                invoice_details=invoice_details,
            )
    if payment is not None:
        return BookingResult(
            booking=booking,
            redirect_url=_checkout_start(payment=payment, booking=booking, invitation=invitation),
        )
    return BookingResult(booking=booking)


def _payment_account(portal: VisitorPortal) -> PaymentAccount | None:
    """The account a paid portal's bookings are paid to (None for a free portal)."""
    if not portal.payment_enabled:
        return None
    try:
        return payments.payment_account_for_portal(portal)
    except payments.PaymentUnavailable as error:
        raise BookingRefused(error.message) from error


def _invitation_lock(invitation: Invitation) -> Invitation:
    """The invitation, locked for this booking, if it still allows one more.

    An invitation without a booking limit has nothing to count, so nothing to lock: a revocation
    committed meanwhile is the same as one made just after this booking (revoking keeps the
    bookings made), and the booking's foreign key keeps the row from going away.
    """
    if invitation.max_bookings is None:
        return invitation
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    locked.portal = invitation.portal  # the same portal, already read with its organisation and lot
    if locked.revoked_at is not None:
        raise BookingRefused(_("This invitation is no longer valid."))
    if (
        locked.max_bookings is not None
        and selectors.bookings_of_invitation_count(locked) >= locked.max_bookings
    ):
        raise BookingRefused(_("This invitation has already been used for all the bookings it allows."))
    return locked


def _reservation_requests(
    *,
    portal: VisitorPortal,
    policies: list[AccessPolicy],
    plan: BookingPlan,
    parkers: Sequence[Parker],
    visitors: Sequence[VisitorDetails],
    language: str,
    now: datetime | None,
) -> list[ReservationRequest]:
    """One reservation per visitor per day, each under the visitor policy open at that time."""
    requests: list[ReservationRequest] = []
    for day in plan.days:
        start, end = selectors.interval(portal, day, plan.start_minute, plan.end_minute)
        policy = selectors.choose_policy(policies, start, end, plan.spots, now=now)
        if policy is None:
            raise BookingRefused(
                _("The car park is not open for visitors at this time on %(day)s.") % {"day": day.isoformat()}
            )
        for parker, visitor in zip(parkers, visitors, strict=True):
            requests.append(
                ReservationRequest(
                    parker=parker,
                    policy=policy,
                    start=start,
                    end=end,
                    plate_text=plate_display(visitor.plate),
                    language=language,
                )
            )
    return requests


def _spot_prices(*, requests: Sequence[ReservationRequest], plan: BookingPlan) -> list[SpotPrice]:
    """The price of each requested spot; a spot without a price cannot be booked online."""
    prices = []
    for request in requests:
        price = spot_price(
            policy=request.policy, start=request.start, end=request.end, slot_price=plan.slot_price
        )
        if price is None:
            raise BookingRefused(
                _(
                    "No price is set for this time, so it cannot be booked online. "
                    "Please contact the organisation that invited you."
                )
            )
        prices.append(price)
    return prices


def _booking_record(
    *,
    invitation: Invitation,
    plan: BookingPlan,
    group_id: uuid.UUID,
    visitors: Sequence[VisitorDetails],
    language: str,
    paid: bool,
) -> Booking:
    """The booking over the reservations ``group_id`` names (made next, in the same transaction)."""
    return Booking.objects.create(
        portal=invitation.portal,
        invitation=invitation,
        group_id=group_id,
        reference=_new_reference(),
        link_key=secrets.token_urlsafe(32),
        language=language,
        booker_email=visitors[0].email,
        spots=plan.spots,
        days=len(plan.days),
        status=BookingStatus.AWAITING_PAYMENT if paid else BookingStatus.CONFIRMED,
    )


def _booking_audit(*, booking: Booking, plan: BookingPlan, reservations: Sequence[Reservation]) -> None:
    portal = booking.portal
    audit_log(
        action="booking.booking.created",
        organisation=portal.organisation,
        actor_label="visitor",
        obj=booking,
        data={
            "portal": portal.pk,
            "invitation": booking.invitation_id,
            "spots": plan.spots,
            "days": [d.isoformat() for d in plan.days],
            "reservations": [r.pk for r in reservations],
            "language": booking.language,
        },
    )


def _payment_record(
    *,
    booking: Booking,
    account: PaymentAccount,
    reservations: Sequence[Reservation],
    prices: Sequence[SpotPrice],
    invoice_requested: bool,
    invoice_details: payments.InvoiceDetails | None,
) -> Payment:
    """The local payment of a paid booking, in the booking's transaction."""
    try:
        return payments.payment_create(
            booking=booking,
            account=account,
            spots=[
                payments.PricedSpot(
                    reservation=reservation,
                    price=price,
                    description=_spot_description(reservation, booking.portal),
                )
                for reservation, price in zip(reservations, prices, strict=True)
            ],
            invoice_requested=invoice_requested,
            invoice_details=invoice_details,
        )
    except payments.PaymentUnavailable as error:
        raise BookingRefused(error.message) from error


def _checkout_start(*, payment: Payment, booking: Booking, invitation: Invitation) -> str:
    """After commit, outside the lot lock: the Checkout Session on the organisation's account."""
    portal = booking.portal
    done = settings.SITE_URL + reverse(
        "booking:confirmation", args=[portal.slug, invitation.token, booking.reference, booking.link_key]
    )
    try:
        return payments.checkout_session_start(
            payment=payment,
            success_url=done + "?session={CHECKOUT_SESSION_ID}",
            cancel_url=done + "?cancelled=1",
        )
    except payments.PaymentStartFailed as error:
        raise BookingRefused(
            _("The payment could not start, so nothing was booked and nothing was charged. Please try again.")
        ) from error


def _spot_description(reservation: Reservation, portal: VisitorPortal) -> str:
    """The line a visitor sees at checkout and on the invoice.

    For example "Parking 12/05/2026 09:00-17:00, Ann Peeters".
    """
    zone = portal.lot.zone
    start, end = reservation.start.astimezone(zone), reservation.end.astimezone(zone)
    return str(
        _("Parking %(day)s %(start)s-%(end)s, %(name)s")
        % {
            "day": start.strftime("%d/%m/%Y"),
            "start": start.strftime("%H:%M"),
            "end": end.strftime("%H:%M") if end.date() == start.date() else end.strftime("%d/%m %H:%M"),
            "name": f"{reservation.parker.first_name} {reservation.parker.last_name}".strip(),
        }
    )


def _visitor_groups(reservations: Sequence[Reservation]) -> OrderedDict[int, list[Reservation]]:
    groups: OrderedDict[int, list[Reservation]] = OrderedDict()
    for reservation in reservations:
        groups.setdefault(reservation.parker_id, []).append(reservation)
    return groups


def _links(reservation: Reservation, portal: VisitorPortal) -> dict[str, str]:
    return {
        "remote_control_url": settings.SITE_URL
        + reverse("access:remote_control", args=[reservation.remote_control_token]),
        "cancel_url": settings.SITE_URL
        + reverse("booking:cancel", args=[portal.slug, reservation.cancel_token]),
    }


def document_url(booking: Booking, document: BillingDocument) -> str:
    """Where whoever holds the booking's link downloads one of its documents again ("" without it)."""
    if booking.invitation is None:
        return ""
    return settings.SITE_URL + reverse(
        "booking:document",
        args=[booking.portal.slug, booking.invitation.token, booking.reference, document.access_token],
    )


def _document_attachment(document: BillingDocument) -> Attachment:
    return Attachment(document.filename, "application/pdf", document_pdf(document))


def _is_payer(booking: Booking, parker: Parker) -> bool:
    return parker.email.strip().lower() == booking.booker_email.strip().lower()


def _mail_context(
    booking: Booking, reservations: Sequence[Reservation], loaded: Sequence[Reservation] = ()
) -> dict[str, Any]:
    """``loaded``: the booking's reservations when the caller read them all (the booker is among
    them, in the same order; one query fewer per e-mail)."""
    portal = booking.portal
    lot = portal.lot
    email = booking.booker_email.strip().lower()
    booker = next((r for r in loaded if r.parker.email.strip().lower() == email), None) or (
        selectors.booking_reservations(booking)
        .filter(parker__email__iexact=booking.booker_email)
        .select_related("parker")
        .first()
    )
    return {
        "is_booker": _is_payer(booking, reservations[0].parker),
        "booker_name": f"{booker.parker.first_name} {booker.parker.last_name}".strip() if booker else "",
        "booking": booking,
        "portal": portal,
        "organisation": portal.organisation,
        "lot": lot,
        "parker": reservations[0].parker,
        "plate": reservations[0].plate_text,
        "ways_in": access_selectors.ways_in(lot),
        "items": [{"reservation": r, **_links(r, portal)} for r in reservations],
        "brand_colour": brand_background(portal.brand_colour).lstrip("#"),
    }


def _ics_summary(booking: Booking) -> str:
    return f"{booking.portal.organisation.name}: {booking.portal.lot.name}"


def booking_notify_confirmed(*, booking: Booking) -> BookingNotice:
    """Owe the visitors their confirmation e-mails: call in the transaction that confirms the booking.

    Writes the outbox row only (cheap, no rendering under the lot lock); the e-mails are rendered
    by :func:`confirmation_emails_write` after the commit (notices.py).
    """
    return notice_add(booking=booking, kind=BookingNoticeKind.CONFIRMATION)


def _confirmed_reservations(group_id: uuid.UUID, status: str) -> QuerySet[Reservation]:
    # The e-mail worker's read for every confirmation, compiled once per process.
    return selectors.group_reservations(group_id).filter(status=status)


def confirmation_emails_write(*, booking: Booking) -> list[OutboundEmail]:
    """Queue one confirmation e-mail per visitor, listing each of their days with its ways in.

    One message per visitor (not per day): a Monday-to-Friday booking is one e-mail with five
    days, five codes and links, and one .ics with five events. Each visitor gets only their own.
    """
    reservations: list[Reservation] = compiled_objects(
        "confirmed_reservations",
        _confirmed_reservations,
        (uuid.UUID(int=1), "-status-"),
        (booking.group_id, ReservationStatus.CONFIRMED),
    )
    # Rendered here, after the commit and outside the transaction below (WeasyPrint takes a moment).
    documents = [d for d in payment_documents(getattr(booking, "payment", None)) if d.kind != "credit_note"]
    for document in documents:
        document_pdf(document)
    emails = []
    # No savepoint: inside the notice's transaction (notices.py) a failure rolls the whole write back.
    with transaction.atomic(savepoint=False):
        for visitor_reservations in _visitor_groups(reservations).values():
            parker = visitor_reservations[0].parker
            language = visitor_reservations[0].language
            ics = reservations_ics(
                visitor_reservations, summary=_ics_summary(booking), description=booking.reference
            )
            attachments = [Attachment(f"parking-{booking.reference}.ics", "text/calendar", ics)]
            context = _mail_context(booking, visitor_reservations, loaded=reservations)
            if context["is_booker"] and documents:
                # The payer's receipt or invoice: attached, and downloadable again from its link.
                attachments.append(_document_attachment(documents[0]))
                context["document"] = documents[0]
                context["document_url"] = document_url(booking, documents[0])
            emails.append(
                email_queue(
                    to=[parker.email],
                    template="booking/email/confirmation",
                    context=context,
                    language=language,
                    kind="booking.confirmation",
                    organisation=booking.portal.organisation,
                    sender_name=booking.portal.organisation.name,
                    reply_to=[booking.portal.organisation.email] if booking.portal.organisation.email else [],
                    attachments=attachments,
                    obj=booking,
                    send_after_commit=False,  # the notice's task sends it (notices.py)
                )
            )
    return emails


def _booking_of(reservation: Reservation) -> Booking:
    return Booking.objects.select_related("portal__organisation", "portal__lot").get(
        group_id=reservation.group_id
    )


def _cancel(*, reservation: Reservation, actor: User | None, actor_label: str, allow_started: bool) -> bool:
    booking = _booking_of(reservation)
    with transaction.atomic():
        changed = reservation_cancel(
            reservation=reservation, actor=actor, actor_label=actor_label, allow_started=allow_started
        )
        if not changed:
            return False
        spot_refund_request(reservation=reservation)
        remaining = Reservation.objects.filter(group_id=booking.group_id).exclude(
            status__in=[ReservationStatus.CANCELLED, ReservationStatus.EXPIRED]
        )
        if not remaining.exists():
            booking.status = BookingStatus.CANCELLED
            booking.save(update_fields=["status"])
        audit_log(
            action="booking.reservation.cancelled",
            organisation=booking.portal.organisation,
            actor=actor,
            actor_label=actor_label,
            obj=booking,
            data={"reservation": reservation.pk, "by": actor_label or "staff"},
        )
        # The cancellation e-mail is owed in the same transaction, written after commit.
        notice_add(
            booking=booking,
            kind=BookingNoticeKind.CANCELLATION,
            reservation=reservation,
            context={"by_staff": actor_label != "visitor"},
        )
    return True


def cancellation_emails_write(
    *, booking: Booking, reservation: Reservation, by_staff: bool
) -> list[OutboundEmail]:
    """The e-mail of one cancelled reservation, with its refund when it was paid.

    A refunded spot's credit note is attached when that visitor paid; when someone else paid for
    them, the payer gets it in an e-mail of its own.
    """
    _line, refund = spot_payment(reservation)
    credit_note = BillingDocument.objects.filter(refund=refund).first() if refund is not None else None
    ics = reservations_ics([reservation], summary=_ics_summary(booking), cancelled=True)
    attachments = [Attachment(f"parking-{booking.reference}-cancelled.ics", "text/calendar", ics)]
    context = {
        **_mail_context(booking, [reservation]),
        "by_staff": by_staff,
        "refund_amount": format_amount(refund.amount, refund.line.payment.currency, reservation.language)
        if refund is not None
        else "",
    }
    payer = _is_payer(booking, reservation.parker)
    if credit_note is not None:
        pdf = _document_attachment(credit_note)  # rendered before the transaction below
    with transaction.atomic():
        if credit_note is not None and payer:
            attachments.append(pdf)
            context.update(document=credit_note, document_url=document_url(booking, credit_note))
        emails = [
            email_queue(
                to=[reservation.parker.email],
                template="booking/email/cancelled",
                context=context,
                language=reservation.language,
                kind="booking.cancellation",
                organisation=booking.portal.organisation,
                sender_name=booking.portal.organisation.name,
                attachments=attachments,
                obj=booking,
                send_after_commit=False,  # the notice's task sends it (notices.py)
            )
        ]
        if credit_note is not None and not payer:
            # Another visitor's spot: the credit note goes to the person who paid, in the booking's language.
            emails.append(
                email_queue(
                    to=[booking.booker_email],
                    template="booking/email/credit_note",
                    context={
                        **_mail_context(booking, [reservation]),
                        "cancelled_name": reservation.parker.first_name,
                        "refund_amount": format_amount(
                            refund.amount, refund.line.payment.currency, booking.language
                        )
                        if refund is not None
                        else "",
                        "document": credit_note,
                        "document_url": document_url(booking, credit_note),
                    },
                    language=booking.language,
                    kind="booking.credit_note",
                    organisation=booking.portal.organisation,
                    sender_name=booking.portal.organisation.name,
                    attachments=[pdf],
                    obj=booking,
                    send_after_commit=False,  # the notice's task sends it (notices.py)
                )
            )
    return emails


def reservation_cancel_by_visitor(*, reservation: Reservation) -> bool:
    """The visitor cancels their own reservation (from their e-mail). Refused once it has started.

    Returns False when it was already cancelled (twice is harmless: no second e-mail).
    """
    return _cancel(reservation=reservation, actor=None, actor_label="visitor", allow_started=False)


def reservation_cancel_by_staff(
    *, reservation: Reservation, actor: User | None, now: datetime | None = None
) -> bool:
    """Staff cancel any visitor reservation, also one in progress (its credentials die at once).

    An ended reservation has nothing left to cancel and is refused.
    """
    now = now or timezone.now()
    if reservation.status == ReservationStatus.CONFIRMED and reservation.end <= now:
        raise ReservationError(_("This reservation has already ended."))
    return _cancel(reservation=reservation, actor=actor, actor_label="", allow_started=True)


def booking_links_request(*, portal: VisitorPortal, email: str, language: str) -> None:
    """Look the address up and send its links in a background task, after commit.

    The page answers in the same time whether or not the address is known (no timing oracle).
    """
    portal_id = portal.pk
    transaction.on_commit(lambda: booking_links_send_task.enqueue(portal_id, email, language))


@task()
def booking_links_send_task(portal_id: int, email: str, language: str) -> None:
    portal = VisitorPortal.objects.select_related("organisation", "lot").filter(pk=portal_id).first()
    if portal is not None:
        booking_links_send(portal=portal, email=email, language=language)


def booking_links_send(
    *, portal: VisitorPortal, email: str, language: str, now: datetime | None = None
) -> int:
    """Send a visitor their links again, only to the address they typed. Returns how many reservations.

    Nothing is sent when the address has no upcoming reservation on this portal; the caller shows
    the same answer either way.
    """
    reservations = selectors.upcoming_reservations_for_email(portal=portal, email=email, now=now)
    if not reservations:
        return 0
    with transaction.atomic():
        email_queue(
            to=[reservations[0].parker.email],
            template="booking/email/links",
            context={
                "portal": portal,
                "organisation": portal.organisation,
                "lot": portal.lot,
                "ways_in": access_selectors.ways_in(portal.lot),
                "brand_colour": brand_background(portal.brand_colour).lstrip("#"),
                "items": [{"reservation": r, **_links(r, portal)} for r in reservations],
            },
            language=language,
            kind="booking.links",
            organisation=portal.organisation,
            sender_name=portal.organisation.name,
            obj=portal,
        )
        audit_log(
            action="booking.links.sent",
            organisation=portal.organisation,
            actor_label="visitor",
            obj=portal,
            data={"reservations": [r.pk for r in reservations]},
        )
    return len(reservations)


def booking_email_resend(*, email: OutboundEmail, booking: Booking, actor: User | None) -> OutboundEmail:
    """Send a stored booking e-mail again, as a new message (the failed one stays for the record)."""
    with transaction.atomic():
        copy = OutboundEmail.objects.create(
            organisation=email.organisation,
            kind=email.kind,
            to=email.to,
            from_email=email.from_email,
            reply_to=email.reply_to,
            subject=email.subject,
            body_text=email.body_text,
            body_html=email.body_html,
            attachments=email.attachments,
            language=email.language,
            object_type=email.object_type,
            object_id=email.object_id,
            status=OutboundEmailStatus.QUEUED,
        )
        audit_log(
            action="booking.email.resent",
            organisation=booking.portal.organisation,
            actor=actor,
            obj=booking,
            data={"email": str(email.pk), "copy": str(copy.pk)},
        )
        copy_pk = str(copy.pk)
        transaction.on_commit(lambda: email_send_task.enqueue(copy_pk))
    return copy


def booking_notify_paid_too_late(*, booking: Booking) -> BookingNotice:
    """Owe the payer the news that their payment came after their spots went to someone else (not
    booked, refunded in full), with the receipt or invoice and the credit notes. Call in the
    payment's transaction, after the refunds are requested."""
    return notice_add(booking=booking, kind=BookingNoticeKind.PAID_TOO_LATE)


def paid_too_late_email_write(*, booking: Booking) -> list[OutboundEmail]:
    """The one e-mail to the person who paid, in the booking's language, with every document."""
    payment = Payment.objects.get(booking=booking)
    documents = list(payment_documents(payment))
    # Rendered here, after the commit and outside the transaction below (WeasyPrint takes a moment).
    attachments = [_document_attachment(document) for document in documents]
    reservations = list(selectors.booking_reservations(booking))
    refunded = sum(-d.total for d in documents if d.kind == BillingDocumentKind.CREDIT_NOTE)
    with transaction.atomic():
        email = email_queue(
            to=[booking.booker_email],
            template="booking/email/paid_too_late",
            context={
                **_mail_context(booking, reservations),
                "refund_amount": format_amount(refunded, payment.currency, booking.language),
            },
            language=booking.language,
            kind="booking.paid_too_late",
            organisation=booking.portal.organisation,
            sender_name=booking.portal.organisation.name,
            reply_to=[booking.portal.organisation.email] if booking.portal.organisation.email else [],
            attachments=attachments,
            obj=booking,
        )
    return [email]


def booking_notify_refund_failed(
    *, booking: Booking, refund: Refund, debit_note: BillingDocument | None
) -> BookingNotice:
    """Owe the payer the news that a refund they were promised did not go through. Call in the
    transaction that records the failure (``payments.signals.refund_failed``), with the debit note
    it issued (None when the refund had no credit note to cancel)."""
    return notice_add(
        booking=booking,
        kind=BookingNoticeKind.REFUND_FAILED,
        reservation=refund.line.reservation,
        context={"refund": refund.pk, "debit_note": debit_note.pk if debit_note is not None else None},
    )


def refund_failed_email_write(
    *, booking: Booking, refund_id: int, debit_note_id: int | None
) -> list[OutboundEmail]:
    """The one e-mail to the person who paid: the refund failed, the debit note that cancels its
    credit note attached, and the organisation to reply to (it pays them back another way)."""
    refund = Refund.objects.select_related("line__payment", "line__reservation__parker").get(pk=refund_id)
    reservation = refund.line.reservation
    debit_note = (
        BillingDocument.objects.select_related("corrects").get(pk=debit_note_id)
        if debit_note_id is not None
        else None
    )
    credit_note = debit_note.corrects if debit_note is not None else None
    # Rendered here, before the transaction below (WeasyPrint takes a moment).
    attachments = [_document_attachment(debit_note)] if debit_note is not None else []
    organisation = booking.portal.organisation
    with transaction.atomic():
        email = email_queue(
            to=[booking.booker_email],
            template="booking/email/refund_failed",
            context={
                **_mail_context(booking, [reservation]),
                "cancelled_name": reservation.parker.first_name,
                "refund_amount": format_amount(refund.amount, refund.line.payment.currency, booking.language),
                "credit_note": credit_note,
                "document": debit_note,
                "document_url": document_url(booking, debit_note) if debit_note is not None else "",
            },
            language=booking.language,
            kind="booking.refund_failed",
            organisation=organisation,
            sender_name=organisation.name,
            reply_to=[organisation.email] if organisation.email else [],
            attachments=attachments,
            obj=booking,
            send_after_commit=False,  # the notice's task sends it (notices.py)
        )
    return [email]


@notice_writer(BookingNoticeKind.REFUND_FAILED)
def _refund_failed_notice_write(notice: BookingNotice) -> list[OutboundEmail]:
    return refund_failed_email_write(
        booking=notice.booking,
        refund_id=int(notice.context["refund"]),
        debit_note_id=notice.context.get("debit_note"),
    )


@notice_writer(BookingNoticeKind.PAID_TOO_LATE)
def _paid_too_late_notice_write(notice: BookingNotice) -> list[OutboundEmail]:
    return paid_too_late_email_write(booking=notice.booking)


@notice_writer(BookingNoticeKind.CONFIRMATION)
def _confirmation_notice_write(notice: BookingNotice) -> list[OutboundEmail]:
    return confirmation_emails_write(booking=notice.booking)


@notice_writer(BookingNoticeKind.CANCELLATION)
def _cancellation_notice_write(notice: BookingNotice) -> list[OutboundEmail]:
    if notice.reservation is None:
        raise ValueError("a cancellation notice needs its reservation")
    return cancellation_emails_write(
        booking=notice.booking,
        reservation=notice.reservation,
        by_staff=bool(notice.context.get("by_staff")),
    )
