from __future__ import annotations

import pytest

from parkgate.core.spreadsheet import csv_cell


@pytest.mark.parametrize("text", ["=HYPERLINK(1)", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_a_formula_start_is_quoted(text: str) -> None:
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize(
    ("value", "cell"), [("Dupont", "Dupont"), ("a=b", "a=b"), ("", ""), (None, ""), (12, "12")]
)
def test_everything_else_is_kept_as_it_is(value: object, cell: str) -> None:
    assert csv_cell(value) == cell
