"""The booking's hot reads run the ORM's SQL compiled once per process: same objects as the ORM's."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from parkgate.booking import selectors
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_portal_policies_carry_their_windows_and_lot_as_prefetched(portal_world, world) -> None:  # type: ignore[no-untyped-def]
    second = f.AccessPolicyFactory(
        organisation=world.tenant, lot=world.lot, name="Weekend", windows=[(6, 600, 660), (5, 480, 720)]
    )
    portal_world.portal.policies.add(second)
    with CaptureQueriesContext(connection) as queries:
        policies = selectors.portal_policies(portal_world.portal)
    assert len(queries.captured_queries) == 2  # the policies with their lots, then every window
    with CaptureQueriesContext(connection) as queries:
        read = [
            (
                p.pk,
                p.lot.name,
                [(w.weekday, w.start_minute, w.end_minute, w.policy is p) for w in p.windows.all()],
            )
            for p in policies
        ]
    assert queries.captured_queries == []
    assert read == [
        (world.visitor_policy.pk, "Central Garage", [(d, 420, 1140, True) for d in range(5)]),
        (second.pk, "Central Garage", [(5, 480, 720, True), (6, 600, 660, True)]),
    ]


def test_portal_slots_are_the_orms_in_order(portal_world) -> None:  # type: ignore[no-untyped-def]
    slots = selectors.portal_slots(portal_world.portal)
    expected = list(portal_world.portal.slots.order_by("start_minute", "duration_minutes", "pk"))
    assert [(s.pk, s.start_minute, s.duration_minutes) for s in slots] == [
        (s.pk, s.start_minute, s.duration_minutes) for s in expected
    ]
    assert [s.start_minute for s in slots] == [540, 780]
    with CaptureQueriesContext(connection) as queries:
        assert all(s.portal is portal_world.portal for s in slots)
    assert queries.captured_queries == []


def _field_values(obj) -> dict:  # type: ignore[no-untyped-def]
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


def test_the_public_invitation_is_the_orms_with_its_portal_organisation_and_lot(portal_world) -> None:  # type: ignore[no-untyped-def]
    from parkgate.portal.models import Invitation

    invitation = portal_world.invitation
    Invitation.objects.filter(pk=invitation.pk).update(visitor_name="Jeanne Peeters")
    slug = invitation.portal.slug
    orm = (
        Invitation.objects.select_related("portal__organisation", "portal__lot")
        .filter(pk=invitation.pk)
        .get()
    )
    with CaptureQueriesContext(connection) as queries:
        found = selectors.get_public_invitation(portal_slug=slug, token=invitation.token)
        again = selectors.get_public_invitation(portal_slug=slug, token=invitation.token)
    assert len(queries.captured_queries) == 2  # one each, the related objects joined
    assert found is not None and again is not None and found is not again
    with CaptureQueriesContext(connection) as queries:
        read = [
            _field_values(found),
            _field_values(found.portal),
            _field_values(found.portal.organisation),
            _field_values(found.portal.lot),
        ]
    assert queries.captured_queries == []  # the portal, organisation and lot came with it
    assert read == [
        _field_values(orm),
        _field_values(orm.portal),
        _field_values(orm.portal.organisation),
        _field_values(orm.portal.lot),
    ]
    assert read[0]["visitor_name"] == "Jeanne Peeters"
    assert found._state.adding is False and found._state.db == "default"
    # Refused as the ORM refuses: another portal's slug, a revoked invitation, a switched-off portal.
    assert selectors.get_public_invitation(portal_slug="elsewhere", token=invitation.token) is None
    Invitation.objects.filter(pk=invitation.pk).update(revoked_at=orm.created_at)
    assert selectors.get_public_invitation(portal_slug=slug, token=invitation.token) is None


def test_the_visitor_lookup_by_email_can_use_its_index(portal_world) -> None:  # type: ignore[no-untyped-def]
    """Every public booking looks the visitor up by e-mail (iexact) among the organisation's
    visitors: the index parker_visitor_email must fit the query the ORM writes, or the lookup reads
    every visitor the organisation ever had."""
    from parkgate.booking.services import _visitor_record

    if connection.vendor != "postgresql":
        pytest.skip("the expression index is PostgreSQL's; SQLite's iexact is a LIKE")
    sql, params = _visitor_record(
        "Ann.Lee@Example.com", portal_world.portal.organisation_id
    ).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "parker_visitor_email" in plan, plan
