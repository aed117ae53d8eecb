"""Demo: a few shared "flex" spots at the demo lot that Acme members book day by day (/me/)."""

from __future__ import annotations

from parkgate.demo.base import WEEKDAYS, DemoContext
from parkgate.parking.models import AccessPolicy, Parker, PolicyKind
from parkgate.parking.services import WindowSpec, policy_save

FLEX_POLICY = "Acme flex spots"
FLEX_MEMBERS = ["sophie.martin@acme.example", "lucas.peeters@acme.example", "chloe.dubois@acme.example"]


def load(ctx: DemoContext) -> None:
    policy = AccessPolicy.objects.filter(organisation=ctx.acme, lot=ctx.lot, name=FLEX_POLICY).first()
    if policy is None:
        policy = policy_save(
            policy=AccessPolicy(
                organisation=ctx.acme,
                lot=ctx.lot,
                name=FLEX_POLICY,
                kind=PolicyKind.MEMBER,
                spot_cap=2,
                booking_required=True,
            ),
            windows=[WindowSpec(d, 7 * 60, 19 * 60) for d in WEEKDAYS],
            actor=None,
            members=Parker.objects.filter(managed_by=ctx.acme, email__in=FLEX_MEMBERS),
        )
    ctx.links.append(("Members' page (sign in as parker)", "/me/"))
