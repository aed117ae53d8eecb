"""Helpers for the site agent tests: a pinned instant, a lot with a booking and a member."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from parkgate.access.models import Camera, Keypad, Reservation
from parkgate.parking.models import Parker
from parkgate.sites.models import SiteAgent
from parkgate.sites.services import site_agent_create
from tests import factories as f

# Wednesday 2 December 2026, 10:00 in Brussels (09:00 UTC): inside the weekday windows of `world`.
NOW = f.aware(2026, 12, 2, 10, 0)
CAMERA_KEY = "site-camera-key-0123456789-abcdefghij"
EXIT_CAMERA_KEY = "site-exit-camera-key-0123456789-abcde"
KEYPAD_KEY = "site-keypad-key-0123456789-abcdefghij"


@dataclass
class Site:
    agent: SiteAgent
    code: str
    camera: Camera
    exit_camera: Camera
    keypad: Keypad
    booking: Reservation
    visitor: Parker
    member: Parker


def make_site(world, *, now: datetime = NOW) -> Site:  # type: ignore[no-untyped-def]
    camera = Camera.objects.create(
        gate=world.entry, name="Entry camera", public_id="site-cam", secret_key=CAMERA_KEY, format="generic"
    )
    exit_camera = Camera.objects.create(
        gate=world.exit,
        name="Exit camera",
        public_id="site-exit-cam",
        secret_key=EXIT_CAMERA_KEY,
        format="generic",
    )
    keypad = Keypad.objects.create(
        gate=world.entry, name="Entry keypad", public_id="site-pad", secret_key=KEYPAD_KEY
    )
    visitor = f.ParkerFactory(managed_by=world.tenant, plates=[])
    booking = f.ReservationFactory(
        parker=visitor,
        policy=world.visitor_policy,
        start=now - timedelta(minutes=30),
        end=now + timedelta(hours=4),
        plate_text="1-VIS-123",
        plate_key="1VIS123",
        keypad_code="482913",
    )
    member = f.ParkerFactory(managed_by=world.tenant, organisation=world.tenant, plates=["2-MEM-456"])
    world.member_policy.members.add(member)
    agent, code = site_agent_create(lot=world.lot, name="Central box", actor=None, now=now)
    return Site(agent, code, camera, exit_camera, keypad, booking, visitor, member)
