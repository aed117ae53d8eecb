"""Portal fixtures: uploads land in a temporary media root; a ready portal of the tenant."""

from __future__ import annotations

import pytest

from parkgate.portal.models import VisitorPortal
from parkgate.portal.services import SlotSpec, portal_save


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    # The world's users need no slow password hashing here (these tests never log in by password).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def portal(world):  # type: ignore[no-untyped-def]
    return portal_save(
        portal=VisitorPortal(
            organisation=world.tenant,
            lot=world.lot,
            name="Acme visitors",
            slug="acme-visitors",
            languages=["en", "fr", "nl"],
            default_language="en",
            brand_colour="1F4E79",
        ),
        policies=[world.visitor_policy],
        slots=[SlotSpec(9 * 60, 240), SlotSpec(13 * 60, 240)],
        actor=world.admin,
    )
