"""The search statement is served by the trigram indexes of the control room migration (PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from parkgate.controlroom.selectors import parker_search, search_terms
from parkgate.parking.models import Parker, Plate

from .conftest import Desk

# Transactional: VACUUM cannot run inside the test transaction.
pytestmark = [pytest.mark.postgres, pytest.mark.bench, pytest.mark.django_db(transaction=True)]


def _fill(desk: Desk, count: int = 20000) -> None:
    """Enough other parkers and plates for the planner's choice to mean something (with three
    rows every plan costs the same and its pick is a coin toss), then VACUUM ANALYZE as a live
    database would have: fresh statistics, GIN pending lists flushed."""
    owner = desk.world.lot.owner
    parkers = Parker.objects.bulk_create(
        Parker(
            managed_by=owner,
            first_name="Filler",
            last_name=f"Person{n}",
            search_text=f"filler person{n} zq{n}",
        )
        for n in range(count)
    )
    Plate.objects.bulk_create(
        Plate(parker=p, text=f"ZQ-{n:05d}", key=f"ZQ{n:05d}") for n, p in enumerate(parkers)
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE parking_parker, parking_plate, parking_allocation")


def _plan(desk: Desk, query: str) -> str:
    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes exist on PostgreSQL only; SQLite scans")
    _fill(desk)
    with CaptureQueriesContext(connection) as captured:
        parker_search(desk.world.lot, query)
    # The search statement itself, whatever other queries ran before it (caches, sessions).
    (statement,) = [q["sql"] for q in captured.captured_queries if "MATERIALIZED" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {statement}")
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_migration_created_the_trigram_indexes(desk: Desk) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE 'controlroom_%' ORDER BY 1"
        )
        rows = cursor.fetchall()
    assert [name for name, _definition in rows] == [
        "controlroom_parker_search_trgm",
        "controlroom_plate_key_trgm",
    ]
    assert all("USING gin" in definition and "gin_trgm_ops" in definition for _n, definition in rows)


def test_name_search_uses_the_name_index(desk: Desk) -> None:
    plan = _plan(desk, "lefevre")
    assert "Bitmap Index Scan on controlroom_parker_search_trgm" in plan


def test_plate_search_uses_the_plate_index(desk: Desk) -> None:
    assert "Bitmap Index Scan on controlroom_plate_key_trgm" in _plan(desk, "1-ab")


def test_a_word_without_a_trigram_is_only_rechecked(desk: Desk) -> None:
    assert search_terms("li wei").indexed_words == ("wei",)
    plan = _plan(desk, "li wei")
    assert "Index Cond: ((search_text)::text ~~ '%wei%'::text)" in plan
    assert "'%li%'" not in plan
