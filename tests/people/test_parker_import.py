"""Bulk import of parkers (CSV, XLSX) with a preview, per-row errors in the user's language, all or
nothing, and no duplicates when run again."""

from __future__ import annotations

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from parkgate.core.models import AuditEvent
from parkgate.parking.models import Parker

CSV = (
    "first_name;last_name;email;plates;policy\n"
    "Zoé;Dubois;zoe@acme.example;1-abc-123, XY 99;Acme staff\n"
    "Tom;Peeters;tom@acme.example;;\n"
)


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def _upload(client: Client, name: str, content: bytes, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/office/parkers/import/", {"file": SimpleUploadedFile(name, content)}, headers=headers
    )


def test_preview_then_import_then_again_without_duplicates(world) -> None:  # type: ignore[no-untyped-def]
    client = _client(world.admin)
    preview = _upload(client, "parkers.csv", CSV.encode())
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "2 to create, 0 to update." in body
    assert not Parker.objects.filter(managed_by=world.tenant).exists()  # a preview writes nothing
    response = client.post("/office/parkers/import/", {"action": "import"})
    assert response.status_code == 302
    zoe = Parker.objects.get(managed_by=world.tenant, email="zoe@acme.example")
    assert sorted(p.key for p in zoe.plates.all()) == ["1ABC123", "XY99"]
    assert world.member_policy.members.filter(pk=zoe.pk).exists()
    assert Parker.objects.filter(managed_by=world.tenant).count() == 2
    # Again, with a changed name: updated, not duplicated.
    again = _upload(client, "parkers.csv", CSV.replace("Tom;Peeters", "Tom;Peters").encode())
    assert "0 to create, 2 to update." in again.content.decode()
    client.post("/office/parkers/import/", {"action": "import"})
    assert Parker.objects.filter(managed_by=world.tenant).count() == 2
    assert Parker.objects.get(email="tom@acme.example").last_name == "Peters"
    events = AuditEvent.objects.filter(action="parking.parkers.imported", organisation=world.tenant)
    assert [e.data for e in events.order_by("id")] == [
        {"created": 2, "updated": 0},
        {"created": 0, "updated": 2},
    ]


def test_xlsx_is_read_too(world) -> None:  # type: ignore[no-untyped-def]
    data = tablib.Dataset(headers=["First name", "Last name", "Email", "Plates", "Policy"])
    data.append(["Lea", "Janssens", "lea@acme.example", "2-XYZ-987", ""])
    client = _client(world.admin)
    assert _upload(client, "parkers.xlsx", data.export("xlsx")).status_code == 200
    client.post("/office/parkers/import/", {"action": "import"})
    assert Parker.objects.get(managed_by=world.tenant, email="lea@acme.example").plates.get().key == "2XYZ987"


def test_errors_per_row_in_the_user_s_language_and_nothing_imported(world) -> None:  # type: ignore[no-untyped-def]
    bad = (
        "first_name,last_name,email,plates,policy\n"
        "Zoé,Dubois,not-an-address,1-abc-123,Acme staff\n"
        ",Peeters,tom@acme.example,---,Other Corp staff\n"
        "Ann,Lee,ann@acme.example,,Acme visitors\n"
    )
    response = _upload(_client(world.admin), "parkers.csv", bad.encode(), **{"accept-language": "fr"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "« not-an-address » : adresse e-mail non valide." in body
    assert "Le prénom et le nom sont obligatoires." in body
    assert "Aucune politique de membres nommée « Other Corp staff »." in body
    assert "Aucune politique de membres nommée « Acme visitors »." in body  # a visitor policy
    # Nothing to import: the import button is absent and a forced import changes nothing.
    response = _client(world.admin).post("/office/parkers/import/", {"action": "import"})
    assert response.status_code == 302
    assert not Parker.objects.filter(managed_by=world.tenant).exists()


def test_a_file_that_is_not_a_table_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    response = _upload(_client(world.admin), "parkers.pdf", b"%PDF-1.4")
    assert response.status_code == 400 and "Upload a CSV or XLSX file." in response.content.decode()
    response = _upload(_client(world.admin), "parkers.csv", b"name,mail\nx,y\n")
    assert "Missing columns: first_name, last_name, email." in response.content.decode()


def test_another_organisation_imports_into_its_own_parkers_only(world) -> None:  # type: ignore[no-untyped-def]
    client = _client(world.outsider_admin)
    # The tenant's policy name is unknown to the outsider.
    response = _upload(client, "parkers.csv", CSV.encode())
    assert response.status_code == 400 and "No member policy named “Acme staff”." in response.content.decode()
    # A session prepared for one organisation is not imported into another.
    _upload(_client(world.admin), "parkers.csv", CSV.encode())
    assert not Parker.objects.exists()


@pytest.mark.parametrize("who", ["receptionist", "parker_user"])
def test_only_managers_import(world, who: str) -> None:  # type: ignore[no-untyped-def]
    client = _client(getattr(world, who))
    assert client.get("/office/parkers/import/").status_code == 403
    assert _upload(client, "parkers.csv", CSV.encode()).status_code == 403
    assert not Parker.objects.filter(email="zoe@acme.example").exists()


def test_preview_session_is_bound_to_its_organisation(world, client) -> None:  # type: ignore[no-untyped-def]
    # An admin of two organisations previews in one, switches, and imports: nothing happens.
    from parkgate.accounts.models import Role
    from tests import factories as f

    f.MembershipFactory(user=world.admin, organisation=world.outsider, role=Role.ADMIN)
    client.force_login(world.admin)
    _upload(client, "parkers.csv", CSV.encode())
    client.post(reverse("organisation_switch"), {"organisation": world.outsider.pk, "next": "/office/"})
    response = client.post("/office/parkers/import/", {"action": "import"})
    assert response.status_code == 302
    assert not Parker.objects.exists()
