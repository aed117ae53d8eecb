"""Data-subject requests: what an organisation holds about an e-mail address or a plate; export; erase.

Scoped to one organisation: its parkers and visitors, its portals' bookings and invitations, the
access events at its lots and of its parkers, the e-mails sent on its behalf and its audit entries.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core import serializers
from django.db import transaction
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Cast, Replace, Upper
from django.utils import timezone
from django.utils.translation import gettext as _

from parkgate.access.models import AccessEvent, Reservation, ReservationStatus
from parkgate.accounts.models import Organisation
from parkgate.booking.models import Booking
from parkgate.core.audit import audit_log
from parkgate.core.models import AuditEvent, OutboundEmail
from parkgate.parking.models import Parker
from parkgate.parking.plates import plate_key
from parkgate.portal.models import Invitation
from parkgate.privacy import retention


class SubjectRequestRefused(Exception):
    """The request cannot be carried out now; the message says why, in the user's language."""


def _plate_column(field: str) -> Any:
    expression: Any = field
    for separator in (" ", "-", "."):
        expression = Replace(expression, Value(separator), Value(""))
    return Upper(expression)


@dataclass
class SubjectData:
    """Everything one organisation holds about one person, found by e-mail address and/or plate."""

    parkers: QuerySet[Parker]
    reservations: QuerySet[Reservation]
    bookings: QuerySet[Booking]
    invitations: QuerySet[Invitation]
    access_events: QuerySet[AccessEvent]
    emails: QuerySet[OutboundEmail]
    audit_events: QuerySet[AuditEvent]

    def parts(self) -> dict[str, QuerySet[Any]]:
        return {
            "parkers": self.parkers,
            "reservations": self.reservations,
            "bookings": self.bookings,
            "invitations": self.invitations,
            "access_events": self.access_events,
            "emails": self.emails,
            "audit_events": self.audit_events,
        }

    def counts(self) -> dict[str, int]:
        return {name: queryset.count() for name, queryset in self.parts().items()}

    @property
    def is_empty(self) -> bool:
        return not any(self.counts().values())


def _ids_as_text(queryset: QuerySet[Any]) -> QuerySet[Any]:
    return queryset.annotate(text_id=Cast("pk", CharField())).values("text_id")


def subject_find(*, organisation: Organisation, email: str = "", plate: str = "") -> SubjectData:
    email = email.strip()
    key = plate_key(plate) if plate.strip() else ""
    if not email and not key:
        raise ValueError("an e-mail address or a plate")
    parker_match = Q()
    if email:
        parker_match |= Q(email__iexact=email)
    if key:
        parker_match |= Q(plates__key=key)
    parkers = Parker.objects.filter(Q(managed_by=organisation) & parker_match).distinct()
    parker_ids = parkers.values("pk")
    reservation_match = Q(parker_id__in=parker_ids)
    if key:
        reservation_match |= Q(organisation=organisation, plate_key=key)
    reservations = Reservation.objects.filter(reservation_match)
    booking_match = Q(group_id__in=reservations.values("group_id"))
    if email:
        booking_match |= Q(booker_email__iexact=email)
    bookings = Booking.objects.filter(Q(portal__organisation=organisation) & booking_match)
    invitations = Invitation.objects.none()
    if email:
        invitations = Invitation.objects.filter(
            Q(portal__organisation=organisation) & (Q(visitor_email__iexact=email) | Q(sent_to__iexact=email))
        )
    event_match = Q(parker_id__in=parker_ids) | Q(reservation__in=reservations)
    if key:
        event_match |= Q(plate_canonical=key) | Q(plate_hash=retention.plate_hash(key))
    access_events = (
        AccessEvent.objects.annotate(plate_canonical=_plate_column("plate_text"))
        .filter(Q(lot__owner=organisation) | Q(parker__managed_by=organisation))
        .filter(event_match)
    )
    email_match = Q(object_type="access.reservation", object_id__in=_ids_as_text(reservations)) | Q(
        object_type="booking.booking", object_id__in=_ids_as_text(bookings)
    )
    if email:
        email_match |= Q(to__icontains=email)
    emails = OutboundEmail.objects.filter(Q(organisation=organisation) & email_match)
    audit_events = AuditEvent.objects.filter(organisation=organisation).filter(
        Q(object_type="parking.parker", object_id__in=_ids_as_text(parkers))
        | Q(object_type="access.reservation", object_id__in=_ids_as_text(reservations))
        | Q(object_type="booking.booking", object_id__in=_ids_as_text(bookings))
        | Q(object_type="portal.invitation", object_id__in=_ids_as_text(invitations))
    )
    return SubjectData(
        parkers=parkers,
        reservations=reservations,
        bookings=bookings,
        invitations=invitations,
        access_events=access_events,
        emails=emails,
        audit_events=audit_events,
    )


EXPORT_README = """\
What {organisation} holds about {subject}, exported on {when} (UTC).

One JSON file per kind of record, each a list of records with their fields:
parkers (the person and their plates' owner record), reservations (visits and the ways in),
bookings (made on a visitor portal), invitations, access_events (gate attempts and camera reads),
emails (the e-mails sent), audit_events (what staff and the system did about these records).
"""


def subject_export(*, organisation: Organisation, data: SubjectData, subject: str, actor: Any) -> bytes:
    """A ZIP of JSON files with every record found; the export is audited (without the subject)."""
    buffer = io.BytesIO()
    now = timezone.now()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "README.txt",
            EXPORT_README.format(
                organisation=organisation.name, subject=subject, when=f"{now:%Y-%m-%d %H:%M}"
            ),
        )
        for name, queryset in data.parts().items():
            if name == "access_events":
                queryset = AccessEvent.objects.filter(pk__in=queryset.values("pk"))
            if name == "parkers":
                plates = [
                    {"parker": p.pk, "plates": list(p.plates.values_list("text", flat=True))}
                    for p in queryset
                ]
                archive.writestr("plates.json", json.dumps(plates, indent=2, ensure_ascii=False))
            text = serializers.serialize("json", queryset.order_by("pk"), indent=2, ensure_ascii=False)
            archive.writestr(f"{name}.json", text)
    audit_log(
        action="privacy.subject.exported",
        organisation=organisation,
        actor=actor,
        data={"counts": data.counts()},
    )
    return buffer.getvalue()


def subject_erase(
    *, organisation: Organisation, data: SubjectData, actor: Any, now: datetime | None = None
) -> dict[str, int]:
    """Anonymise every record found; refused while the person has a visit that has not ended.

    The audit entry holds counts only, never the e-mail address or plate asked about.
    """
    now = now or timezone.now()
    ongoing = data.reservations.filter(
        end__gt=now, status__in=[ReservationStatus.CONFIRMED, ReservationStatus.HELD]
    ).count()
    if ongoing:
        raise SubjectRequestRefused(
            _(
                "This person has %(count)s reservation(s) that have not ended yet. Cancel them first, "
                "then erase their data."
            )
            % {"count": ongoing}
        )
    with transaction.atomic():
        # Audit entries first: they are found through the records that are about to change.
        counts = {
            "audit_events": retention.anonymise_audit(
                AuditEvent.objects.filter(pk__in=list(data.audit_events.values_list("pk", flat=True)))
            )
        }
        events = AccessEvent.objects.filter(pk__in=list(data.access_events.values_list("pk", flat=True)))
        emails = OutboundEmail.objects.filter(pk__in=list(data.emails.values_list("pk", flat=True)))
        bookings = Booking.objects.filter(pk__in=list(data.bookings.values_list("pk", flat=True)))
        reservations = Reservation.objects.filter(pk__in=list(data.reservations.values_list("pk", flat=True)))
        invitations = Invitation.objects.filter(pk__in=list(data.invitations.values_list("pk", flat=True)))
        parkers = Parker.objects.filter(pk__in=list(data.parkers.values_list("pk", flat=True)))
        counts["access_events"] = retention.anonymise_access_events(events)
        counts["emails"] = retention.anonymise_emails(emails)
        counts["Stripe events"] = retention.anonymise_stripe_events(retention.stripe_events_of(bookings))
        counts["bookings"] = retention.anonymise_bookings(bookings)
        counts["invitations"] = retention.anonymise_invitations(invitations)
        counts["reservations"] = retention.anonymise_reservations(reservations)
        counts["parkers"] = retention.anonymise_parkers(parkers)
        audit_log(
            action="privacy.subject.erased", organisation=organisation, actor=actor, data={"counts": counts}
        )
    return counts


def subject_find_everywhere(*, email: str = "", plate: str = "") -> list[tuple[Organisation, SubjectData]]:
    """Platform staff: every organisation that holds something about this person, with what it holds."""
    found = []
    for organisation in Organisation.objects.order_by("name"):
        data = subject_find(organisation=organisation, email=email, plate=plate)
        if not data.is_empty:
            found.append((organisation, data))
    return found


def subject_export_everywhere(
    *, found: list[tuple[Organisation, SubjectData]], subject: str, actor: Any
) -> bytes:
    """One ZIP holding each organisation's export in a folder named after the organisation."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for organisation, data in found:
            inner = zipfile.ZipFile(
                io.BytesIO(subject_export(organisation=organisation, data=data, subject=subject, actor=actor))
            )
            for name in inner.namelist():
                archive.writestr(f"{organisation.slug}/{name}", inner.read(name))
    return buffer.getvalue()


def subject_erase_everywhere(
    *, found: list[tuple[Organisation, SubjectData]], actor: Any, now: datetime | None = None
) -> dict[str, int]:
    """Erase in every organisation, all or nothing: refused if any of them has a visit still running."""
    totals: dict[str, int] = {}
    with transaction.atomic():
        for organisation, data in found:
            for kind, count in subject_erase(
                organisation=organisation, data=data, actor=actor, now=now
            ).items():
                totals[kind] = totals.get(kind, 0) + count
    return totals
