"""Data-subject requests in the back office: find, export, erase; per role and per tenant."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date

import pytest
import time_machine
from django.urls import reverse

from parkgate.access.models import AccessEvent, Reservation
from parkgate.booking.models import Booking
from parkgate.core.models import AuditEvent
from parkgate.parking.models import Parker
from parkgate.privacy.models import RetentionPolicy
from tests.privacy.conftest import at

VISIT_DAY = date(2026, 9, 1)
LATER = at(date(2026, 9, 8), 10)
EMAIL = "quentin.vandamme@old.example"


@pytest.fixture
def visited(world, visits, client, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):  # the outbox writes the e-mails after commit
        booking = visits.book(day=VISIT_DAY, first="Quentin", last="Vandamme", plate="1-QVD-777", email=EMAIL)
    assert visits.camera_read(client, when=at(VISIT_DAY, 9, 5), plate="1QVD777") == 200
    client.logout()
    return booking


def _find(client, **query):  # type: ignore[no-untyped-def]
    with time_machine.travel(LATER, tick=False):
        return client.get(reverse("privacy:subject"), query)


def test_an_admin_finds_what_is_held_by_e_mail_and_by_plate(world, visited, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world.admin)
    by_email = _find(client, email=EMAIL.upper())
    by_plate = _find(client, plate="1 qvd 777")

    expected = {
        "parkers": 1,
        "reservations": 1,
        "bookings": 1,
        "invitations": 0,
        "access_events": 1,
        "emails": by_email.context["counts"]["emails"],
        "audit_events": by_email.context["counts"]["audit_events"],
    }
    assert by_email.status_code == 200
    assert by_email.context["counts"] == expected
    assert by_plate.context["counts"] == expected
    assert expected["emails"] >= 1 and expected["audit_events"] >= 1
    assert "Quentin Vandamme" in by_email.content.decode()


def test_the_export_is_a_zip_of_every_record_and_the_audit_keeps_no_personal_data(
    world, visited, client_for
) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world.admin)
    with time_machine.travel(LATER, tick=False):
        response = client.post(reverse("privacy:subject_export"), {"email": EMAIL})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == sorted(
        [
            "README.txt",
            "plates.json",
            "parkers.json",
            "reservations.json",
            "bookings.json",
            "invitations.json",
            "access_events.json",
            "emails.json",
            "audit_events.json",
        ]
    )
    parkers = json.loads(archive.read("parkers.json"))
    assert [(p["fields"]["first_name"], p["fields"]["email"]) for p in parkers] == [("Quentin", EMAIL)]
    assert json.loads(archive.read("plates.json"))[0]["plates"] == ["1-QVD-777"]
    assert json.loads(archive.read("bookings.json"))[0]["fields"]["reference"] == visited.reference
    entry = AuditEvent.objects.get(action="privacy.subject.exported")
    assert entry.actor == world.admin
    assert "vandamme" not in json.dumps(entry.data).lower()


def test_erasing_anonymises_every_record_and_audits_without_the_person(world, visited, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world.admin)
    with time_machine.travel(LATER, tick=False):
        response = client.post(reverse("privacy:subject_erase"), {"email": EMAIL, "confirm": "on"})

    assert response.status_code == 302
    assert _find(client, email=EMAIL).context["counts"]["parkers"] == 0
    assert _find(client, plate="1QVD777").context["data"].is_empty
    assert not Parker.objects.filter(last_name="Vandamme").exists()
    assert Booking.objects.get(pk=visited.pk).booker_email == ""
    assert Reservation.objects.get(group_id=visited.group_id).plate_text == ""
    assert AccessEvent.objects.get(requested_at=at(VISIT_DAY, 9, 5)).plate_text == ""
    entry = AuditEvent.objects.get(action="privacy.subject.erased")
    assert entry.actor == world.admin
    assert entry.data["counts"]["parkers"] == 1
    dump = json.dumps(list(AuditEvent.objects.values()), default=str).lower()
    assert "vandamme" not in dump and "qvd" not in dump


def test_erasing_is_refused_while_a_visit_has_not_ended_and_changes_nothing(
    world, visits, client_for
) -> None:  # type: ignore[no-untyped-def]
    booking = visits.book(day=VISIT_DAY, first="Quentin", last="Vandamme", plate="1-QVD-777", email=EMAIL)
    client = client_for(world.admin)
    with time_machine.travel(at(VISIT_DAY, 12), tick=False):
        response = client.post(
            reverse("privacy:subject_erase"), {"email": EMAIL, "confirm": "on"}, follow=True
        )

    assert "1 reservation(s) that have not ended yet" in response.content.decode()
    assert Parker.objects.filter(last_name="Vandamme").count() == 1
    assert Booking.objects.get(pk=booking.pk).booker_email == EMAIL
    assert not AuditEvent.objects.filter(action="privacy.subject.erased").exists()


def test_erasing_needs_the_confirmation_box(world, visited, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world.admin)
    with time_machine.travel(LATER, tick=False):
        response = client.post(reverse("privacy:subject_erase"), {"email": EMAIL})

    assert response.status_code == 400
    assert "Tick the box to confirm the erasure." in response.content.decode()
    assert Parker.objects.filter(last_name="Vandamme").count() == 1


def test_another_organisation_finds_nothing_and_erases_nothing(world, visited, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world.outsider_admin)
    found = _find(client, email=EMAIL)
    assert found.context["data"].is_empty
    with time_machine.travel(LATER, tick=False):
        client.post(reverse("privacy:subject_erase"), {"email": EMAIL, "confirm": "on"})
        exported = client.post(reverse("privacy:subject_export"), {"email": EMAIL})

    assert Parker.objects.filter(last_name="Vandamme").count() == 1
    assert AccessEvent.objects.get(requested_at=at(VISIT_DAY, 9, 5)).plate_text != ""
    archive = zipfile.ZipFile(io.BytesIO(exported.content))
    assert json.loads(archive.read("parkers.json")) == []


@pytest.mark.parametrize("role", ["receptionist", "parker_user"])
def test_desk_and_parkers_may_not_use_privacy_pages(world, visited, client_for, role) -> None:  # type: ignore[no-untyped-def]
    client = client_for(getattr(world, role))
    assert client.get(reverse("privacy:home")).status_code == 403
    assert _find(client, email=EMAIL).status_code == 403
    assert client.post(reverse("privacy:subject_erase"), {"email": EMAIL, "confirm": "on"}).status_code == 403
    assert Parker.objects.filter(last_name="Vandamme").count() == 1


def test_an_admin_sets_the_retention_periods(world, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world.admin)
    page = client.get(reverse("privacy:home"))
    assert page.context["form"].initial["visitor_days"] == 30
    response = client.post(
        reverse("privacy:home"),
        {"visitor_days": "14", "access_event_days": "7", "email_days": "20", "privacy_notice_url": ""},
    )
    assert response.status_code == 302
    policy = RetentionPolicy.objects.get(organisation=world.tenant)
    assert (policy.visitor_days, policy.access_event_days, policy.email_days) == (14, 7, 20)
    assert AuditEvent.objects.get(action="privacy.retention.changed").data["visitor_days"] == 14


def test_a_retention_period_out_of_bounds_is_refused_and_nothing_is_saved(world, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world.admin)
    response = client.post(
        reverse("privacy:home"),
        {"visitor_days": "0", "access_event_days": "7", "email_days": "20", "privacy_notice_url": ""},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 400
    assert "Assurez-vous que cette valeur est supérieure ou égale à 1." in response.content.decode()
    assert not RetentionPolicy.objects.filter(organisation=world.tenant).exists()


@pytest.mark.parametrize(
    ("language", "heading"),
    [
        ("en", "How long personal data is kept"),
        ("fr", "Durée de conservation des données personnelles"),
        ("nl", "Hoe lang persoonsgegevens bewaard blijven"),
    ],
)
def test_the_privacy_page_speaks_the_users_language(world, client_for, language, heading) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world.admin)
    response = client.get(reverse("privacy:home"), HTTP_ACCEPT_LANGUAGE=language)
    assert heading in response.content.decode()


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_the_privacy_catalogue_is_complete(language: str) -> None:
    from pathlib import Path

    import polib

    path = Path(__file__).resolve().parents[2] / "parkgate" / "privacy" / "locale" / language / "LC_MESSAGES"
    catalogue = polib.pofile(str(path / "django.po"))
    assert len(catalogue) >= 60
    assert catalogue.untranslated_entries() == []
    assert catalogue.fuzzy_entries() == []
    for entry in catalogue:
        for placeholder in ("%(count)s", "%(subject)s", "%(visitors)s"):
            if placeholder in entry.msgid:
                assert placeholder in entry.msgstr, entry.msgid


@pytest.fixture
def staff(db):  # type: ignore[no-untyped-def]
    from tests import factories as f

    return f.UserFactory(is_superuser=True, is_staff=True)


def test_platform_staff_find_export_and_erase_across_organisations(world, visited, client_for, staff) -> None:  # type: ignore[no-untyped-def]
    from tests import factories as f

    elsewhere = f.ParkerFactory(
        managed_by=world.outsider, organisation=None, email=EMAIL, plates=["9-ZZZ-999"]
    )
    client = client_for(staff)
    with time_machine.travel(LATER, tick=False):
        found = client.get(reverse("privacy:platform_subject"), {"email": EMAIL})
        exported = client.post(reverse("privacy:platform_subject_export"), {"email": EMAIL})
        erased = client.post(reverse("privacy:platform_subject_erase"), {"email": EMAIL, "confirm": "on"})

    assert [(org.slug, counts["parkers"]) for org, counts in found.context["found"]] == [
        ("acme", 1),
        ("other", 1),
    ]
    names = zipfile.ZipFile(io.BytesIO(exported.content)).namelist()
    assert "acme/parkers.json" in names and "other/parkers.json" in names
    assert erased.status_code == 302
    assert not Parker.objects.filter(email__iexact=EMAIL).exists()
    elsewhere.refresh_from_db()
    assert (elsewhere.first_name, elsewhere.plates.count()) == ("", 0)
    assert sorted(
        AuditEvent.objects.filter(action="privacy.subject.erased").values_list(
            "organisation__slug", flat=True
        )
    ) == ["acme", "other"]


def test_only_platform_staff_reach_the_cross_organisation_requests(world, visited, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world.admin)
    assert client.get(reverse("privacy:platform_subject"), {"email": EMAIL}).status_code == 403
    erase = client.post(reverse("privacy:platform_subject_erase"), {"email": EMAIL, "confirm": "on"})
    assert erase.status_code == 403
    assert Parker.objects.filter(last_name="Vandamme").count() == 1
