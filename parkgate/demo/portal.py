"""Demo: Acme's visitor portal on the demo lot, with a logo, a banner and a few invitations."""

from __future__ import annotations

import io
from datetime import date, timedelta

from django.utils import timezone
from PIL import Image, ImageDraw

from parkgate.demo.base import DemoContext
from parkgate.parking.models import AccessPolicy, PolicyKind
from parkgate.portal.models import Invitation, VisitorPortal
from parkgate.portal.selectors import invitation_url
from parkgate.portal.services import SlotSpec, invitation_create, portal_save
from parkgate.portal.uploads import BANNER, LOGO, clean_image

SLUG = "acme-visitors"


def _png(width: int, height: int, draw_on: str) -> bytes:
    image = Image.new("RGB", (width, height), "#ffffff")
    draw = ImageDraw.Draw(image)
    if draw_on == "logo":
        draw.rounded_rectangle((10, 20, 190, 100), radius=18, fill="#1f4e79")
        draw.ellipse((28, 38, 72, 82), fill="#ffbf47")
        draw.text((86, 50), "ACME", fill="#ffffff", font_size=26)
    else:
        for y in range(height):  # a sky-to-asphalt gradient
            shade = int(200 - 140 * y / height)
            draw.line((0, y, width, y), fill=(shade // 2, int(shade / 1.6), shade))
        for x in range(80, width, 160):
            draw.rectangle((x, 520, x + 80, 540), fill="#f3f5f8")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _next_weekday(today: date, weekday: int) -> date:
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


def load(ctx: DemoContext) -> None:
    portal = VisitorPortal.objects.filter(slug=SLUG).first()
    admin = ctx.users["organisation admin"]
    if portal is None:
        portal = portal_save(
            portal=VisitorPortal(
                organisation=ctx.acme,
                lot=ctx.lot,
                name="Acme visitors",
                slug=SLUG,
                languages=["en", "fr", "nl"],
                default_language="en",
                brand_colour="1F4E79",
                max_spots_per_booking=4,
                allow_slots=True,
                allow_custom_time=True,
            ),
            policies=[ctx.visitor_policy],
            slots=[SlotSpec(9 * 60, 4 * 60), SlotSpec(13 * 60, 4 * 60)],
            logo=clean_image(io.BytesIO(_png(200, 120, "logo")), name="logo.png", rule=LOGO),
            banner=clean_image(io.BytesIO(_png(1280, 647, "banner")), name="banner.png", rule=BANNER),
            actor=admin,
        )
        today = timezone.now().astimezone(ctx.lot.zone).date()
        monday = _next_weekday(today, 0)
        invitation_create(
            portal=portal,
            language="fr",
            visitor_name="Camille Durand",
            visitor_email="camille.durand@example.com",
            date_from=monday,
            date_until=monday + timedelta(days=4),
            message="Au plaisir de vous accueillir lundi ou plus tard dans la semaine.",
            actor=admin,
        )
        invitation_create(
            portal=portal,
            language="nl",
            visitor_name="Jan Peeters",
            visitor_email="jan.peeters@example.com",
            date_from=_next_weekday(today, 2),
            date_until=_next_weekday(today, 2),
            max_bookings=1,
            actor=admin,
        )
        invitation_create(portal=portal, language="en", message="Welcome to Acme!", actor=admin)
        dated = VisitorPortal.objects.filter(slug="acme-board-meeting").first()
        if dated is None:
            dated = portal_save(
                portal=VisitorPortal(
                    organisation=ctx.acme,
                    lot=ctx.lot,
                    name="Acme board meeting",
                    slug="acme-board-meeting",
                    date_restricted=True,
                    languages=["en"],
                    default_language="en",
                    brand_colour="8A1538",
                    max_spots_per_booking=1,
                    allow_slots=True,
                    allow_custom_time=False,
                ),
                policies=[ctx.visitor_policy],
                slots=[SlotSpec(9 * 60, 4 * 60)],
                actor=admin,
            )
            invitation_create(
                portal=dated,
                language="en",
                date=_next_weekday(today, 3),
                visitor_name="Board member",
                actor=admin,
            )
    if not VisitorPortal.objects.filter(slug="garage-visitors").exists():
        garage_visitors = AccessPolicy.objects.filter(
            organisation=ctx.owner, lot=ctx.lot, kind=PolicyKind.VISITOR
        ).first()
        if garage_visitors is not None:
            # A paid portal: its organisation's payments wait for a platform staff member.
            portal_save(
                portal=VisitorPortal(
                    organisation=ctx.owner,
                    lot=ctx.lot,
                    name="Garage visitors",
                    slug="garage-visitors",
                    payment_enabled=True,
                    languages=["fr", "nl", "en"],
                    default_language="fr",
                    brand_colour="1E6B3A",
                    max_spots_per_booking=2,
                    allow_slots=True,
                    allow_custom_time=False,
                ),
                policies=[garage_visitors],
                slots=[SlotSpec(8 * 60, 5 * 60, price=800), SlotSpec(13 * 60, 5 * 60, price=800)],
                actor=ctx.users["parking owner"],
            )
    ctx.links.append(("Visitor portals (admin)", "/portals/"))
    ctx.links.append(("Payment approvals and fees (staff)", "/platform/payments/"))
    for invitation in Invitation.objects.filter(portal__organisation=ctx.acme).select_related("portal"):
        label = f"Invitation: {invitation.visitor_name or 'open'}"
        ctx.links.append((label, invitation_url(invitation).removeprefix(_site_url())))


def _site_url() -> str:
    from django.conf import settings

    return str(settings.SITE_URL)
