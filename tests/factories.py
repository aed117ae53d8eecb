"""factory_boy factories for the domain. Tests build what they need from these."""

from __future__ import annotations

import secrets
from datetime import datetime

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.utils import timezone

from parkgate.access.models import Reservation, ReservationSource, ReservationStatus
from parkgate.accounts.models import Membership, Organisation, Role, User
from parkgate.core.text import fold
from parkgate.parking.models import (
    AccessPolicy,
    Allocation,
    Gate,
    Lot,
    Parker,
    Plate,
    PolicyKind,
    TimetableWindow,
)
from parkgate.parking.plates import plate_key

PASSWORD = "correct-horse-battery-staple"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    email = factory.Sequence(lambda n: f"contact{n}@org.example")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()
            # Sign-in is by e-mail (allauth) and needs a verified address.
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)

    @factory.post_generation
    def totp(self, create: bool, extracted: object, **kwargs: object) -> None:
        """Platform staff must use TOTP: superusers get an authenticator unless ``totp=False``."""
        wanted = self.is_superuser if extracted is None else bool(extracted)
        if create and wanted:
            TOTP.activate(self, generate_totp_secret())


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.ADMIN


class LotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lot

    owner = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Lot {n}")
    address = "Rue de la Loi 16, 1000 Brussels"
    timezone = "Europe/Brussels"
    total_spots = 120


class GateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Gate

    lot = factory.SubFactory(LotFactory)
    name = factory.Sequence(lambda n: f"Gate {n}")
    direction = "entry"
    driver_kind = "simulated"


class AllocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Allocation

    lot = factory.SubFactory(LotFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    spots = 10
    accepts_visitors = True


class AccessPolicyFactory(factory.django.DjangoModelFactory):
    """A policy open every day, all day, unless ``windows`` says otherwise."""

    class Meta:
        model = AccessPolicy
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    lot = factory.SubFactory(LotFactory)
    name = factory.Sequence(lambda n: f"Policy {n}")
    kind = PolicyKind.VISITOR
    spot_cap = 10
    hourly_booking = True

    @factory.post_generation
    def windows(self, create: bool, extracted: list[tuple[int, int, int]] | None, **kwargs: object) -> None:
        if not create:
            return
        spec = extracted if extracted is not None else [(d, 0, 1440) for d in range(7)]
        TimetableWindow.objects.bulk_create(
            TimetableWindow(policy=self, weekday=w, start_minute=s, end_minute=e) for w, s, e in spec
        )


class ParkerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Parker
        skip_postgeneration_save = True

    managed_by = factory.SubFactory(OrganisationFactory)
    organisation = None
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = factory.Sequence(lambda n: f"Last{n}")
    email = factory.Sequence(lambda n: f"parker{n}@example.com")
    search_text = factory.LazyAttribute(lambda p: fold(f"{p.first_name} {p.last_name}"))

    @factory.post_generation
    def plates(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create and extracted:
            for text in extracted:
                Plate.objects.create(parker=self, text=text, key=plate_key(text))


class ReservationFactory(factory.django.DjangoModelFactory):
    """A confirmed reservation written directly (tests of the capacity engine use the service)."""

    class Meta:
        model = Reservation

    parker = factory.SubFactory(ParkerFactory)
    policy = factory.SubFactory(AccessPolicyFactory)
    lot = factory.SelfAttribute("policy.lot")
    organisation = factory.SelfAttribute("policy.organisation")
    start = factory.LazyFunction(timezone.now)
    end = factory.LazyAttribute(lambda r: r.start + (timezone.timedelta(hours=2)))
    status = ReservationStatus.CONFIRMED
    source = ReservationSource.BACK_OFFICE
    remote_control_token = factory.LazyFunction(lambda: secrets.token_urlsafe(24))
    cancel_token = factory.LazyFunction(lambda: secrets.token_urlsafe(24))
    keypad_code = factory.Sequence(lambda n: f"{(n * 7919) % 1_000_000:06d}")


def aware(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, tz: str = "Europe/Brussels"
) -> datetime:
    """An aware datetime in a named zone (the lot's local time in most tests)."""
    import zoneinfo

    return datetime(year, month, day, hour, minute, tzinfo=zoneinfo.ZoneInfo(tz))
