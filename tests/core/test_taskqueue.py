"""The database task queue forgets finished tasks: their arguments (a visitor's address, for "send me
my links again") are not kept for ever beside the privacy retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from parkgate.booking.services import booking_links_request
from parkgate.core.taskqueue import task_results_prune
from tests import factories as f
from tests.booking.factories import VisitorPortalFactory

pytestmark = pytest.mark.django_db


def test_finished_tasks_are_deleted_after_their_time_and_waiting_ones_never(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    portal = VisitorPortalFactory()
    now = f.aware(2026, 12, 7, 9)
    rows = {}
    for name in ("sent-25h", "sent-23h", "failed-8d", "failed-6d", "dead-8d", "waiting-8d"):
        with django_capture_on_commit_callbacks(execute=True):
            booking_links_request(portal=portal, email=f"{name}@example.com", language="en")
        rows[name] = DBTaskResult.objects.get(args_kwargs__args__1=f"{name}@example.com")
    ago = {
        "25h": timedelta(hours=25),
        "23h": timedelta(hours=23),
        "8d": timedelta(days=8),
        "6d": timedelta(days=6),
    }
    status = {
        "sent": TaskResultStatus.SUCCESSFUL,
        "failed": TaskResultStatus.FAILED,
        "dead": TaskResultStatus.RUNNING,
        "waiting": TaskResultStatus.READY,
    }
    for name, row in rows.items():
        kind, age = name.split("-")
        when = now - ago[age]
        finished = when if kind in ("sent", "failed") else None
        started = when if kind != "waiting" else None
        DBTaskResult.objects.filter(pk=row.pk).update(
            status=status[kind], enqueued_at=when, started_at=started, finished_at=finished
        )

    assert task_results_prune(now=now) == 3
    left = sorted(r["args_kwargs"]["args"][1] for r in DBTaskResult.objects.values("args_kwargs"))
    assert left == ["failed-6d@example.com", "sent-23h@example.com", "waiting-8d@example.com"]
    assert task_results_prune(now=now) == 0


def test_nothing_to_forget_without_the_database_queue(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    assert task_results_prune(now=f.aware(2026, 12, 7, 9)) == 0
