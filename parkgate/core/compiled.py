"""The SQL of a hot query whose shape never changes, compiled by the ORM once per process.

Building and compiling a queryset costs Django about 0.3 ms of CPU even for a one-table read; on the
public booking's path that is a large part of each request (bench/booking_instructions.py). For a
query run on every request with the same shape and only different values, ``compiled_sql`` asks the
ORM for the SQL once, with placeholder values, and the caller runs that same SQL with its own values
(``Model.objects.raw(sql, params)``, or a cursor for a scalar). The SQL is the ORM's own, never
hand-written, so it follows the models' columns and table names.

Each placeholder value must be distinct and must come back from the ORM unchanged and in order:
compiling checks that, so a queryset whose values the ORM transforms or reorders fails at its first
use (tests/core/test_compiled.py) instead of running with the wrong values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet

_compiled: dict[str, str] = {}


def compiled_sql(name: str, build: Callable[..., QuerySet[Any]], placeholders: Sequence[Any]) -> str:
    """The SQL of ``build(*placeholders)``, compiled at the first call for ``name``.

    Run it with the values in the order of ``placeholders``.
    """
    sql = _compiled.get(name)
    if sql is None:
        sql, params = build(*placeholders).query.sql_with_params()
        if len(set(map(repr, placeholders))) != len(placeholders) or tuple(params) != tuple(placeholders):
            raise ValueError(
                f"{name}: the query's parameters {params!r} are not the placeholders {tuple(placeholders)!r}"
            )
        _compiled[name] = sql
    return sql
