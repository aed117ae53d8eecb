"""The ORM's SQL compiled once per process and run with other values (parkgate.core.compiled)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

from parkgate.core.audit import audit_log
from parkgate.core.compiled import compiled_sql
from parkgate.core.models import AuditEvent
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _events(action: str, organisation_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(organisation_id=organisation_id, action=action).order_by("pk")


def test_the_sql_is_compiled_once_and_gives_the_orms_rows_for_other_values(world: World) -> None:
    mine = [audit_log(action="test.compiled", organisation=world.tenant) for _ in range(2)]
    audit_log(action="test.compiled", organisation=world.outsider)
    audit_log(action="test.other", organisation=world.tenant)
    sql = compiled_sql("test.events", _events, ("-placeholder-", -9001))
    assert "-placeholder-" not in sql and "-9001" not in sql  # values are parameters, not text
    rows = list(AuditEvent.objects.raw(sql, ["test.compiled", world.tenant.pk]))
    assert [e.pk for e in rows] == [e.pk for e in mine]
    assert [e.pk for e in rows] == [e.pk for e in _events("test.compiled", world.tenant.pk)]
    assert list(AuditEvent.objects.raw(sql, ["test.none", world.tenant.pk])) == []
    # The second call compiles nothing: the builder is not called again.
    with CaptureQueriesContext(connection) as queries:
        again = compiled_sql("test.events", lambda *_: pytest.fail("compiled twice"), ("x", 1))
    assert again == sql and queries.captured_queries == []


def test_values_the_orm_changes_or_reorders_are_refused() -> None:
    with pytest.raises(ValueError, match="are not the placeholders"):  # reordered
        compiled_sql("test.reordered", lambda o, a: _events(a, o), (-9001, "-placeholder-"))
    with pytest.raises(ValueError, match="are not the placeholders"):  # the ORM changes the value
        compiled_sql(
            "test.changed",
            lambda a: AuditEvent.objects.filter(action__contains=a),
            ("-placeholder-",),
        )
    with pytest.raises(ValueError, match="are not the placeholders"):  # two equal placeholders
        compiled_sql(
            "test.equal",
            lambda a, b: AuditEvent.objects.filter(action=a, actor_label=b),
            ("same", "same"),
        )
    with pytest.raises(ValueError, match="are not the placeholders"):  # a value the caller cannot pass
        compiled_sql(
            "test.constant",
            lambda a: AuditEvent.objects.filter(action=a, actor_label="visitor"),
            ("-placeholder-",),
        )
