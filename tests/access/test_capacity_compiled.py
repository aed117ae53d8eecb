"""The capacity engine's statements under the lot lock, compiled once per process (parkgate.core.compiled)."""

from __future__ import annotations

import pytest

from parkgate.access import capacity

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("lots", [1, 2, 3])
def test_every_statement_compiles_for_several_lots_and_codes(lots: int) -> None:
    # A placeholder the ORM reorders or changes would raise ValueError here, before any booking.
    assert "FOR UPDATE" in capacity._compiled(f"test.lock.{lots}", capacity._lots_lock_query, lots)
    assert "parking_allocation" in capacity._compiled(
        f"test.allocations.{lots}", capacity._allocations_query, lots
    )
    assert "access_occupancy" in capacity._compiled(
        f"test.confirmed.{lots}", capacity._confirmed_counts_query, lots
    )
    assert "GROUP BY" in capacity._compiled(f"test.held.{lots}", capacity._held_counts_query, lots)
    assert "UNION ALL" in capacity._compiled(f"test.active.{lots}", capacity._active_counts_query, lots)
    for codes in (1, 2, 5):
        sql = capacity._compiled(f"test.codes.{codes}.{lots}", capacity._codes_taken_query, codes, lots)
        assert sql.count("%s") == 5 + codes + lots
