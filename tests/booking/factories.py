"""Factories for visitor portals and invitations (the portal app builds its own management screens)."""

from __future__ import annotations

import secrets
from typing import Any

import factory

from parkgate.portal.models import Invitation, PortalSlot, VisitorPortal


class VisitorPortalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VisitorPortal
        skip_postgeneration_save = True

    organisation = factory.SubFactory("tests.factories.OrganisationFactory")
    lot = factory.SubFactory("tests.factories.LotFactory")
    name = factory.Sequence(lambda n: f"Visitors {n}")
    slug = factory.Sequence(lambda n: f"visitors-{n}")
    languages = factory.LazyFunction(lambda: ["en", "fr", "nl"])
    default_language = "en"
    brand_colour = "1F4E79"
    max_spots_per_booking = 3
    allow_slots = True
    allow_custom_time = True

    @factory.post_generation
    def policies(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.policies.set(extracted)

    @factory.post_generation
    def slots(self, create: bool, extracted: list[tuple[int, int]] | None, **kwargs: Any) -> None:
        """``slots=[(9 * 60, 240), (13 * 60, 240)]``: start minute and duration."""
        if not create:
            return
        spec = extracted if extracted is not None else [(9 * 60, 240), (13 * 60, 240)]
        for start, duration in spec:
            PortalSlot.objects.create(portal=self, start_minute=start, duration_minutes=duration)


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    portal = factory.SubFactory(VisitorPortalFactory)
    token = factory.LazyFunction(lambda: secrets.token_urlsafe(24))
    language = "en"
    visitor_name = "Jeanne Dupont"
    visitor_email = "jeanne@example.com"
