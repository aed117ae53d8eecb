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

from django.db import connections
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


class _Plan:
    """What the ORM's ModelIterable works out once per query shape: the SQL, which columns make the
    main object and each select_related one, and the converters of each column."""

    def __init__(self, queryset: QuerySet[Any], sql: str) -> None:
        from django.db.models.query import get_related_populators

        compiler = queryset.query.get_compiler(using=queryset.db)
        compiler.setup_query()
        select, klass_info = compiler.select, compiler.klass_info
        known = queryset._known_related_objects  # type: ignore[attr-defined]  # Django's, not in the stubs
        if klass_info is None or compiler.annotation_col_map or known:
            raise ValueError("compiled_objects takes a plain model queryset (select_related at most)")
        self.sql = sql
        self.db = queryset.db
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        # Django 5.2's signature; the stubs describe a later one (with fetch_mode).
        self.populators = get_related_populators(klass_info, select, self.db)  # type: ignore[call-arg]
        self.converters = compiler.get_converters([column[0] for column in select[: compiler.col_count]])


_plans: dict[str, _Plan] = {}


def compiled_objects(
    name: str, build: Callable[..., QuerySet[Any]], placeholders: Sequence[Any], values: Sequence[Any]
) -> list[Any]:
    """``list(build(*values))``, model instances with their select_related objects, without
    building and compiling the queryset again: the SQL and how its rows become objects are worked
    out at the first call for ``name`` (``compiled_sql`` checks the placeholders), the way
    Django's ModelIterable does for every query.

    PostgreSQL only; elsewhere (SQLite, ``make run``) the ORM runs ``build(*values)`` itself.
    """
    plan = _plans.get(name)
    if plan is None:
        shape = build(*placeholders)
        if connections[shape.db].vendor != "postgresql":
            return list(build(*values))
        plan = _plans[name] = _Plan(shape, compiled_sql(name, build, placeholders))
    connection = connections[plan.db]
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, list(values))
        rows = cursor.fetchall()
    objects = []
    for fetched in rows:
        row = list(fetched)
        for position, (functions, expression) in plan.converters.items():
            value = row[position]
            for function in functions:
                value = function(value, expression, connection)
            row[position] = value
        obj = plan.model.from_db(plan.db, plan.init_list, row[plan.start : plan.end])
        for populator in plan.populators:
            populator.populate(row, obj)
        objects.append(obj)
    return objects
