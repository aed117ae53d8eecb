"""The booking outbox: e-mails a booking owes, written with the change, rendered after the commit.

``notice_add`` is called INSIDE the transaction that confirms or cancels: the BookingNotice row
commits with the booking or not at all, so a confirmed booking can never lack its confirmation,
whatever happens to the request afterwards (a dropped database connection, a crashed worker). The
request renders nothing: ``booking_notice_task`` (the django-tasks worker; in-process with the
immediate backend) runs after the commit, and ``manage.py housekeeping`` writes whatever is still
pending a minute later. Writing a notice renders its OutboundEmail rows (one per visitor, in their
language) once, under a row lock, then sends them in the same task; the mailer retries failures.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, router, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_tasks import task, task_backends
from django_tasks_db.models import DBTaskResult

from parkgate.booking.models import Booking, BookingNotice, BookingNoticeStatus
from parkgate.core.compiled import compiled_objects
from parkgate.core.mail import email_send

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Housekeeping leaves a fresh notice to the task enqueued at its commit.
GRACE = timedelta(minutes=1)


def notice_add(
    *,
    booking: Booking,
    kind: str,
    reservation: Any | None = None,
    context: dict[str, Any] | None = None,
) -> BookingNotice:
    """Owe an e-mail. Call inside the transaction that makes the change it reports."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("a booking notice is written in the transaction of the change it reports")
    notice = BookingNotice.objects.create(
        booking=booking, kind=kind, reservation=reservation, context=context or {}
    )
    notice_id = notice.pk
    if _queue_is_transactional():
        # The database task queue: the task row commits with the notice, or neither does (no
        # second commit per booking, and no window where the notice waits for housekeeping).
        booking_notice_task.enqueue(notice_id)
    else:
        # robust: a failure to enqueue (the connection dropped after the commit) leaves the notice
        # pending for housekeeping instead of turning a committed booking into an error page.
        transaction.on_commit(lambda: booking_notice_task.enqueue(notice_id), robust=True)
    return notice


def _queue_is_transactional() -> bool:
    """True when tasks are rows of this database (django-tasks-db), written in the caller's transaction.

    Other backends (the immediate one runs the task at once) are enqueued after the commit.
    """
    backend = task_backends[booking_notice_task.backend]
    return (
        type(backend).__module__.startswith("django_tasks_db")
        and router.db_for_write(DBTaskResult) == transaction.get_connection().alias
    )


@task()
def booking_notice_task(notice_id: int) -> None:
    booking_notice_write(notice_id=notice_id)


def _notice_locked(notice_id: int) -> QuerySet[BookingNotice]:
    return (
        BookingNotice.objects.select_for_update(of=("self",))
        # The booking's payment too (none for a free portal: without it here, asking costs the
        # confirmation one query more).
        .select_related(
            "booking__portal__organisation", "booking__portal__lot", "booking__payment", "reservation"
        )
        .filter(pk=notice_id)
    )


def booking_notice_write(*, notice_id: int, now: datetime | None = None) -> BookingNotice:
    """Render a pending notice into its e-mails, once (a second call, or a racing one, does nothing),
    then send them from here, in the same task, once the rows are committed.

    One task per notice instead of one more per e-mail. An e-mail whose send fails is retried by
    the mailer (``email_send``); one never tried (the worker stopped between the commit and the
    send) is still QUEUED and sent by ``email_retry_due``.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            found = compiled_objects("booking_notice", _notice_locked, (-6001,), (notice_id,))
            if not found:
                raise BookingNotice.DoesNotExist(f"no booking notice {notice_id}")
            notice = found[0]
            if notice.status != BookingNoticeStatus.PENDING:
                return notice
            emails = _render(notice)
            notice.emails.add(*emails)  # a pending notice has none: a failed write rolled back whole
            notice.status = BookingNoticeStatus.QUEUED
            notice.written_at = now
            notice.attempts += 1
            notice.last_error = ""
            notice.save(update_fields=["status", "written_at", "attempts", "last_error"])
    except DatabaseError:
        raise  # the database itself failed: the notice stays pending, housekeeping writes it later
    except Exception as error:  # a rendering bug: recorded, retried, then visibly failed
        logger.exception("booking notice %s could not be written", notice_id)
        with transaction.atomic():
            notice = BookingNotice.objects.select_for_update().get(pk=notice_id)
            if notice.status == BookingNoticeStatus.PENDING:
                notice.attempts += 1
                notice.last_error = f"{type(error).__name__}: {error}"[:2000]
                if notice.attempts >= MAX_ATTEMPTS:
                    notice.status = BookingNoticeStatus.FAILED
                notice.save(update_fields=["attempts", "last_error", "status"])
        return notice
    for email in emails:
        email_send(email_id=str(email.pk))
    return notice


Writer = Callable[[BookingNotice], list[Any]]
# kind -> the function that renders a notice of that kind into its e-mails. The booking services
# register theirs (``@notice_writer``), loaded by BookingConfig.ready(), so this module needs no
# import of them.
_WRITERS: dict[str, Writer] = {}


def notice_writer(kind: str) -> Callable[[Writer], Writer]:
    def register(writer: Writer) -> Writer:
        _WRITERS[kind] = writer
        return writer

    return register


def _render(notice: BookingNotice) -> list[Any]:
    writer = _WRITERS.get(notice.kind)
    if writer is None:
        raise ValueError(f"no writer for {notice.kind!r} notices")
    return writer(notice)


def booking_notices_due(*, now: datetime | None = None) -> int:
    """Write every notice still pending after GRACE (housekeeping). Returns how many were tried."""
    now = now or timezone.now()
    due = list(
        BookingNotice.objects.filter(
            status=BookingNoticeStatus.PENDING, created_at__lte=now - GRACE
        ).values_list("pk", flat=True)
    )
    for pk in due:
        booking_notice_write(notice_id=pk, now=now)
    return len(due)
