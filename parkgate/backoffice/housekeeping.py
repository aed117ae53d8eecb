"""The periodic jobs of a running Parkgate, in one place.

Each job is idempotent and safe to run from several machines at once (they only move rows forward
and send with the same idempotency keys). Production runs ``manage.py housekeeping --every 60`` as a
service (or ``manage.py housekeeping`` from cron every minute); ``make run`` starts it for the demo.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from parkgate.access.capacity import occupancy_prune, reservations_expire_holds
from parkgate.booking.notices import booking_notices_due
from parkgate.core.mail import email_retry_due
from parkgate.core.taskqueue import task_results_prune
from parkgate.members.services import devices_forget_stale, waiting_lists_serve
from parkgate.payments.refunds import refunds_retry
from parkgate.privacy.retention import retention_job

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], int]


JOBS = (
    # Held spots whose payment never completed stop counting at once; this records them as expired.
    Job("expired holds", lambda: reservations_expire_holds()),
    # Occupancy counts left at 0 by cancellations and the retention, once their times are over.
    Job("empty occupancy counts deleted", lambda: occupancy_prune()),
    # Booking e-mails owed (outbox rows) that their after-commit task did not write.
    Job("booking e-mails written", lambda: booking_notices_due()),
    Job("e-mails retried", lambda: email_retry_due()),
    Job("refunds retried", refunds_retry),
    # Spots freed outside the members' page (a desk cancellation, an expired hold) go to who waits.
    Job("waiting lists served", lambda: waiting_lists_serve()),
    # Devices signed out, expired, or not seen for longer than "remember this device" keeps them.
    Job("signed-in devices forgotten", lambda: devices_forget_stale()),
    # Personal data of visitors, plate reads and sent e-mails anonymised after their retention period.
    Job("personal data anonymised", retention_job),
    # The task queue's finished rows (their arguments, a visitor's address among them).
    Job("finished tasks deleted", lambda: task_results_prune()),
)


def housekeeping_run() -> dict[str, int]:
    """Run every job once; a failing job is logged and does not stop the others."""
    done: dict[str, int] = {}
    for job in JOBS:
        try:
            done[job.name] = job.run()
        except Exception:  # one broken job must not starve the others; the error is logged
            logger.exception("housekeeping job %r failed", job.name)
            done[job.name] = -1
    return done
