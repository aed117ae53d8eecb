"""A confirmed booking never lacks its e-mail: the outbox row is written in the booking's transaction.

The confirmation (and a cancellation) is written as a BookingNotice in the SAME transaction as the
booking; a task after commit (or ``manage.py housekeeping``) renders it into the e-mails, which the
mailer sends. So a connection dropped right after the commit (the visitor sees an error page) still
leaves the e-mail on its way, and the visitor can ask for their links again on the portal.
"""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from io import StringIO
from typing import Any

import psycopg
import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from parkgate.access.capacity import CapacityFull
from parkgate.access.models import Reservation, ReservationStatus
from parkgate.booking.models import Booking, BookingNotice, BookingNoticeStatus, BookingStatus
from parkgate.booking.notices import booking_notices_due
from parkgate.booking.services import (
    BookingPlan,
    VisitorDetails,
    booking_submit,
    reservation_cancel_by_visitor,
)
from parkgate.core.mail import email_retry_due
from parkgate.core.models import OutboundEmail, OutboundEmailStatus
from tests.booking.conftest import PortalWorld, booking_post
from tests.booking.factories import InvitationFactory
from tests.conftest import World


def _plan(pw: PortalWorld, spots: int = 1) -> BookingPlan:
    return BookingPlan(days=(pw.monday,), start_minute=9 * 60, end_minute=13 * 60, spots=spots)


def _visitor(n: int) -> VisitorDetails:
    return VisitorDetails("Vera", f"Visitor{n}", f"PLATE{n}", f"vera{n}@example.com")


def _submit(pw: PortalWorld, language: str) -> Any:
    return booking_submit(invitation=pw.invitation, plan=_plan(pw), visitors=[_visitor(1)], language=language)


# --- The outbox row and the transaction -------------------------------------------------------


@pytest.mark.django_db
def test_a_committed_booking_has_its_notice_and_the_email_is_written_after_commit(
    portal_world: PortalWorld, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = booking_submit(
            invitation=portal_world.invitation,
            plan=_plan(portal_world, spots=2),
            visitors=[_visitor(1), _visitor(2)],
            language="fr",
        )
    notice = BookingNotice.objects.get()
    assert (notice.booking, notice.kind, notice.status) == (result.booking, "confirmation", "pending")
    # Nothing is rendered inside the booking's request: no e-mail row until the task runs.
    assert OutboundEmail.objects.count() == 0
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()
    notice.refresh_from_db()
    assert notice.status == BookingNoticeStatus.QUEUED and notice.attempts == 1
    emails = list(notice.emails.order_by("to"))
    assert [(e.to, e.kind, e.language, e.status) for e in emails] == [
        (["vera1@example.com"], "booking.confirmation", "fr", OutboundEmailStatus.SENT),
        (["vera2@example.com"], "booking.confirmation", "fr", OutboundEmailStatus.SENT),
    ]
    assert sorted(m.to[0] for m in mail.outbox) == ["vera1@example.com", "vera2@example.com"]
    # Running it again (the task and housekeeping both picked it up) writes nothing twice.
    assert booking_notices_due(now=timezone.now() + timedelta(hours=1)) == 0
    assert OutboundEmail.objects.count() == 2


@pytest.mark.django_db
def test_a_rolled_back_booking_leaves_no_notice(portal_world: PortalWorld, world: World) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        booking_submit(
            invitation=portal_world.invitation,
            plan=_plan(portal_world),
            visitors=[_visitor(1)],
            language="en",
        )
        assert BookingNotice.objects.count() == 1
        raise RuntimeError("the surrounding transaction fails after the booking")
    assert (Booking.objects.count(), BookingNotice.objects.count(), OutboundEmail.objects.count()) == (
        0,
        0,
        0,
    )
    # A booking refused for capacity writes no notice either.
    world.visitor_policy.spot_cap = 0
    world.visitor_policy.save()
    with pytest.raises(CapacityFull):
        booking_submit(
            invitation=portal_world.invitation,
            plan=_plan(portal_world),
            visitors=[_visitor(1)],
            language="en",
        )
    assert (Booking.objects.count(), BookingNotice.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_a_cancellation_is_written_with_the_cancellation(
    portal_world: PortalWorld, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        result = booking_submit(
            invitation=portal_world.invitation,
            plan=_plan(portal_world),
            visitors=[_visitor(1)],
            language="nl",
        )
    reservation = Reservation.objects.get(group_id=result.booking.group_id)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert reservation_cancel_by_visitor(reservation=reservation) is True
    notice = BookingNotice.objects.get(kind="cancellation")
    assert (notice.reservation, notice.status, notice.context) == (
        reservation,
        "pending",
        {"by_staff": False},
    )
    assert not OutboundEmail.objects.filter(kind="booking.cancellation").exists()
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    [email] = OutboundEmail.objects.filter(kind="booking.cancellation")
    assert (email.to, email.language, email.status) == (["vera1@example.com"], "nl", OutboundEmailStatus.SENT)
    assert list(BookingNotice.objects.get(kind="cancellation").emails.all()) == [email]
    # A second cancellation changes nothing and owes nothing.
    assert reservation_cancel_by_visitor(reservation=reservation) is False
    assert BookingNotice.objects.filter(kind="cancellation").count() == 1


@pytest.mark.django_db
def test_a_notice_that_cannot_be_written_is_retried_then_failed(
    portal_world: PortalWorld, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        result = booking_submit(
            invitation=portal_world.invitation,
            plan=_plan(portal_world),
            visitors=[_visitor(1)],
            language="en",
        )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [], "APP_DIRS": False, "OPTIONS": {}}]
    later = timezone.now() + timedelta(minutes=2)
    for attempt in range(1, 6):
        assert booking_notices_due(now=later + timedelta(hours=attempt)) == 1
        notice = BookingNotice.objects.get(booking=result.booking)
        assert notice.attempts == attempt and "TemplateDoesNotExist" in notice.last_error
    assert notice.status == BookingNoticeStatus.FAILED
    assert OutboundEmail.objects.count() == 0
    assert booking_notices_due(now=later + timedelta(days=1)) == 0


@pytest.mark.django_db
def test_housekeeping_writes_a_booking_email_its_request_could_not(
    portal_world: PortalWorld, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):  # the after-commit task never ran
        booking_submit(
            invitation=portal_world.invitation,
            plan=BookingPlan(days=(portal_world.monday,), start_minute=9 * 60, end_minute=13 * 60, spots=1),
            visitors=[VisitorDetails("Ann", "Lee", "1ABC123", "ann@example.com")],
            language="en",
        )
    assert BookingNotice.objects.get().status == "pending" and mail.outbox == []
    with time_machine.travel(timezone.now() + timedelta(minutes=2), tick=False):
        out = StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("housekeeping", stdout=out)
    assert "booking e-mails written: 1" in out.getvalue()
    assert BookingNotice.objects.get().status == "queued"
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]


@pytest.mark.django_db
def test_staff_see_an_email_not_written_yet_and_other_organisations_do_not(
    portal_world: PortalWorld, world: World, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        booking = _submit(portal_world, "en").booking
    url = reverse("backoffice:booking_detail", args=[booking.pk])
    page = client_for(world.admin).get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Confirmation" in page and "To be written" in page and "No e-mail yet." not in page
    french = client_for(world.admin).get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "À rédiger" in french
    assert client_for(world.outsider_admin).get(url).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        booking_notices_due(now=timezone.now() + timedelta(minutes=2))
    page = client_for(world.admin).get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "To be written" not in page and "vera1@example.com" in page


# --- The fault: database connections dropped while 30 visitors book (PostgreSQL) ---------------


class Killer:
    """Terminates PostgreSQL backends from its own connection (pg_terminate_backend)."""

    def __init__(self) -> None:
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        self.admin = psycopg.connect(**params, autocommit=True)
        self.lock = threading.Lock()
        self.live: set[int] = set()
        self.killed = 0
        self.after_commit = 0

    def kill(self, pid: int) -> None:
        with self.lock:
            self.admin.execute("SELECT pg_terminate_backend(%s)", [pid])
            self.killed += 1

    def kill_after_commit(self, pid: int) -> None:
        self.kill(pid)
        with self.lock:
            self.after_commit += 1

    def close(self) -> None:
        self.admin.close()


def _fault(mode: str, killer: Killer) -> Any:
    """An execute wrapper: drops this thread's connection mid-transaction or right after the commit."""
    state = {"armed": True}

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        pid = context["connection"].connection.info.backend_pid
        with killer.lock:
            killer.live.add(pid)
        if state["armed"] and sql.startswith('INSERT INTO "booking_booking"'):
            state["armed"] = False
            if mode == "after_commit":  # the first thing that happens once the booking is committed
                transaction.on_commit(lambda: killer.kill_after_commit(pid))
            elif mode == "mid_transaction":
                killer.kill(pid)
        return execute(sql, params, many, context)

    return wrapper


def _owed_confirmations() -> list[str]:
    """Confirmed bookings with neither a pending notice nor a confirmation e-mail on its way."""
    missing = []
    for booking in Booking.objects.filter(status=BookingStatus.CONFIRMED):
        pending = BookingNotice.objects.filter(
            booking=booking, kind="confirmation", status=BookingNoticeStatus.PENDING
        ).exists()
        on_its_way = OutboundEmail.objects.filter(
            kind="booking.confirmation",
            object_type="booking.booking",
            object_id=str(booking.pk),
            status__in=[OutboundEmailStatus.QUEUED, OutboundEmailStatus.SENT, OutboundEmailStatus.RETRYING],
        ).exists()
        if not (pending or on_its_way):
            missing.append(booking.reference)
    return missing


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_connections_dropped_while_booking_leave_no_confirmed_booking_without_its_email(
    world: World, portal_world: PortalWorld
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: pg_terminate_backend (CI runs on PostgreSQL)")
    world.visitor_policy.spot_cap = 40
    world.visitor_policy.save()
    visitors = 30
    invitations = [InvitationFactory(portal=portal_world.portal) for _ in range(visitors)]
    modes = ["after_commit", "mid_transaction", "none"]
    killer = Killer()
    barrier = threading.Barrier(visitors + 1)
    statuses: dict[int, int | str] = {}
    stop = threading.Event()
    rng = random.Random(11)

    def visit(i: int) -> None:
        data = booking_post(portal_world)
        data |= {
            "v0-email": f"visitor{i}@example.com",
            "v0-last_name": f"Visitor{i}",
            "v0-plate": f"PL{i:03d}",
        }
        url = reverse("booking:invitation", args=[portal_world.portal.slug, invitations[i].token])
        client = Client(REMOTE_ADDR=f"10.0.1.{i + 1}", raise_request_exception=False)
        try:
            barrier.wait(timeout=30)
            with connection.execute_wrapper(_fault(modes[i % 3], killer)):
                statuses[i] = client.post(url, data).status_code
        except Exception as error:  # a dropped connection surfacing outside the view
            statuses[i] = type(error).__name__
        finally:
            connection.close()

    def random_drops() -> None:
        """Meanwhile, any booking's connection may be dropped at any moment."""
        barrier.wait(timeout=30)
        while not stop.wait(0.05):
            with killer.lock:
                live = sorted(killer.live)
            if live:
                killer.kill(rng.choice(live))

    threads = [threading.Thread(target=visit, args=(i,)) for i in range(visitors)]
    dropper = threading.Thread(target=random_drops)
    for thread in [*threads, dropper]:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    stop.set()
    dropper.join(timeout=10)
    killer.close()

    committed = Booking.objects.filter(status=BookingStatus.CONFIRMED)
    errors_after_commit = [
        b.reference
        for b in committed
        if statuses.get(int(b.booker_email[len("visitor") :].split("@")[0])) != 302
    ]
    # Committed, but the request could not write the e-mail: the connection dropped after the commit.
    unwritten = list(
        BookingNotice.objects.filter(
            booking__in=committed, kind="confirmation", status=BookingNoticeStatus.PENDING
        ).values_list("booking__reference", flat=True)
    )
    print(
        f"\n{visitors} visitors, {killer.killed} connections dropped ({killer.after_commit} right after "
        f"a commit): {committed.count()} bookings committed, {len(errors_after_commit)} of them saw an "
        f"error page, {len(unwritten)} e-mails left to housekeeping, "
        f"{len(_owed_confirmations())} confirmed without a pending or sent confirmation"
    )
    assert committed.count() >= 5 and killer.after_commit >= 1 and unwritten  # the fault hit after commits
    assert _owed_confirmations() == []
    # Housekeeping writes what the dropped requests could not; the mailer sends it.
    booking_notices_due(now=timezone.now() + timedelta(minutes=2))
    email_retry_due(now=timezone.now() + timedelta(minutes=10))
    for booking in committed:
        notice = BookingNotice.objects.get(booking=booking, kind="confirmation")
        assert notice.status == BookingNoticeStatus.QUEUED
        assert [e.status for e in notice.emails.all()] == [OutboundEmailStatus.SENT]
        assert notice.emails.get().to == [booking.booker_email]
    # Every committed visitor got their confirmation, nobody else did. (Sending is at least once: a
    # connection dropped between the SMTP hand-over and the "sent" commit sends that e-mail again.)
    assert {m.to[0] for m in mail.outbox if "confirm" in m.subject.lower()} == {
        b.booker_email for b in committed
    }
    # A visitor who saw the error page gets their links again on the portal, at their own address only.
    victim = Booking.objects.get(reference=(errors_after_commit or unwritten)[0])
    mail.outbox.clear()
    response = Client().post(
        reverse("booking:lost_links", args=[portal_world.portal.slug]), {"email": victim.booker_email}
    )
    assert response.status_code == 200
    [message] = mail.outbox
    assert message.to == [victim.booker_email]
    reservation = Reservation.objects.get(group_id=victim.group_id, status=ReservationStatus.CONFIRMED)
    assert reservation.remote_control_token in message.body


@pytest.mark.django_db
def test_the_notice_task_writes_and_sends_its_emails_itself_no_task_per_email(
    portal_world: PortalWorld, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    from parkgate.booking.notices import booking_notice_task

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    result = booking_submit(
        invitation=portal_world.invitation,
        plan=_plan(portal_world, spots=2),
        visitors=[_visitor(1), _visitor(2)],
        language="nl",
    )
    notice = BookingNotice.objects.get(booking=result.booking)
    assert list(DBTaskResult.objects.values_list("task_path", flat=True)) == [
        "parkgate.booking.notices.booking_notice_task"
    ]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        booking_notice_task.call(notice.pk)  # what the worker runs
    assert callbacks == []  # nothing more enqueued
    assert DBTaskResult.objects.count() == 1
    assert sorted(OutboundEmail.objects.values_list("status", flat=True)) == ["sent", "sent"]
    assert sorted(m.to[0] for m in mail.outbox) == ["vera1@example.com", "vera2@example.com"]


def test_the_notice_is_read_under_its_row_lock(
    portal_world: PortalWorld, django_capture_on_commit_callbacks: Any
) -> None:
    """Two writers of one notice (the task and housekeeping) never both write it: the compiled read
    locks the notice's row, and nothing else."""
    from django.test.utils import CaptureQueriesContext

    from parkgate.booking.notices import booking_notice_write

    with django_capture_on_commit_callbacks(execute=False):
        _submit(portal_world, "en")
    notice = BookingNotice.objects.get()
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        assert booking_notice_write(notice_id=notice.pk).status == BookingNoticeStatus.QUEUED
    (read,) = [q["sql"] for q in queries.captured_queries if 'FROM "booking_bookingnotice"' in q["sql"]]
    assert read.endswith('FOR UPDATE OF "booking_bookingnotice"')
    assert [m.to for m in mail.outbox] == [["vera1@example.com"]]
    assert booking_notice_write(notice_id=notice.pk).status == BookingNoticeStatus.QUEUED  # once only
    assert len(mail.outbox) == 1
