"""Demo data for `make run`: a Brussels car park shared by two organisations, one user per role.

Every loader is idempotent: running the demo again changes nothing. Each app's demo data is a
module ``parkgate/demo/<app>.py`` with a ``load(ctx: DemoContext)`` function, run in DEMO_APPS order.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from allauth.account.models import EmailAddress
from django.db import transaction

from parkgate.accounts.models import Membership, Organisation, Role, User
from parkgate.parking.models import AccessPolicy, Gate, Lot, Parker, PolicyKind
from parkgate.parking.services import WindowSpec, allocation_set, parker_save, policy_save

DEMO_PASSWORD = "parkgate-demo"
# Order matters: the lot's camera and keypad (access) exist before the demo bookings promise them.
DEMO_APPS = [
    "parkgate.demo.base",
    "parkgate.demo.portal",
    "parkgate.demo.access",
    "parkgate.demo.booking",
    "parkgate.demo.payments",
    "parkgate.demo.controlroom",
    "parkgate.demo.members",
]


@dataclass
class DemoContext:
    owner: Organisation
    acme: Organisation
    bluefin: Organisation
    lot: Lot
    users: dict[str, User]
    visitor_policy: AccessPolicy
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, path) printed by `make run`


def _user(username: str, email: str, first: str, last: str, *, superuser: bool = False) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(
            username=username,
            email=email,
            password=DEMO_PASSWORD,
            first_name=first,
            last_name=last,
            is_staff=superuser,
            is_superuser=superuser,
        )
    # Sign-in is by e-mail (allauth): the demo addresses are verified.
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return user


def _org(slug: str, name: str, email: str) -> Organisation:
    org, _created = Organisation.objects.get_or_create(slug=slug, defaults={"name": name, "email": email})
    return org


def _member(user: User, org: Organisation, role: Role) -> None:
    Membership.objects.get_or_create(user=user, organisation=org, defaults={"role": role})


WEEKDAYS = range(0, 5)


def _policy(
    org: Organisation, lot: Lot, name: str, kind: str, cap: int, windows: list[WindowSpec], **extra: Any
) -> AccessPolicy:
    policy = AccessPolicy.objects.filter(organisation=org, lot=lot, name=name).first()
    if policy is None:
        policy = policy_save(
            policy=AccessPolicy(organisation=org, lot=lot, name=name, kind=kind, spot_cap=cap, **extra),
            windows=windows,
            actor=None,
        )
    return policy


def load_core() -> DemoContext:
    owner = _org("brussels-parking", "Brussels Parking Company", "hello@brussels-parking.example")
    acme = _org("acme", "Acme Consulting", "office@acme.example")
    bluefin = _org("bluefin", "Blue Fin Legal", "desk@bluefin.example")
    lot = Lot.objects.filter(owner=owner, name="Brussels Central Garage").first()
    if lot is None:
        lot = Lot.objects.create(
            owner=owner,
            name="Brussels Central Garage",
            address="Rue de la Loi 16, 1000 Brussels",
            timezone="Europe/Brussels",
            total_spots=120,
        )
        # Gate names are words here: each language gets its own (issue 14).
        Gate.objects.create(
            lot=lot,
            name="Entry barrier",
            name_fr="Barrière d'entrée",
            name_nl="Inrijslagboom",
            direction="entry",
            driver_kind="simulated",
        )
        Gate.objects.create(
            lot=lot,
            name="Exit barrier",
            name_fr="Barrière de sortie",
            name_nl="Uitrijslagboom",
            direction="exit",
            driver_kind="simulated",
        )
        allocation_set(lot=lot, organisation=acme, spots=40, accepts_visitors=True, actor=None)
        allocation_set(lot=lot, organisation=bluefin, spots=25, accepts_visitors=False, actor=None)
        allocation_set(lot=lot, organisation=owner, spots=10, accepts_visitors=True, actor=None)

    users = {
        "platform staff": _user("staff", "staff@parkgate.example", "Pat", "Staff", superuser=True),
        "organisation admin": _user("admin", "admin@acme.example", "Ada", "Admin"),
        "parking owner": _user("owner", "owner@brussels-parking.example", "Olivier", "Owner"),
        "receptionist": _user("reception", "reception@brussels-parking.example", "Rita", "Reception"),
        "parker": _user("parker", "sophie.martin@acme.example", "Sophie", "Martin"),
    }
    _member(users["organisation admin"], acme, Role.ADMIN)
    _member(users["parking owner"], owner, Role.OWNER)
    _member(users["receptionist"], owner, Role.RECEPTIONIST)
    _member(users["parker"], acme, Role.PARKER)

    office_hours = [WindowSpec(d, 6 * 60, 21 * 60) for d in WEEKDAYS]
    acme_staff = _policy(acme, lot, "Acme staff", PolicyKind.MEMBER, 40, office_hours)
    bluefin_staff = _policy(
        bluefin,
        lot,
        "Blue Fin staff",
        PolicyKind.MEMBER,
        25,
        [WindowSpec(d, 7 * 60, 20 * 60) for d in range(0, 6)],
    )
    visitor_policy = _policy(
        acme,
        lot,
        "Acme visitors",
        PolicyKind.VISITOR,
        10,
        [WindowSpec(d, 7 * 60, 19 * 60) for d in WEEKDAYS],
        hourly_booking=True,
    )
    _policy(
        owner,
        lot,
        "Garage visitors",
        PolicyKind.VISITOR,
        10,
        [WindowSpec(d, 7 * 60, 19 * 60) for d in WEEKDAYS],
        hourly_booking=True,
    )

    members = [
        (acme, acme_staff, "Sophie", "Martin", "sophie.martin@acme.example", ["1-ABC-123"]),
        (acme, acme_staff, "Lucas", "Peeters", "lucas.peeters@acme.example", ["2-XYZ-987", "1-KLM-456"]),
        (acme, acme_staff, "Chloé", "Dubois", "chloe.dubois@acme.example", ["AB-123-CD"]),
        (acme, acme_staff, "Daan", "de Vries", "daan.devries@acme.example", ["XX-999-X"]),
        (bluefin, bluefin_staff, "Émilie", "Lefèvre", "emilie.lefevre@bluefin.example", ["GH-456-JK"]),
        (bluefin, bluefin_staff, "Sanne", "Jansen", "sanne.jansen@bluefin.example", ["99-XXX-9"]),
        (bluefin, bluefin_staff, "Thomas", "Janssens", "thomas.janssens@bluefin.example", ["1-TOM-001"]),
    ]
    for org, policy, first, last, email, plates in members:
        parker = Parker.objects.filter(managed_by=org, email=email).first()
        if parker is None:
            parker = parker_save(
                parker=Parker(
                    managed_by=org, organisation=org, first_name=first, last_name=last, email=email
                ),
                plates=plates,
                actor=None,
                actor_label="demo",
            )
            policy.members.add(parker)

    ctx = DemoContext(
        owner=owner, acme=acme, bluefin=bluefin, lot=lot, users=users, visitor_policy=visitor_policy
    )
    ctx.links += [
        ("Back office", "/office/"),
        ("Development mail viewer", "/dev/mail/"),
        ("Platform console", "/platform/"),
    ]
    return ctx


def load() -> DemoContext:
    with transaction.atomic():
        ctx = load_core()
        for app in DEMO_APPS[1:]:
            importlib.import_module(app).load(ctx)
    return ctx
