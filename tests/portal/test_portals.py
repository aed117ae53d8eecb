"""Creating and editing portals: every rule with good and bad input, tenancy, uploads served safely."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from parkgate.core.models import AuditEvent
from parkgate.parking.models import PolicyKind
from parkgate.payments.models import PaymentAccount, PaymentApproval, PaymentApprovalStatus
from parkgate.payments.selectors import portal_can_take_payments
from parkgate.portal.models import VisitorPortal
from tests import factories as f
from tests.portal.helpers import SVG_OK, jpeg_bytes, png_bytes, png_declaring, svg, upload

pytestmark = pytest.mark.django_db


def portal_data(world: Any, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Visitors of Acme",
        "slug": "",
        "lot": world.lot.pk,
        "is_active": "on",
        "languages": ["en", "fr"],
        "default_language": "fr",
        "brand_colour": "1F4E79",
        "max_spots_per_booking": "3",
        "policies": [world.visitor_policy.pk],
        "time_selection": "slots",
        "slots-TOTAL_FORMS": "2",
        "slots-INITIAL_FORMS": "0",
        "slots-MIN_NUM_FORMS": "0",
        "slots-MAX_NUM_FORMS": "24",
        "slots-0-start": "09:00",
        "slots-0-duration_hours": "4",
        "slots-1-start": "",
        "slots-1-duration_hours": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def create(client_for: Any, world: Any, **overrides: Any) -> Any:
    return client_for(world.admin).post(reverse("portal:create"), portal_data(world, **overrides))


def errors(response: Any, field: str, form: str = "form") -> list[str]:
    return list(response.context[form].errors.get(field, []))


def test_admin_creates_a_portal_with_a_slug_from_its_name(client_for: Any, world: Any) -> None:
    response = create(client_for, world)
    portal = VisitorPortal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:detail", args=[portal.pk])
    assert portal.slug == "visitors-of-acme"
    assert portal.organisation == world.tenant
    assert portal.languages == ["en", "fr"]
    assert portal.default_language == "fr"
    assert portal.max_spots_per_booking == 3
    assert [str(s) for s in portal.slots.all()] == ["09:00-13:00"]
    assert (portal.allow_slots, portal.allow_custom_time) == (True, False)
    assert list(portal.policies.all()) == [world.visitor_policy]
    assert portal.created_by == world.admin
    assert AuditEvent.objects.filter(action="portal.portal.created", object_id=str(portal.pk)).count() == 1


def test_overview_lists_the_portal_with_counts_and_public_address(
    client_for: Any, world: Any, portal: Any
) -> None:
    response = client_for(world.admin).get(reverse("portal:list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme visitors" in body and "http://testserver/visit/acme-visitors/" in body
    listed = response.context["portals"]
    assert [(p.name, p.invitation_count, p.booking_count) for p in listed] == [("Acme visitors", 0, 0)]


def test_slug_must_be_unique(client_for: Any, world: Any, portal: Any) -> None:
    response = create(client_for, world, name="Acme visitors")
    assert response.status_code == 200
    assert errors(response, "slug") == [
        "The address “acme-visitors” is already taken: choose another name or address."
    ]
    assert VisitorPortal.objects.count() == 1


def test_slug_given_explicitly(client_for: Any, world: Any) -> None:
    create(client_for, world, slug="welcome")
    assert VisitorPortal.objects.get().slug == "welcome"
    response = create(client_for, world, slug="not a slug!")
    assert errors(response, "slug") == [
        "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."
    ]


@pytest.mark.parametrize(
    ("languages", "default", "field", "message"),
    [
        ([], "en", "languages", "Choose at least one language."),
        (["en", "de"], "en", "languages", "Select a valid choice. de is not one of the available choices."),
        (
            ["nl"],
            "fr",
            "default_language",
            "The default language must be one of the portal's languages (Dutch).",
        ),
    ],
)
def test_languages_outside_the_rules(
    client_for: Any, world: Any, languages: list[str], default: str, field: str, message: str
) -> None:
    response = create(client_for, world, languages=languages, default_language=default)
    assert errors(response, field) == [message]
    assert not VisitorPortal.objects.exists()


@pytest.mark.parametrize(
    ("colour", "message"),
    [
        ("777777", "White text on this colour is hard to read: contrast 4.4:1; needs 4.5:1."),
        ("E67E22", "White text on this colour is hard to read: contrast 2.8:1; needs 4.5:1."),
        ("FFFFFF", "White text on this colour is hard to read: contrast 1.0:1; needs 4.5:1."),
        ("#1F4E79", "Leave out the “#”: write 1F4E79."),
        ("1F4E7", "Write six hexadecimal digits (0-9, A-F), e.g. 1F4E79."),
        ("GGGGGG", "Write six hexadecimal digits (0-9, A-F), e.g. 1F4E79."),
    ],
)
def test_brand_colour_rules(client_for: Any, world: Any, colour: str, message: str) -> None:
    response = create(client_for, world, brand_colour=colour)
    assert errors(response, "brand_colour") == [message]
    assert not VisitorPortal.objects.exists()


def test_contrast_message_in_french_uses_a_decimal_comma(client_for: Any, world: Any) -> None:
    client = client_for(world.admin)
    response = client.post(
        reverse("portal:create"), portal_data(world, brand_colour="E67E22"), HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert errors(response, "brand_colour") == [
        "Du texte blanc sur cette couleur est difficile à lire : contraste 2,8:1 ; il faut 4,5:1."
    ]


def test_lowest_passing_grey_is_accepted_and_stored_upper_case(client_for: Any, world: Any) -> None:
    create(client_for, world, brand_colour="767676")
    assert VisitorPortal.objects.get().brand_colour == "767676"
    create(client_for, world, name="Second", brand_colour="1f4e79")
    assert VisitorPortal.objects.get(name="Second").brand_colour == "1F4E79"


@pytest.mark.parametrize(("spots", "ok"), [("1", True), ("50", True), ("0", False), ("51", False)])
def test_spots_per_booking(client_for: Any, world: Any, spots: str, ok: bool) -> None:
    response = create(client_for, world, max_spots_per_booking=spots)
    assert VisitorPortal.objects.exists() is ok
    if not ok:
        assert errors(response, "max_spots_per_booking")


def test_policies_must_be_the_organisations_visitor_policies_of_the_lot(client_for: Any, world: Any) -> None:
    response = create(client_for, world, policies=[])
    assert errors(response, "policies") == ["Choose at least one visitor access policy."]
    response = create(client_for, world, policies=[world.member_policy.pk])
    assert errors(response, "policies") == [
        f"Select a valid choice. {world.member_policy.pk} is not one of the available choices."
    ]
    foreign = f.AccessPolicyFactory(
        organisation=world.outsider, lot=world.outsider_lot, kind=PolicyKind.VISITOR
    )
    response = create(client_for, world, policies=[foreign.pk])
    assert errors(response, "policies") == [
        f"Select a valid choice. {foreign.pk} is not one of the available choices."
    ]
    other_lot = f.LotFactory(owner=world.tenant, name="Annex")
    elsewhere = f.AccessPolicyFactory(
        organisation=world.tenant, lot=other_lot, kind=PolicyKind.VISITOR, name="Annex visitors"
    )
    response = create(client_for, world, policies=[world.visitor_policy.pk, elsewhere.pk])
    assert errors(response, "policies") == [
        "“Annex visitors”: not on Central Garage. Choose visitor policies of the portal's lot."
    ]
    assert not VisitorPortal.objects.exists()


def test_lot_must_be_visible_to_the_organisation(client_for: Any, world: Any) -> None:
    response = create(client_for, world, lot=world.outsider_lot.pk)
    assert errors(response, "lot") == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert not VisitorPortal.objects.exists()


@pytest.mark.parametrize(
    ("start", "hours", "message"),
    [
        ("06:00", "4", "06:00-10:00 falls outside the timetable of every chosen policy."),  # opens at 07:00
        ("16:00", "4", "16:00-20:00 falls outside the timetable of every chosen policy."),  # closes at 19:00
        ("22:00", "4", "22:00-02:00 falls outside the timetable of every chosen policy."),
    ],
)
def test_slots_outside_every_policy_timetable_are_refused(
    client_for: Any, world: Any, start: str, hours: str, message: str
) -> None:
    response = create(client_for, world, **{"slots-0-start": start, "slots-0-duration_hours": hours})
    assert response.status_code == 200
    assert response.context["slots"].forms[0].errors["start"] == [message]
    assert not VisitorPortal.objects.exists()


def test_a_slot_fitting_one_of_several_policies_is_accepted(client_for: Any, world: Any) -> None:
    late = f.AccessPolicyFactory(
        organisation=world.tenant,
        lot=world.lot,
        kind=PolicyKind.VISITOR,
        name="Evenings",
        windows=[(5, 16 * 60, 22 * 60)],
    )
    create(
        client_for,
        world,
        policies=[world.visitor_policy.pk, late.pk],
        **{"slots-0-start": "17:00", "slots-0-duration_hours": "4"},
    )
    assert [str(s) for s in VisitorPortal.objects.get().slots.all()] == ["17:00-21:00"]


def test_slot_duration_in_quarter_hours(client_for: Any, world: Any) -> None:
    response = create(client_for, world, **{"slots-0-duration_hours": "1.1"})
    assert response.context["slots"].forms[0].errors["duration_hours"] == [
        "Use quarter hours: 0.25, 0.5, 0.75 or whole hours."
    ]
    create(client_for, world, **{"slots-0-duration_hours": "1.5"})
    assert VisitorPortal.objects.get().slots.get().duration_minutes == 90


def test_time_selection_rules(client_for: Any, world: Any) -> None:
    response = create(client_for, world, **{"slots-0-start": "", "slots-0-duration_hours": ""})
    assert errors(response, "time_selection") == [
        "Add at least one time slot, or choose the custom time picker."
    ]
    world.visitor_policy.hourly_booking = False
    world.visitor_policy.save()
    response = create(client_for, world, time_selection="both")
    assert errors(response, "time_selection") == [
        "The custom time picker needs a chosen policy that allows hourly booking."
    ]
    assert not VisitorPortal.objects.exists()
    world.visitor_policy.hourly_booking = True
    world.visitor_policy.save()
    create(client_for, world, time_selection="custom", **{"slots-0-start": "", "slots-0-duration_hours": ""})
    portal = VisitorPortal.objects.get()
    assert (portal.allow_slots, portal.allow_custom_time, portal.slots.count()) == (False, True, 0)


def test_prices_need_a_paid_portal_and_are_stored_in_minor_units(client_for: Any, world: Any) -> None:
    response = create(client_for, world, **{"slots-0-price": "12.50"})
    assert response.context["slots"].forms[0].errors["price"] == [
        "Prices need “Authorise payment”; leave the price empty."
    ]
    response = create(client_for, world, payment_enabled="on")
    assert response.context["slots"].forms[0].errors["price"] == [
        "Give this slot a price: none of the chosen policies has one."
    ]
    assert not VisitorPortal.objects.exists()
    create(client_for, world, payment_enabled="on", **{"slots-0-price": "12.50"})
    assert VisitorPortal.objects.get().slots.get().price == 1250


def test_paid_portal_may_use_hourly_policy_prices_with_the_custom_picker(client_for: Any, world: Any) -> None:
    response = create(
        client_for, world, payment_enabled="on", time_selection="custom", **{"slots-0-start": ""}
    )
    assert errors(response, "time_selection") == [
        "On a paid portal the custom time picker needs a policy with an hourly or daily price."
    ]
    world.visitor_policy.price_per_hour = 250
    world.visitor_policy.save()
    create(client_for, world, payment_enabled="on", time_selection="both")
    portal = VisitorPortal.objects.get()
    assert portal.payment_enabled and portal.allow_custom_time and portal.slots.get().price is None


# --- Payment approval -------------------------------------------------------------------------


def test_first_paid_portal_waits_for_platform_staff_approval(client_for: Any, world: Any) -> None:
    create(client_for, world, payment_enabled="on", **{"slots-0-price": "5"})
    portal = VisitorPortal.objects.get()
    approval = PaymentApproval.objects.get(organisation=world.tenant)
    assert approval.status == PaymentApprovalStatus.PENDING and approval.requested_by == world.admin
    assert portal_can_take_payments(portal) is False
    assert (
        AuditEvent.objects.filter(action="portal.payment.requested", organisation=world.tenant).count() == 1
    )

    staff = f.UserFactory(is_superuser=True, is_staff=True)
    client = client_for(staff)
    # The old page leads to the platform console, where approving asks for the fees.
    assert client.get(reverse("portal:payment_approvals"))["Location"] == "/platform/payments/"
    PaymentAccount.objects.create(
        organisation=world.tenant, stripe_account_id="acct_tenant", charges_enabled=True
    )
    response = client.post(
        reverse("platform:payment_decide", args=[approval.pk]),
        {
            "decision": "approve",
            f"a{approval.pk}-note": "Stripe OK",
            f"a{approval.pk}-fee_fixed": "0.25",
            f"a{approval.pk}-fee_percent": "1",
        },
    )
    assert response.status_code == 302
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by, approval.note) == (
        PaymentApprovalStatus.APPROVED,
        staff,
        "Stripe OK",
    )
    assert portal_can_take_payments(portal) is True
    event = AuditEvent.objects.get(action="portal.payment.approved")
    assert (event.organisation, event.actor, event.data) == (world.tenant, staff, {"note": "Stripe OK"})

    # A second paid portal needs no new approval.
    create(client_for, world, name="Second", payment_enabled="on", **{"slots-0-price": "5"})
    assert PaymentApproval.objects.count() == 1
    assert AuditEvent.objects.filter(action="portal.payment.requested").count() == 1
    assert portal_can_take_payments(VisitorPortal.objects.get(name="Second")) is True


def test_refused_payments_can_be_asked_again(client_for: Any, world: Any, portal: Any) -> None:
    approval = PaymentApproval.objects.create(
        organisation=world.tenant, status=PaymentApprovalStatus.REFUSED, requested_at=portal.created_at
    )
    create(client_for, world, name="Paid", payment_enabled="on", **{"slots-0-price": "5"})
    approval.refresh_from_db()
    assert (approval.status, approval.requested_by, approval.decided_at) == (
        PaymentApprovalStatus.PENDING,
        world.admin,
        None,
    )
    assert AuditEvent.objects.filter(action="portal.payment.requested").count() == 1
    assert portal_can_take_payments(VisitorPortal.objects.get(name="Paid")) is False


@pytest.mark.parametrize("who", ["admin", "owner", "receptionist", "outsider_admin"])
def test_only_platform_staff_decide_payments(client_for: Any, world: Any, who: str) -> None:
    approval = PaymentApproval.objects.create(organisation=world.tenant, requested_at="2026-01-01T00:00Z")
    client = client_for(getattr(world, who))
    assert client.get(reverse("portal:payment_approvals")).status_code == 403
    response = client.post(reverse("portal:payment_decide", args=[approval.pk]), {"decision": "approve"})
    assert response.status_code == 403
    approval.refresh_from_db()
    assert approval.status == PaymentApprovalStatus.PENDING
    assert not AuditEvent.objects.filter(action__startswith="portal.payment.").exists()


# --- Editing and tenancy ----------------------------------------------------------------------


def test_edit_keeps_slug_and_lot(client_for: Any, world: Any, portal: Any) -> None:
    url = reverse("portal:edit", args=[portal.pk])
    client = client_for(world.admin)
    assert client.get(url).status_code == 200
    response = client.post(url, portal_data(world, name="Renamed", slug="hijack", lot=world.outsider_lot.pk))
    assert response.status_code == 302
    portal.refresh_from_db()
    assert (portal.name, portal.slug, portal.lot) == ("Renamed", "acme-visitors", world.lot)
    assert [str(s) for s in portal.slots.all()] == ["09:00-13:00"]
    assert AuditEvent.objects.filter(action="portal.portal.updated").count() == 1


def test_parking_owner_manages_portals_of_their_own_organisation(client_for: Any, world: Any) -> None:
    garage = f.AccessPolicyFactory(
        organisation=world.owner_org, lot=world.lot, kind=PolicyKind.VISITOR, name="Garage"
    )
    response = client_for(world.owner).post(
        reverse("portal:create"), portal_data(world, policies=[garage.pk])
    )
    assert response.status_code == 302
    assert VisitorPortal.objects.get().organisation == world.owner_org


@pytest.mark.parametrize("who", ["outsider_admin", "outsider_owner", "owner"])
def test_other_organisations_get_404_and_change_nothing(
    client_for: Any, world: Any, portal: Any, who: str
) -> None:
    client = client_for(getattr(world, who))
    for name in ("portal:detail", "portal:edit", "portal:invitation_create", "portal:invitation_export"):
        assert client.get(reverse(name, args=[portal.pk])).status_code == 404, name
    response = client.post(reverse("portal:edit", args=[portal.pk]), portal_data(world, name="Hijacked"))
    assert response.status_code == 404
    portal.refresh_from_db()
    assert portal.name == "Acme visitors"
    assert portal.invitations.count() == 0
    assert response.status_code == 404
    # Their own overview does not list it.
    assert "Acme visitors" not in client.get(reverse("portal:list")).content.decode()


@pytest.mark.parametrize("who", ["parker_user", "receptionist"])
def test_wrong_roles_get_403_and_change_nothing(client_for: Any, world: Any, portal: Any, who: str) -> None:
    client = client_for(getattr(world, who))
    assert client.get(reverse("portal:list")).status_code == 403
    assert client.get(reverse("portal:create")).status_code == 403
    response = client.post(reverse("portal:create"), portal_data(world, name="Sneaky"))
    assert response.status_code == 403
    response = client.post(reverse("portal:edit", args=[portal.pk]), portal_data(world, name="Hijacked"))
    assert response.status_code == 403
    portal.refresh_from_db()
    assert portal.name == "Acme visitors"
    assert VisitorPortal.objects.count() == 1


def test_anonymous_is_sent_to_login(client: Any, portal: Any) -> None:
    response = client.get(reverse("portal:detail", args=[portal.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Uploads through the form, stored and served safely -----------------------------------------


def test_logo_and_banner_are_stored_under_generated_names_and_served_safely(
    client_for: Any, world: Any
) -> None:
    response = create(
        client_for,
        world,
        logo=upload("my logo.png", png_bytes(200, 120)),
        banner=upload("../../etc/banner.jpg", jpeg_bytes(1280, 647)),
    )
    assert response.status_code == 302
    portal = VisitorPortal.objects.get()
    assert portal.logo.name.startswith("portal/logos/") and "my logo" not in portal.logo.name
    assert portal.banner.name.startswith("portal/banners/") and portal.banner.name.endswith(".jpg")
    served = client_for(world.outsider_admin).get(portal.logo_url)  # public: visitors see it
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content).startswith(b"\x89PNG")
    assert client_for(world.admin).get(portal.banner_url)["Content-Type"] == "image/jpeg"


def test_svg_logo_is_served_so_that_it_never_runs_script(client_for: Any, world: Any) -> None:
    create(client_for, world, logo=upload("logo.svg", SVG_OK, "image/svg+xml"))
    portal = VisitorPortal.objects.get()
    served = client_for(world.admin).get(portal.logo_url)
    assert served["Content-Type"] == "image/svg+xml"
    assert served["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    assert served["X-Content-Type-Options"] == "nosniff"


def test_asset_view_only_serves_the_current_upload(client_for: Any, world: Any, portal: Any) -> None:
    client = client_for(world.admin)
    url = reverse("portal:asset", kwargs={"slug": portal.slug, "kind": "logo", "filename": "x.png"})
    assert client.get(url).status_code == 404
    url = reverse("portal:asset", kwargs={"slug": portal.slug, "kind": "secret", "filename": "x.png"})
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("field", "file", "message"),
    [
        (
            "logo",
            upload("logo.svg", png_bytes(200, 120)),
            "The file name ends in “.svg” but the file is in PNG format.",
        ),
        (
            "logo",
            upload("logo.png", jpeg_bytes(200, 120)),
            "This file is in JPEG format; the logo must be PNG or SVG.",
        ),
        (
            "logo",
            upload("logo.png", png_bytes(400, 240)),
            "Wrong size: the logo must be exactly 200×120 pixels; this one is 400×240.",  # noqa: RUF001
        ),
        (
            "logo",
            upload("logo.png", png_declaring(20000, 20000)),
            "This image declares far more pixels than it may have; it is refused.",
        ),
        (
            "logo",
            upload("logo.svg", svg("<script>alert(1)</script>")),
            "This SVG contains <script>, which could run code or load other content; it is refused.",
        ),
        (
            "banner",
            upload("banner.jpg", jpeg_bytes(1280, 647) + b"\0" * 1024 * 1024),
            "This file is larger than 1024 KB; the banner may be at most 1024 KB.",
        ),
        (
            "banner",
            upload("banner.png", jpeg_bytes(1280, 647)),
            "The file name ends in “.png” but the file is in JPEG format.",
        ),
    ],
)
def test_bad_uploads_are_refused_beside_their_field(
    client_for: Any, world: Any, field: str, file: Any, message: str
) -> None:
    response = create(client_for, world, **{field: file})
    assert response.status_code == 200
    assert errors(response, field) == [message]
    assert not VisitorPortal.objects.exists()


def test_replacing_and_removing_uploads(
    client_for: Any, world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.files.storage import default_storage

    create(client_for, world, logo=upload("logo.png", png_bytes(200, 120)))
    portal = VisitorPortal.objects.get()
    first = portal.logo.name
    url = reverse("portal:edit", args=[portal.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.admin).post(
            url, portal_data(world, logo=upload("new.png", png_bytes(200, 120, colour="#000")))
        )
    portal.refresh_from_db()
    assert portal.logo.name != first
    assert not default_storage.exists(first) and default_storage.exists(portal.logo.name)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.admin).post(url, portal_data(world, remove_logo="on"))
    portal.refresh_from_db()
    assert not portal.logo
    assert portal.logo_url == ""


def test_every_broken_rule_is_reported_at_once(client_for: Any, world: Any) -> None:
    response = create(client_for, world, brand_colour="FFFF00", **{"slots-0-start": "05:00"})
    assert errors(response, "brand_colour") == [
        "White text on this colour is hard to read: contrast 1.0:1; needs 4.5:1."
    ]
    assert response.context["slots"].forms[0].errors["start"] == [
        "05:00-09:00 falls outside the timetable of every chosen policy."
    ]
    assert not VisitorPortal.objects.exists()


def test_long_names_give_a_clean_slug(client_for: Any, world: Any) -> None:
    create(client_for, world, name="Visiteurs " + "é" * 70 + " - de la société Acme")
    slug = VisitorPortal.objects.get().slug
    assert len(slug) <= 80 and not slug.endswith("-") and slug.startswith("visiteurs-eeee")


def test_a_slug_taken_during_the_save_is_reported_beside_the_field(
    client_for: Any, world: Any, portal: Any, monkeypatch: Any
) -> None:
    from parkgate.portal.forms import PortalForm

    # Another request created "acme-visitors" after this form checked it: the database decides.
    monkeypatch.setattr(PortalForm, "clean_slug", lambda self: "acme-visitors")
    response = create(client_for, world, name="Another")
    assert response.status_code == 200
    assert errors(response, "slug") == [
        "The address “acme-visitors” is already taken: choose another name or address."
    ]
    assert list(VisitorPortal.objects.values_list("name", flat=True)) == ["Acme visitors"]
    assert AuditEvent.objects.filter(action="portal.portal.created").count() == 1


def test_a_paid_custom_time_portal_ignores_the_default_slot_row(client_for: Any, world: Any) -> None:
    """Issue 14 item 10: the slot rows are hidden with the custom picker; the default row (09:00, 4 h,
    no price, outside this policy's afternoon timetable) must not refuse a paid portal."""
    from parkgate.parking.models import TimetableWindow

    world.visitor_policy.price_per_hour = 250
    world.visitor_policy.save()
    world.visitor_policy.windows.all().delete()
    TimetableWindow.objects.bulk_create(
        TimetableWindow(policy=world.visitor_policy, weekday=d, start_minute=14 * 60, end_minute=18 * 60)
        for d in range(5)
    )
    response = create(client_for, world, payment_enabled="on", time_selection="custom")
    assert response.status_code == 302, response.context["slots"].forms[0].errors
    portal = VisitorPortal.objects.get()
    assert portal.allow_custom_time and not portal.allow_slots


def test_slot_rows_are_optional_and_can_be_added_without_saving(client_for: Any, world: Any) -> None:
    """Issue 14 item 10: an "Add a slot" button (parkgate.js clones the empty row), no required
    asterisk on rows that may stay empty, and a half-typed row is explained."""
    page = client_for(world.admin).get(reverse("portal:create")).content.decode()
    assert 'data-formset-add="slots"' in page and 'name="slots-__prefix__-start"' in page
    rows = page.split('id="slot-rows"', 1)[1].split("</fieldset>", 1)[0]
    assert 'class="required"' not in rows
    response = create(client_for, world, **{"slots-1-price": "", "slots-1-duration_hours": "2"})
    assert response.context["slots"].forms[1].errors["start"] == ["Enter the slot's start time."]
    assert not VisitorPortal.objects.exists()
