"""The demo portal: loads, is idempotent, and its generated images meet the upload rules."""

from __future__ import annotations

import pytest
from PIL import Image

from parkgate.demo.base import load
from parkgate.demo.booking import DEMO_VISITOR_EMAIL
from parkgate.payments.models import PaymentApproval
from parkgate.portal.models import Invitation, VisitorPortal

pytestmark = pytest.mark.django_db


def test_demo_portals_load_once_with_valid_images_and_printed_links() -> None:
    ctx = load()
    load()  # idempotent
    # Three from the portal demo, Acme's paid portal from the payments demo.
    assert VisitorPortal.objects.count() == 4
    # Four from the portal demo, one from the booking demo (the invitation of its demo booking),
    # one from the payments demo (on the paid portal).
    assert Invitation.objects.count() == 6
    assert (
        Invitation.objects.exclude(visitor_email=DEMO_VISITOR_EMAIL)
        .exclude(portal__slug="acme-paid-parking")
        .count()
        == 4
    )
    portal = VisitorPortal.objects.get(slug="acme-visitors")
    assert portal.languages == ["en", "fr", "nl"]
    assert [str(s) for s in portal.slots.all()] == ["09:00-13:00", "13:00-17:00"]
    assert portal.allow_slots and portal.allow_custom_time
    with portal.logo.open("rb") as logo, Image.open(logo) as image:
        assert image.size == (200, 120)
    with portal.banner.open("rb") as banner, Image.open(banner) as image:
        assert image.size == (1280, 647)
    kinds = {
        (i.date is not None, i.date_from is not None, i.date_until is not None)
        for i in Invitation.objects.all()
    }
    assert {(True, False, False), (False, True, True), (False, False, False)} <= kinds  # dated, range, open
    assert PaymentApproval.objects.get(organisation__slug="brussels-parking").status == "pending"
    paths = [path for label, path in ctx.links if label.startswith("Invitation")]
    assert len(paths) == 4 and all(path.startswith("/visit/") for path in paths)
