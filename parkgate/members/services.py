"""Writes of the members' page: book or cancel a day, the waiting list, plates, signed-in devices.

Booking a day goes through the capacity engine (``reservations_create``). The waiting list is
decided under the same lot lock as the capacity rules: a service locks the lot first
(``lots_lock``), gives every free spot of the day to the people waiting, first in line first, and
only then books for the member asking. So a freed spot is never given twice, a member who asks
directly never jumps the queue, and nobody is ever booked past a limit (``reservations_create``
re-checks every limit inside the lock).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import import_module
from typing import Any
from uuid import UUID

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from parkgate.access.capacity import (
    CapacityFull,
    ReservationError,
    ReservationRequest,
    lots_lock,
    reservation_cancel,
    reservations_create,
)
from parkgate.access.models import Reservation, ReservationSource, ReservationStatus
from parkgate.access.selectors import plates_held_by_others
from parkgate.accounts.models import User
from parkgate.core.audit import audit_log
from parkgate.core.mail import email_queue
from parkgate.members.models import SignedInDevice, WaitingListEntry, WaitingStatus
from parkgate.members.selectors import booked_on, day_bounds
from parkgate.parking.models import AccessPolicy, Lot, Parker, Plate, SpotRelease, SpotReleaseStatus
from parkgate.parking.plates import clean_plate, plate_key

# A remembered device stays signed in this long (the members' page is the phone's key).
REMEMBER_SECONDS = 90 * 24 * 3600


Span = tuple[datetime, datetime]


def _day_requests(
    parker: Parker, policy: AccessPolicy, day: date, language: str, span: Span | None = None
) -> list[ReservationRequest]:
    """The reservations of a booking: every open span of the day, or the one time range ``span``."""
    spans = [span] if span is not None else day_bounds(policy, day)
    if not spans:
        raise ReservationError(_("The car park is closed on this day."))
    return [
        ReservationRequest(parker=parker, policy=policy, start=start, end=end, language=language)
        for start, end in spans
    ]


def _overlapping_own(parker: Parker, policy: AccessPolicy, requests: list[ReservationRequest]) -> bool:
    """True when the member already holds a confirmed booking of the policy during one of the requests."""
    query = Q()
    for request in requests:
        query |= Q(start__lt=request.end, end__gt=request.start)
    return Reservation.objects.filter(
        query, parker=parker, policy=policy, status=ReservationStatus.CONFIRMED
    ).exists()


def _promote(*, policy: AccessPolicy, day: date, now: datetime) -> list[WaitingListEntry]:
    """Give the day's free spots to the people waiting, first in line first. Holds the lot lock.

    Each one in line gets a spot when one is free for their whole time (the day, or their range);
    when it is not, they keep their place and the next in line whose time fits is served: a spot
    freed in the morning can go to someone waiting for the morning while the first in line waits
    for the whole day.
    """
    promoted = []
    entries = list(
        WaitingListEntry.objects.select_for_update()
        .filter(policy=policy, day=day, status=WaitingStatus.WAITING)
        .select_related("parker")
        .order_by("created_at", "id")
    )
    for entry in entries:
        try:
            requests = _day_requests(entry.parker, policy, day, entry.language, entry.span)
            if _overlapping_own(entry.parker, policy, requests):
                # They booked that time since (a shared spot, another range): no second spot.
                entry.status = WaitingStatus.LEFT
                entry.save(update_fields=["status"])
                continue
            reservations = reservations_create(
                requests=requests,
                source=ReservationSource.MEMBER_PAGE,
                actor_label="waiting list",
                now=now,
            )
        except CapacityFull:
            continue  # no spot for their time: they keep their place
        except ReservationError:
            # The time is over (or closed now): nobody can get it any more.
            entry.status = WaitingStatus.LAPSED
            entry.save(update_fields=["status"])
            continue
        entry.status = WaitingStatus.PROMOTED
        entry.promoted_at = now
        entry.reservation_group = reservations[0].group_id
        entry.save(update_fields=["status", "promoted_at", "reservation_group"])
        audit_log(
            action="members.waiting.promoted",
            organisation=policy.organisation_id,
            actor_label="waiting list",
            obj=entry,
            data={
                "policy": policy.pk,
                "day": day.isoformat(),
                "parker": entry.parker_id,
                **_span_data(entry.span),
            },
        )
        if entry.parker.email:
            email_queue(
                to=[entry.parker.email],
                template="members/email/spot_given",
                context={
                    "parker": entry.parker,
                    "policy": policy,
                    "lot": policy.lot,
                    "day": day,
                    "reservation": reservations[0],
                    "start": reservations[0].start,
                    "end": reservations[-1].end,
                    "page_path": reverse("members:book", args=[policy.pk]),
                },
                language=entry.language,
                kind="members.spot_given",
                organisation=policy.organisation,
                obj=entry,
            )
        promoted.append(entry)
    return promoted


def _span_data(span: Span | None) -> dict[str, str]:
    if span is None:
        return {}
    return {"start": span[0].isoformat(), "end": span[1].isoformat()}


@dataclass
class DayOutcome:
    """What happened when a member asked for a day: booked, or placed on the waiting list."""

    reservations: list[Reservation] = field(default_factory=list)
    waiting: WaitingListEntry | None = None
    promoted: list[WaitingListEntry] = field(default_factory=list)


def member_day_book(
    *,
    parker: Parker,
    policy: AccessPolicy,
    day: date,
    actor: Any,
    language: str,
    span: Span | None = None,
    wait_if_full: bool = False,
    now: datetime | None = None,
) -> DayOutcome:
    """Book ``day`` for the member (or the time range ``span`` of it, see ``selectors.day_range``);
    when it is full, raise CapacityFull or (``wait_if_full``) join the day's waiting list. People
    already waiting are served first, under the same lock."""
    now = now or timezone.now()
    requests = _day_requests(parker, policy, day, language, span)
    outcome = DayOutcome()
    full = False
    with transaction.atomic():
        lots_lock([policy.lot_id])
        outcome.promoted = _promote(policy=policy, day=day, now=now)
        if _overlapping_own(parker, policy, requests):
            mine = next((entry for entry in outcome.promoted if entry.parker_id == parker.pk), None)
            if mine is not None and mine.reservation_group is not None:
                outcome.reservations = list(
                    Reservation.objects.filter(group_id=mine.reservation_group).order_by("start")
                )
                return outcome
            if span is None:
                raise ReservationError(_("You have already booked this day."))
            raise ReservationError(_("You already have a booking at this time."))
        try:
            outcome.reservations = reservations_create(
                requests=requests,
                source=ReservationSource.MEMBER_PAGE,
                created_by=actor,
                now=now,
            )
        except CapacityFull:
            if not wait_if_full:
                full = True
            else:
                outcome.waiting = _join(
                    parker=parker, policy=policy, day=day, span=span, language=language, now=now
                )
        else:
            # Booked directly: a place on that day's list is no longer needed.
            WaitingListEntry.objects.filter(
                policy=policy, parker=parker, day=day, status=WaitingStatus.WAITING
            ).update(status=WaitingStatus.LEFT)
    if full:
        # Outside the block: the spots given to the people waiting stay given.
        if span is None:
            raise CapacityFull(_("This day is full."))
        raise CapacityFull(_("No spot is free for this whole time."))
    return outcome


def _join(
    *, parker: Parker, policy: AccessPolicy, day: date, span: Span | None, language: str, now: datetime
) -> WaitingListEntry:
    start, end = span if span is not None else (None, None)
    try:
        with transaction.atomic():
            entry = WaitingListEntry.objects.create(
                policy=policy, parker=parker, day=day, start=start, end=end, created_at=now, language=language
            )
    except IntegrityError as error:
        raise ReservationError(_("You are already on the waiting list for this day.")) from error
    audit_log(
        action="members.waiting.joined",
        organisation=policy.organisation_id,
        actor_label=str(parker),
        obj=entry,
        data={"policy": policy.pk, "day": day.isoformat(), "parker": parker.pk, **_span_data(span)},
    )
    return entry


def member_day_cancel(
    *,
    parker: Parker,
    policy: AccessPolicy,
    day: date,
    actor: Any,
    group: UUID | None = None,
    now: datetime | None = None,
) -> list[WaitingListEntry]:
    """Cancel the member's booking ``group`` of ``day`` (all of the day's, without a group); the
    freed spot goes to the first in line whose time it covers, at once.

    Returns the waiting-list entries that got a spot.
    """
    now = now or timezone.now()
    with transaction.atomic():
        reservations = booked_on(parker, policy, day)
        if group is not None:
            reservations = reservations.filter(group_id=group)
        found = list(reservations)
        if not found:
            raise ReservationError(_("You have no booking on this day."))
        for reservation in found:
            reservation_cancel(reservation=reservation, actor=actor, now=now)
        lots_lock([policy.lot_id])
        return _promote(policy=policy, day=day, now=now)


def waiting_lists_serve(*, now: datetime | None = None) -> int:
    """Give spots freed elsewhere (a desk cancellation, an expired hold) to the people waiting.

    A periodic job (``manage.py housekeeping``): each day with someone waiting is served under its
    lot lock; entries of days that are over lapse. Returns how many got a spot.
    """
    now = now or timezone.now()
    promoted = 0
    days = (
        WaitingListEntry.objects.filter(status=WaitingStatus.WAITING)
        .values_list("policy_id", "day")
        .distinct()
        .order_by("policy_id", "day")
    )
    for policy_id, day in list(days):
        policy = AccessPolicy.objects.select_related("lot", "organisation").get(pk=policy_id)
        with transaction.atomic():
            lots_lock([policy.lot_id])
            promoted += len(_promote(policy=policy, day=day, now=now))
    return promoted


def waiting_list_leave(*, parker: Parker, policy: AccessPolicy, day: date) -> bool:
    with transaction.atomic():
        entry = (
            WaitingListEntry.objects.select_for_update()
            .filter(policy=policy, parker=parker, day=day, status=WaitingStatus.WAITING)
            .first()
        )
        if entry is None:
            return False
        entry.status = WaitingStatus.LEFT
        entry.save(update_fields=["status"])
        audit_log(
            action="members.waiting.left",
            organisation=policy.organisation_id,
            actor_label=str(parker),
            obj=entry,
            data={"policy": policy.pk, "day": day.isoformat()},
        )
    return True


# -- Share my spot ---------------------------------------------------------------------------
def spot_share(
    *, parker: Parker, policy: AccessPolicy, day: date, now: datetime | None = None
) -> SpotRelease:
    """The member shares their spot for ``day``: their access stops for that day, a colleague may book it."""
    now = now or timezone.now()
    spans = day_bounds(policy, day)
    if not spans:
        raise ReservationError(_("The car park is closed on this day."))
    if spans[-1][1] <= now:
        raise ReservationError(_("This time is already over."))
    try:
        with transaction.atomic():
            release = SpotRelease.objects.create(policy=policy, parker=parker, day=day, created_at=now)
            audit_log(
                action="members.spot.shared",
                organisation=policy.organisation_id,
                actor_label=str(parker),
                obj=release,
                data={"policy": policy.pk, "day": day.isoformat()},
            )
    except IntegrityError as error:
        raise ReservationError(_("You already shared your spot for this day.")) from error
    return release


def spot_take_back(*, parker: Parker, policy: AccessPolicy, day: date) -> None:
    """Take a shared day back, only while no colleague holds a booking of it (theirs is never cancelled)."""
    with transaction.atomic():
        release = (
            SpotRelease.objects.select_for_update()
            .filter(policy=policy, parker=parker, day=day, status=SpotReleaseStatus.RELEASED)
            .first()
        )
        if release is None:
            raise ReservationError(_("You did not share your spot for this day."))
        if _release_taken(release):
            raise ReservationError(
                _("A colleague booked your spot for this day: it stays theirs. Ask them if you need it back.")
            )
        release.status = SpotReleaseStatus.TAKEN_BACK
        release.save(update_fields=["status"])
        audit_log(
            action="members.spot.taken_back",
            organisation=policy.organisation_id,
            actor_label=str(parker),
            obj=release,
            data={"policy": policy.pk, "day": day.isoformat()},
        )


def _release_taken(release: SpotRelease) -> bool:
    return (
        release.reservation_id is not None
        and Reservation.objects.filter(
            pk=release.reservation_id, status__in=[ReservationStatus.CONFIRMED, ReservationStatus.HELD]
        ).exists()
    )


def shared_spot_book(
    *, release: SpotRelease, parker: Parker, actor: Any, language: str, now: datetime | None = None
) -> list[Reservation]:
    """A colleague books a shared spot for its day (under the owner's policy). One colleague per release."""
    now = now or timezone.now()
    policy = release.policy
    if release.parker_id == parker.pk:
        raise ReservationError(_("This is your own spot."))
    with transaction.atomic():
        lots_lock([policy.lot_id])
        locked = SpotRelease.objects.select_for_update().get(pk=release.pk)
        if locked.status != SpotReleaseStatus.RELEASED:
            raise ReservationError(_("Its owner took this spot back."))
        if _release_taken(locked):
            raise ReservationError(_("A colleague was quicker: this spot is taken."))
        reservations = reservations_create(
            requests=_day_requests(parker, policy, locked.day, language),
            source=ReservationSource.MEMBER_PAGE,
            created_by=actor,
            actor_label="shared spot",
            now=now,
        )
        locked.reservation = reservations[0]
        locked.save(update_fields=["reservation"])
        audit_log(
            action="members.spot.booked",
            organisation=policy.organisation_id,
            actor=actor,
            obj=locked,
            data={"day": locked.day.isoformat(), "owner": locked.parker_id, "parker": parker.pk},
        )
    return reservations


def shared_spot_cancel(
    *, release: SpotRelease, parker: Parker, actor: Any, now: datetime | None = None
) -> None:
    """The colleague gives the shared spot back: it is free for another colleague (or its owner)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            SpotRelease.objects.select_for_update(of=("self",))
            .select_related("reservation")
            .get(pk=release.pk)
        )
        booking = locked.reservation
        if booking is None or booking.parker_id != parker.pk:
            raise ReservationError(_("You have no booking on this day."))
        for reservation in Reservation.objects.filter(group_id=booking.group_id, parker=parker):
            reservation_cancel(reservation=reservation, actor=actor, now=now)
        locked.reservation = None
        locked.save(update_fields=["reservation"])


# -- Plates ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlateAdded:
    plate: Plate
    elsewhere: bool  # the same plate is registered to another parker too


def member_plate_add(*, parker: Parker, text: str, actor: Any) -> PlateAdded:
    """Register a plate for the member (the one plate rule). Raises ValidationError."""
    shown = clean_plate(text)
    key = plate_key(shown)
    with transaction.atomic():
        if parker.plates.filter(key=key).exists():
            raise ValidationError(_("This plate is already yours."))
        plate = Plate.objects.create(parker=parker, text=shown, key=key)
        # Warned, never refused: someone of an organisation at one of the member's car parks has it too.
        lots = Lot.objects.filter(allocations__organisation=parker.managed_by_id).distinct()
        elsewhere = any(plates_held_by_others(lot, {parker.pk: key}) for lot in lots)
        audit_log(
            action="members.plate.added",
            organisation=parker.managed_by_id,
            actor=actor,
            obj=parker,
            data={"plate": plate.text, "elsewhere": elsewhere},
        )
    return PlateAdded(plate, elsewhere)


def member_plate_remove(*, parker: Parker, plate: Plate, actor: Any) -> None:
    if plate.parker_id != parker.pk:
        raise ValueError("not this member's plate")
    with transaction.atomic():
        audit_log(
            action="members.plate.removed",
            organisation=parker.managed_by_id,
            actor=actor,
            obj=parker,
            data={"plate": plate.text},
        )
        plate.delete()


# -- Signed-in devices ----------------------------------------------------------------------
def _session_store(session_key: str | None = None) -> SessionBase:
    engine = import_module(settings.SESSION_ENGINE)
    store: SessionBase = engine.SessionStore(session_key)
    return store


def device_record_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Remember which session a sign-in made (``user_logged_in`` receiver)."""
    if request is None or not hasattr(request, "session"):
        return
    if request.session.session_key is None:
        request.session.save()
    SignedInDevice.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={
            "user": user,
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
            "created_at": timezone.now(),
        },
    )


def device_forget_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Signed out here: this device is no longer signed in (``user_logged_out`` receiver)."""
    if request is None or not hasattr(request, "session") or request.session.session_key is None:
        return
    SignedInDevice.objects.filter(session_key=request.session.session_key).delete()


def device_remember(*, request: HttpRequest, user: User, remember: bool) -> None:
    """Keep this device signed in for weeks (or until the browser closes, when forgotten)."""
    session: SessionBase = request.session
    session.set_expiry(REMEMBER_SECONDS if remember else 0)
    session.save()
    SignedInDevice.objects.update_or_create(
        session_key=session.session_key,
        defaults={
            "user": user,
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
            "created_at": timezone.now(),
            "remembered": remember,
        },
    )


def devices_sign_out_others(*, request: HttpRequest, user: User) -> int:
    """Sign the user out everywhere but here. Returns how many sessions ended.

    Targeted: the sessions are found by key, from the user's device rows and from allauth's list of
    the user's sessions (``allauth.usersessions``, which follows every session the user makes a
    request with: also one signed in before devices were recorded, or whose key changed since, as
    after a password change). Each one is loaded by its key and ended only if it is still this
    user's: nobody else's session is read or touched.
    """
    current = request.session.session_key
    keys = set(
        SignedInDevice.objects.filter(user=user)
        .exclude(session_key=current)
        .values_list("session_key", flat=True)
    )
    keys |= set(
        UserSession.objects.filter(user=user)
        .exclude(session_key=current)
        .values_list("session_key", flat=True)
    )
    ended = 0
    with transaction.atomic():
        for key in sorted(keys):
            store = _session_store(key)
            if store.get(SESSION_KEY) == str(user.pk):
                store.delete(key)
                ended += 1
        SignedInDevice.objects.filter(user=user, session_key__in=keys).delete()
        UserSession.objects.filter(user=user, session_key__in=keys).delete()
        audit_log(
            action="members.devices.signed_out",
            organisation=None,
            actor=user,
            data={"sessions": ended},
        )
    return ended


def devices_forget_stale(*, now: datetime | None = None) -> int:
    """Forget the devices that are no longer signed in (a periodic job, ``manage.py housekeeping``).

    A device row goes when its session is gone or expired (signed out here or from another device,
    or run out), and when the device was not seen for longer than the remember period: that one's
    session is ended too. Returns how many rows were deleted.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=REMEMBER_SECONDS)
    last_seen = UserSession.objects.filter(session_key=OuterRef("session_key")).values("last_seen_at")[:1]
    unseen = list(
        SignedInDevice.objects.annotate(
            seen=Greatest(F("created_at"), Coalesce(Subquery(last_seen), F("created_at")))
        )
        .filter(seen__lt=cutoff)
        .values_list("session_key", flat=True)
    )
    with transaction.atomic():
        for key in unseen:
            _session_store(key).delete(key)
        forgotten, _by_model = SignedInDevice.objects.filter(session_key__in=unseen).delete()
        # Sessions live in the database (SESSION_ENGINE's default, see settings).
        live = Session.objects.filter(expire_date__gt=now).values("session_key")
        gone, _by_model = SignedInDevice.objects.exclude(session_key__in=live).delete()
    return forgotten + gone
