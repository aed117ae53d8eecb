"""The one guard for CSV exports opened in a spreadsheet (CSV/formula injection)."""

from __future__ import annotations

# A cell starting with one of these is a formula (or becomes one) in Excel, LibreOffice, Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """The text of a CSV cell that no spreadsheet runs: a leading formula character gets a quote.

    ``None`` is an empty cell. Use it on every cell whose text people (visitors, staff) typed.
    """
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
