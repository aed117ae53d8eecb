"""The search statement is served by the trigram indexes of the control room migration (PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from parkgate.controlroom.selectors import parker_search, search_terms

from .conftest import Desk

pytestmark = pytest.mark.postgres


def _plan(desk: Desk, query: str) -> str:
    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes exist on PostgreSQL only; SQLite scans")
    with CaptureQueriesContext(connection) as captured:
        parker_search(desk.world.lot, query)
    with connection.cursor() as cursor:
        # The test tables are tiny, so a plain scan would win on cost; forbid it to see
        # whether the statement CAN use the indexes (at a million rows the planner picks them).
        cursor.execute("SET LOCAL enable_seqscan = off")
        # Likewise a full walk of an unrelated b-tree (parking_plate.key) is no answer to LIKE '%..%';
        # with plain index scans off only bitmap scans with a real index condition remain.
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {captured.captured_queries[0]['sql']}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        return plan


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
