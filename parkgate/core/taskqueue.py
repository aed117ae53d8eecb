"""The database task queue's finished rows, deleted once nobody needs them (housekeeping).

With ``TASK_BACKEND=database`` every task leaves a row in ``django_tasks_db_dbtaskresult`` with its
arguments: a notice or e-mail id, and for "send me my links again" the address the visitor typed.
django-tasks keeps them for ever; the outcome that matters is recorded on the rows the task worked
on (the notice, the e-mail), so a finished task's row is only a technical trace. Kept no longer than
``SUCCEEDED_KEPT`` after success, ``FAILED_KEPT`` after a failure (its traceback, for whoever looks
into it), and a task whose worker died while running it (it never finishes) as long as a failed one.
Rows still waiting to run are never touched.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

SUCCEEDED_KEPT = timedelta(days=1)
FAILED_KEPT = timedelta(days=7)


def queue_is_database() -> bool:
    """True when tasks are rows of the database (``TASK_BACKEND=database``, django-tasks-db)."""
    return bool(settings.TASKS["default"]["BACKEND"].startswith("django_tasks_db"))


def task_results_prune(*, now: datetime | None = None) -> int:
    """Delete the finished task rows past their time. Returns how many were deleted."""
    if not queue_is_database():
        return 0
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    deleted, _ = DBTaskResult.objects.filter(
        Q(status=TaskResultStatus.SUCCESSFUL, finished_at__lte=now - SUCCEEDED_KEPT)
        | Q(status=TaskResultStatus.FAILED, finished_at__lte=now - FAILED_KEPT)
        | Q(status=TaskResultStatus.RUNNING, started_at__lte=now - FAILED_KEPT)
    ).delete()
    return deleted
