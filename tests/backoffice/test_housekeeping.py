from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from parkgate.access.models import Reservation, ReservationStatus
from parkgate.backoffice import housekeeping
from parkgate.core.models import AuditEvent
from tests import factories as f


@pytest.mark.django_db
def test_housekeeping_expires_holds_whose_time_ran_out_and_leaves_the_others(world, pinned_now) -> None:  # type: ignore[no-untyped-def]
    now = pinned_now
    ran_out = f.ReservationFactory(
        policy=world.visitor_policy, status=ReservationStatus.HELD, hold_expires_at=now - timedelta(seconds=1)
    )
    still_held = f.ReservationFactory(
        policy=world.visitor_policy, status=ReservationStatus.HELD, hold_expires_at=now + timedelta(minutes=5)
    )
    out = StringIO()
    call_command("housekeeping", stdout=out)
    assert out.getvalue().strip() == (
        "expired holds: 1, empty occupancy counts deleted: 0, booking e-mails written: 0, "
        "e-mails retried: 0, refunds retried: 0, "
        "waiting lists served: 0, signed-in devices forgotten: 0, personal data anonymised: 0, "
        "finished tasks deleted: 0"
    )
    assert Reservation.objects.get(pk=ran_out.pk).status == ReservationStatus.EXPIRED
    assert Reservation.objects.get(pk=still_held.pk).status == ReservationStatus.HELD
    assert (
        AuditEvent.objects.filter(action="access.reservation.expired", object_id=str(ran_out.pk)).count() == 1
    )


@pytest.mark.django_db
def test_a_failing_job_is_logged_and_the_others_still_run(monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    def broken() -> int:
        raise RuntimeError("smtp down")

    ran: list[str] = []
    monkeypatch.setattr(
        housekeeping,
        "JOBS",
        (
            housekeeping.Job("broken", broken),
            housekeeping.Job("fine", lambda: ran.append("fine") or 3),
        ),
    )
    assert housekeeping.housekeeping_run() == {"broken": -1, "fine": 3}
    assert ran == ["fine"]
    assert "housekeeping job 'broken' failed" in caplog.text
