"""Invitations: the form's rules, tokens, QR codes that decode, e-mail, revoke, tracking, CSV, tenancy."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
import zxingcpp
from django.core import mail
from django.urls import reverse
from PIL import Image

from parkgate.booking.models import Booking, BookingStatus
from parkgate.core.models import AuditEvent, OutboundEmail
from parkgate.portal.models import Invitation, VisitorPortal
from parkgate.portal.selectors import (
    InvitationState,
    invitation_allowed_dates,
    invitation_state,
    invitation_url,
    invitations_of,
)
from parkgate.portal.services import invitation_create, invitation_revoke
from tests.portal.helpers import lot_today, next_weekday

pytestmark = pytest.mark.django_db


def new_url(portal: VisitorPortal) -> str:
    return reverse("portal:invitation_create", args=[portal.pk])


def detail_url(invitation: Invitation, name: str = "portal:invitation_detail", **extra: Any) -> str:
    return reverse(name, kwargs={"pk": invitation.portal_id, "invitation_id": invitation.pk, **extra})


def booking(invitation: Invitation, status: str = BookingStatus.CONFIRMED) -> Booking:
    return Booking.objects.create(
        portal=invitation.portal,
        invitation=invitation,
        group_id=uuid.uuid4(),
        reference=uuid.uuid4().hex[:10].upper(),
        language="en",
        booker_email="visitor@example.com",
        spots=1,
        status=status,
    )


def test_admin_creates_an_open_invitation(
    client_for: Any, world: Any, portal: Any, pinned_now: datetime
) -> None:
    response = client_for(world.admin).post(
        new_url(portal),
        {
            "language": "fr",
            "visitor_name": "Camille",
            "visitor_email": "camille@example.com",
            "message": "Bienvenue",
        },
    )
    invitation = Invitation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(invitation)
    assert (invitation.language, invitation.date, invitation.date_from, invitation.date_until) == (
        "fr",
        None,
        None,
        None,
    )
    assert (invitation.visitor_name, invitation.visitor_email, invitation.message) == (
        "Camille",
        "camille@example.com",
        "Bienvenue",
    )
    assert invitation.created_by == world.admin
    assert invitation.sent_at is None and OutboundEmail.objects.count() == 0
    assert (
        AuditEvent.objects.filter(action="portal.invitation.created", object_id=str(invitation.pk)).count()
        == 1
    )
    # No date: it never expires.
    assert (
        invitation_state(invitation, lot_today(pinned_now) + timedelta(days=3650)) == InvitationState.ACTIVE
    )


def test_tokens_are_long_random_and_unrelated_to_ids(world: Any, portal: Any) -> None:
    first = invitation_create(portal=portal, language="en", actor=world.admin)
    second = invitation_create(portal=portal, language="en", actor=world.admin)
    assert len(first.token) >= 43 and len(second.token) >= 43  # 32 bytes of secrets: 256 bits
    assert first.token != second.token
    assert str(first.pk) not in first.token[:3]
    assert invitation_url(first) == f"http://testserver/visit/acme-visitors/{first.token}/"


def test_a_new_invitation_never_invalidates_older_ones(world: Any, portal: Any, pinned_now: datetime) -> None:
    older = invitation_create(portal=portal, language="en", actor=world.admin)
    invitation_create(portal=portal, language="en", actor=world.admin)
    older.refresh_from_db()
    assert invitation_state(older, lot_today(pinned_now)) == InvitationState.ACTIVE


def test_language_must_be_one_of_the_portals(client_for: Any, world: Any, portal: Any) -> None:
    portal.languages = ["en", "nl"]
    portal.save()
    response = client_for(world.admin).post(new_url(portal), {"language": "fr"})
    assert response.status_code == 200
    assert response.context["form"].errors["language"] == [
        "Select a valid choice. fr is not one of the available choices."
    ]
    assert not Invitation.objects.exists()


def test_single_language_portal_uses_that_language_and_says_why(
    client_for: Any, world: Any, portal: Any
) -> None:
    portal.languages = ["nl"]
    portal.default_language = "nl"
    portal.save()
    client = client_for(world.admin)
    page = client.get(new_url(portal)).content.decode()
    assert "This portal speaks only Dutch, so its invitations do too." in page
    client.post(new_url(portal), {"language": "fr"})  # a disabled field ignores what is posted
    assert Invitation.objects.get().language == "nl"


def test_date_restricted_portal_requires_a_date(
    client_for: Any, world: Any, portal: Any, pinned_now: datetime
) -> None:
    portal.date_restricted = True
    portal.save()
    client = client_for(world.admin)
    response = client.post(new_url(portal), {"language": "en"})
    assert response.context["form"].errors["date"] == ["This field is required."]
    yesterday = lot_today(pinned_now) - timedelta(days=1)
    response = client.post(new_url(portal), {"language": "en", "date": yesterday.isoformat()})
    assert response.context["form"].errors["date"] == ["This day has passed: choose today or a later day."]
    sunday = next_weekday(pinned_now, 6)
    response = client.post(new_url(portal), {"language": "en", "date": sunday.isoformat()})
    assert response.context["form"].errors["date"] == [
        f"None of the portal's access policies is open on Sunday {sunday.day} {sunday:%B} {sunday.year}."
    ]
    assert not Invitation.objects.exists()
    monday = next_weekday(pinned_now, 0)
    # A range is not part of a date-restricted portal's form: ignored.
    client.post(new_url(portal), {"language": "en", "date": monday.isoformat(), "date_until": "2020-01-01"})
    invitation = Invitation.objects.get()
    assert (invitation.date, invitation.date_until) == (monday, None)
    assert invitation_state(invitation, monday) == InvitationState.ACTIVE
    assert invitation_state(invitation, monday + timedelta(days=1)) == InvitationState.EXPIRED


def test_unrestricted_portal_has_no_single_date(
    client_for: Any, world: Any, portal: Any, pinned_now: datetime
) -> None:
    client_for(world.admin).post(
        new_url(portal), {"language": "en", "date": next_weekday(pinned_now, 0).isoformat()}
    )
    assert Invitation.objects.get().date is None


def test_date_range_beyond_the_seed(client_for: Any, world: Any, portal: Any, pinned_now: datetime) -> None:
    client = client_for(world.admin)
    monday, friday = (
        next_weekday(pinned_now, 0),
        next_weekday(
            pinned_now, 4, weeks=1 if next_weekday(pinned_now, 4) < next_weekday(pinned_now, 0) else 0
        ),
    )
    response = client.post(
        new_url(portal), {"language": "en", "date_from": friday.isoformat(), "date_until": monday.isoformat()}
    )
    if friday > monday:
        assert response.context["form"].errors["date_until"] == ["The last day comes before the first day."]
    saturday = next_weekday(pinned_now, 5)
    response = client.post(
        new_url(portal),
        {
            "language": "en",
            "date_from": saturday.isoformat(),
            "date_until": (saturday + timedelta(days=1)).isoformat(),
        },
    )
    assert response.context["form"].errors["date_until"] == [
        "None of the portal's access policies is open on any of these days."
    ]
    response = client.post(
        new_url(portal),
        {"language": "en", "date_until": (lot_today(pinned_now) - timedelta(days=1)).isoformat()},
    )
    assert response.context["form"].errors["date_until"] == [
        "This day has passed: choose today or a later day."
    ]
    assert not Invitation.objects.exists()
    client.post(
        new_url(portal),
        {
            "language": "en",
            "date_from": monday.isoformat(),
            "date_until": (monday + timedelta(days=4)).isoformat(),
        },
    )
    invitation = Invitation.objects.get()
    allowed = invitation_allowed_dates(invitation, lot_today(pinned_now))
    assert (allowed.first, allowed.last) == (monday, monday + timedelta(days=4))
    assert allowed.allows(monday + timedelta(days=2)) and not allowed.allows(monday + timedelta(days=5))
    assert not allowed.allows(monday - timedelta(days=1))
    assert invitation_state(invitation, monday + timedelta(days=4)) == InvitationState.ACTIVE
    assert invitation_state(invitation, monday + timedelta(days=5)) == InvitationState.EXPIRED


def test_allowed_dates_never_start_in_the_past(world: Any, portal: Any, pinned_now: datetime) -> None:
    today = lot_today(pinned_now)
    invitation = invitation_create(portal=portal, language="en", actor=world.admin)
    assert invitation_allowed_dates(invitation, today) == type(invitation_allowed_dates(invitation, today))(
        today, None
    )


def test_max_bookings_uses_up_the_invitation(world: Any, portal: Any, pinned_now: datetime) -> None:
    invitation = invitation_create(portal=portal, language="en", max_bookings=2, actor=world.admin)
    today = lot_today(pinned_now)
    booking(invitation)
    booking(invitation, BookingStatus.CANCELLED)  # gives its place back
    assert invitation_state(invitation, today) == InvitationState.ACTIVE
    booking(invitation, BookingStatus.AWAITING_PAYMENT)
    assert invitation_state(invitation, today) == InvitationState.USED_UP


def test_max_bookings_must_be_positive(client_for: Any, world: Any, portal: Any) -> None:
    response = client_for(world.admin).post(new_url(portal), {"language": "en", "max_bookings": "0"})
    assert response.context["form"].errors["max_bookings"] == [
        "Ensure this value is greater than or equal to 1."
    ]
    assert not Invitation.objects.exists()


# --- QR codes ---------------------------------------------------------------------------------


def test_qr_png_decodes_to_the_invitation_url(client_for: Any, world: Any, portal: Any) -> None:
    invitation = invitation_create(portal=portal, language="en", actor=world.admin)
    response = client_for(world.admin).get(
        detail_url(invitation, "portal:invitation_qr", fmt="png") + "?download=1"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'attachment; filename="invitation-{invitation.pk}-qr.png"'
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.content)))
    assert [result.text for result in decoded] == [invitation_url(invitation)]


def test_qr_svg_is_a_safe_svg_of_the_same_code(client_for: Any, world: Any, portal: Any) -> None:
    import segno

    invitation = invitation_create(portal=portal, language="en", actor=world.admin)
    response = client_for(world.admin).get(detail_url(invitation, "portal:invitation_qr", fmt="svg"))
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    body = response.content.decode()
    assert body.startswith("<?xml") and "<svg" in body and "<script" not in body
    # Same symbol as the PNG: segno draws the code as one path; compare with a fresh rendering.
    expected = io.BytesIO()
    segno.make(invitation_url(invitation), error="m", micro=False).save(
        expected, kind="svg", scale=8, border=4, xmldecl=True, svgns=True
    )
    assert response.content == expected.getvalue()
    assert (
        client_for(world.admin).get(detail_url(invitation, "portal:invitation_qr", fmt="gif")).status_code
        == 404
    )


# --- E-mail -----------------------------------------------------------------------------------


def test_send_by_email_in_the_invitations_language_from_the_organisation(
    client_for: Any, world: Any, portal: Any, django_capture_on_commit_callbacks: Any
) -> None:
    world.tenant.email = "office@acme.example"
    world.tenant.save()
    invitation = invitation_create(
        portal=portal, language="fr", visitor_name="Camille", message="À lundi !", actor=world.admin
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.admin).post(
            detail_url(invitation, "portal:invitation_send"), {"to": "camille@example.com", "attach_qr": "on"}
        )
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.sent_to == "camille@example.com" and invitation.sent_at is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["camille@example.com"]
    assert message.from_email.startswith("Acme Consulting <")
    assert message.reply_to == ["office@acme.example"]
    assert message.subject == "Acme Consulting vous invite à réserver votre place de parking"
    assert invitation_url(invitation) in message.body and "À lundi !" in message.body
    html = message.alternatives[0][0]  # type: ignore[index]
    assert invitation_url(invitation) in html and 'src="cid:qr"' in html
    inline = [
        part for part in message.attachments if getattr(part, "get", lambda _k: None)("Content-ID") == "<qr>"
    ]
    assert len(inline) == 1
    assert (
        AuditEvent.objects.filter(action="portal.invitation.sent", object_id=str(invitation.pk)).count() == 1
    )
    page = client_for(world.admin).get(detail_url(invitation))
    assert [(e.to, e.status) for e in page.context["emails"]] == [(["camille@example.com"], "sent")]
    assert "E-mails" in page.content.decode()


def test_send_on_creation_without_qr(
    client_for: Any, world: Any, portal: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.admin).post(
            new_url(portal), {"language": "nl", "visitor_email": "jan@example.com", "send": "on"}
        )
    invitation = Invitation.objects.get()
    assert invitation.sent_to == "jan@example.com"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Acme Consulting nodigt u uit om uw parkeerplaats te reserveren"
    assert mail.outbox[0].attachments == []
    assert "cid:qr" not in mail.outbox[0].alternatives[0][0]  # type: ignore[index]


def test_send_needs_an_address(client_for: Any, world: Any, portal: Any) -> None:
    client = client_for(world.admin)
    response = client.post(new_url(portal), {"language": "en", "send": "on"})
    assert response.context["form"].errors["visitor_email"] == [
        "Give the visitor's e-mail address to send the invitation."
    ]
    invitation = invitation_create(portal=portal, language="en", actor=world.admin)
    response = client.post(detail_url(invitation, "portal:invitation_send"), {"to": "not-an-address"})
    assert response.status_code == 200
    assert response.context["send_form"].errors["to"] == ["Enter a valid email address."]
    assert OutboundEmail.objects.count() == 0


def test_revoked_invitation_cannot_be_sent(client_for: Any, world: Any, portal: Any) -> None:
    invitation = invitation_create(portal=portal, language="en", actor=world.admin)
    invitation_revoke(invitation=invitation, actor=world.admin)
    response = client_for(world.admin).post(
        detail_url(invitation, "portal:invitation_send"), {"to": "a@example.com"}
    )
    assert response.status_code == 200
    assert OutboundEmail.objects.count() == 0


# --- Revoke -----------------------------------------------------------------------------------


def test_revoke(client_for: Any, world: Any, portal: Any, pinned_now: datetime) -> None:
    invitation = invitation_create(portal=portal, language="en", actor=world.admin)
    response = client_for(world.admin).post(detail_url(invitation, "portal:invitation_revoke"))
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_by == world.admin and invitation.revoked_at is not None
    assert invitation_state(invitation, lot_today(pinned_now)) == InvitationState.REVOKED
    client_for(world.admin).post(detail_url(invitation, "portal:invitation_revoke"))  # twice: nothing more
    assert AuditEvent.objects.filter(action="portal.invitation.revoked").count() == 1
    assert client_for(world.admin).get(detail_url(invitation, "portal:invitation_revoke")).status_code == 405


# --- Tracking, filter and CSV -----------------------------------------------------------------


@pytest.fixture
def tracked(world: Any, portal: Any, pinned_now: datetime) -> dict[str, Invitation]:
    today = lot_today(pinned_now)
    active = invitation_create(portal=portal, language="en", visitor_name="Active", actor=world.admin)
    revoked = invitation_create(portal=portal, language="en", visitor_name="Revoked", actor=world.admin)
    invitation_revoke(invitation=revoked, actor=world.admin)
    used = invitation_create(
        portal=portal, language="en", visitor_name="Used", max_bookings=1, actor=world.admin
    )
    booking(used)
    expired = invitation_create(portal=portal, language="en", visitor_name="Expired", actor=world.admin)
    Invitation.objects.filter(pk=expired.pk).update(date_until=today - timedelta(days=1))
    now = pinned_now
    Invitation.objects.filter(pk=active.pk).update(
        first_opened_at=now - timedelta(days=2),
        last_opened_at=now,
        open_count=3,
        sent_to="a@example.com",
        sent_at=now,
    )
    return {"active": active, "revoked": revoked, "used_up": used, "expired": expired}


@pytest.mark.parametrize("state", ["active", "revoked", "used_up", "expired"])
def test_filter_by_status(
    client_for: Any, world: Any, portal: Any, tracked: dict[str, Invitation], state: str
) -> None:
    response = client_for(world.admin).get(reverse("portal:detail", args=[portal.pk]), {"status": state})
    assert [i.pk for i in response.context["page"]] == [tracked[state].pk]
    assert [i.state for i in response.context["page"]] == [state]
    assert [i.pk for i in invitations_of(portal, state=state)] == [tracked[state].pk]


def test_list_shows_tracking(
    client_for: Any, world: Any, portal: Any, tracked: dict[str, Invitation]
) -> None:
    response = client_for(world.admin).get(reverse("portal:detail", args=[portal.pk]))
    assert len(response.context["page"]) == 4
    body = response.content.decode()
    assert "3 times" in body and "a@example.com" in body
    row = next(i for i in response.context["page"] if i.pk == tracked["used_up"].pk)
    assert (row.booking_count, row.counted_booking_count) == (1, 1)


def test_csv_export(client_for: Any, world: Any, portal: Any, tracked: dict[str, Invitation]) -> None:
    Invitation.objects.filter(pk=tracked["active"].pk).update(visitor_name="=HYPERLINK(1)")
    response = client_for(world.admin).get(
        reverse("portal:invitation_export", args=[portal.pk]), {"status": "active"}
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["Created", "Created by", "Status"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Status"] == "Active"
    assert row["Visitor name"] == "'=HYPERLINK(1)"  # never a spreadsheet formula
    assert row["Opens"] == "3" and row["Sent to"] == "a@example.com"
    assert row["Link"] == invitation_url(tracked["active"])


def test_detail_page_shows_link_copy_button_and_qr(client_for: Any, world: Any, portal: Any) -> None:
    invitation = invitation_create(portal=portal, language="en", actor=world.admin)
    body = client_for(world.admin).get(detail_url(invitation)).content.decode()
    assert f'value="{invitation_url(invitation)}"' in body
    assert "data-copy=" in body and "Copy link" in body
    assert detail_url(invitation, "portal:invitation_qr", fmt="png") in body


# --- Tenancy ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["outsider_admin", "outsider_owner", "owner"])
def test_other_organisations_get_404_on_every_invitation_endpoint(
    client_for: Any, world: Any, portal: Any, who: str
) -> None:
    invitation = invitation_create(portal=portal, language="en", actor=world.admin)
    client = client_for(getattr(world, who))
    assert client.post(new_url(portal), {"language": "en"}).status_code == 404
    assert client.get(detail_url(invitation)).status_code == 404
    assert client.get(detail_url(invitation, "portal:invitation_qr", fmt="png")).status_code == 404
    assert (
        client.post(detail_url(invitation, "portal:invitation_send"), {"to": "x@example.com"}).status_code
        == 404
    )
    assert client.post(detail_url(invitation, "portal:invitation_revoke")).status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None and invitation.sent_at is None
    assert Invitation.objects.count() == 1 and OutboundEmail.objects.count() == 0


def test_invitation_of_another_portal_is_404_through_this_portal(
    client_for: Any, world: Any, portal: Any
) -> None:
    other = VisitorPortal.objects.create(
        organisation=world.outsider, lot=world.outsider_lot, name="Other", slug="other"
    )
    foreign = invitation_create(portal=other, language="en", actor=world.outsider_admin)
    url = reverse("portal:invitation_revoke", kwargs={"pk": portal.pk, "invitation_id": foreign.pk})
    assert client_for(world.admin).post(url).status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


@pytest.mark.parametrize("who", ["parker_user", "receptionist"])
def test_wrong_roles_get_403_on_every_invitation_endpoint(
    client_for: Any, world: Any, portal: Any, who: str
) -> None:
    invitation = invitation_create(portal=portal, language="en", actor=world.admin)
    client = client_for(getattr(world, who))
    assert client.post(new_url(portal), {"language": "en"}).status_code == 403
    assert client.get(detail_url(invitation)).status_code == 403
    assert client.get(detail_url(invitation, "portal:invitation_qr", fmt="png")).status_code == 403
    assert (
        client.post(detail_url(invitation, "portal:invitation_send"), {"to": "x@example.com"}).status_code
        == 403
    )
    assert client.post(detail_url(invitation, "portal:invitation_revoke")).status_code == 403
    assert client.get(reverse("portal:invitation_export", args=[portal.pk])).status_code == 403
    invitation.refresh_from_db()
    assert invitation.revoked_at is None and invitation.sent_at is None
    assert Invitation.objects.count() == 1 and OutboundEmail.objects.count() == 0


def test_services_refuse_what_the_forms_refuse(world: Any, portal: Any) -> None:
    from parkgate.portal.services import invitation_send, portal_save

    invitation = invitation_create(portal=portal, language="en", actor=world.admin)
    invitation_revoke(invitation=invitation, actor=world.admin)
    with pytest.raises(ValueError, match="revoked"):
        invitation_send(invitation=invitation, to="a@example.com", attach_qr=False, actor=world.admin)
    with pytest.raises(ValueError, match="not a visitor policy"):
        portal_save(portal=portal, policies=[world.member_policy], slots=[], actor=world.admin)
    assert OutboundEmail.objects.count() == 0
    assert list(portal.policies.all()) == [world.visitor_policy]


def test_dates_outside_the_policies_validity_are_refused(
    client_for: Any, world: Any, portal: Any, pinned_now: datetime
) -> None:
    monday = next_weekday(pinned_now, 0)
    world.visitor_policy.valid_until = monday - timedelta(days=1)
    world.visitor_policy.save()
    portal.date_restricted = True
    portal.save()
    response = client_for(world.admin).post(new_url(portal), {"language": "en", "date": monday.isoformat()})
    assert response.context["form"].errors["date"] == [
        f"None of the portal's access policies is open on Monday {monday.day} {monday:%B} {monday.year}."
    ]
    assert not Invitation.objects.exists()
