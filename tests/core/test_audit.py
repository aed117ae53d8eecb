"""Audit events: one row per event, and a batch written in one statement at its end."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from parkgate.core.audit import audit_batch, audit_log
from parkgate.core.models import AuditEvent
from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_a_batch_writes_its_events_in_one_insert_in_order(world: World) -> None:
    with transaction.atomic(), CaptureQueriesContext(connection) as queries, audit_batch():
        audit_log(action="test.first", organisation=world.tenant, obj=world.lot, data={"n": 1})
        audit_log(action="test.second", organisation=world.tenant.pk, actor_label="visitor")
        with audit_batch():  # a nested batch joins the outer one
            audit_log(action="test.third", organisation=None)
        assert not AuditEvent.objects.filter(action__startswith="test.").exists()  # not yet
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1 and "core_auditevent" in inserts[0]
    events = list(AuditEvent.objects.filter(action__startswith="test.").order_by("pk"))
    assert [(e.action, e.organisation_id, e.actor_label, e.data) for e in events] == [
        ("test.first", world.tenant.pk, "", {"n": 1}),
        ("test.second", world.tenant.pk, "visitor", {}),
        ("test.third", None, "", {}),
    ]
    assert (events[0].object_type, events[0].object_id) == ("parking.lot", str(world.lot.pk))


def test_a_batch_left_by_an_exception_writes_nothing(world: World) -> None:
    with pytest.raises(RuntimeError), audit_batch():
        audit_log(action="test.dropped", organisation=world.tenant)
        raise RuntimeError("the change failed")
    assert not AuditEvent.objects.filter(action="test.dropped").exists()
    # Outside a batch each event is written at once.
    event = audit_log(action="test.alone", organisation=world.tenant)
    assert event.pk is not None and AuditEvent.objects.get(pk=event.pk).action == "test.alone"
