"""A lot with a free visitor portal and a plate camera, and helpers that make visits through the product."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse

from parkgate.access.models import Camera
from parkgate.booking.models import Booking
from parkgate.booking.services import BookingPlan, VisitorDetails, booking_submit
from parkgate.portal.models import Invitation, VisitorPortal
from tests.booking.factories import InvitationFactory, VisitorPortalFactory

BRUSSELS = ZoneInfo("Europe/Brussels")
SETUP_AT = datetime(2026, 8, 25, 10, 0, tzinfo=BRUSSELS)
CAMERA_KEY = "privacy-camera-key-0123456789-abcdefghij"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BRUSSELS)


@dataclass
class Visits:
    portal: VisitorPortal
    invitation: Invitation
    camera: Camera

    def book(self, *, day: date, first: str, last: str, plate: str, email: str) -> Booking:
        """Book one visitor 09:00-17:00 on ``day`` through the booking service, at 08:00 two days before."""
        with time_machine.travel(at(day - timedelta(days=2), 8), tick=False):
            result = booking_submit(
                invitation=self.invitation,
                plan=BookingPlan(days=(day,), start_minute=9 * 60, end_minute=17 * 60, spots=1),
                visitors=[VisitorDetails(first_name=first, last_name=last, plate=plate, email=email)],
                language="en",
            )
        return result.booking

    def camera_read(self, client: Client, *, when: datetime, plate: str) -> int:
        """A plate read at the entry camera at ``when``; returns the HTTP status."""
        body = {"plate": plate, "confidence": 0.95, "read_id": f"lane-1-{when:%H%M%S}", "direction": "entry"}
        with time_machine.travel(when, tick=False):
            response = client.post(
                reverse("access:anpr_read", args=[self.camera.public_id]),
                data=json.dumps(body),
                content_type="application/json",
                HTTP_X_PARKGATE_KEY=CAMERA_KEY,
            )
        return response.status_code


@pytest.fixture
def visits(world) -> Visits:  # type: ignore[no-untyped-def]
    with time_machine.travel(SETUP_AT, tick=False):
        return _visits(world)


def _visits(world) -> Visits:  # type: ignore[no-untyped-def]
    portal = VisitorPortalFactory(
        organisation=world.tenant,
        lot=world.lot,
        name="Acme visitors",
        slug="acme",
        policies=[world.visitor_policy],
    )
    camera = Camera.objects.create(
        gate=world.entry, name="Entry camera", public_id="cam-privacy", secret_key=CAMERA_KEY
    )
    return Visits(portal=portal, invitation=InvitationFactory(portal=portal), camera=camera)


def database_dump() -> str:
    """Every row of every table, as text: pg_dump on PostgreSQL, iterdump on SQLite."""
    if connection.vendor == "postgresql":
        settings = connection.settings_dict
        pg_dump = shutil.which("pg_dump") or "/usr/bin/pg_dump"
        command = [pg_dump, "--data-only", "--no-owner", "-h", settings["HOST"] or "127.0.0.1"]
        if settings.get("PORT"):
            command += ["-p", str(settings["PORT"])]
        command += ["-U", settings["USER"] or "postgres", settings["NAME"]]
        env = {"PGPASSWORD": settings.get("PASSWORD") or ""}
        dump = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
        # pg_dump 15.14+ brackets the dump with a random \restrict key: not data, so left out.
        return "\n".join(
            line for line in dump.splitlines() if not line.startswith(("\\restrict", "\\unrestrict"))
        )
    connection.ensure_connection()
    return "\n".join(connection.connection.iterdump())
