"""Write audit events. Called by services, inside their transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import models

from parkgate.core.models import AuditEvent
from parkgate.core.net import UNKNOWN, current_client_ip

_batched: ContextVar[list[AuditEvent] | None] = ContextVar("audit_batched", default=None)


@contextmanager
def audit_batch() -> Iterator[None]:
    """Write the audit events of the block in one INSERT at its end (one round trip, not one each).

    Use inside the transaction of the change, around a block that either completes or fails as a
    whole: an exception leaving the block drops its events (the transaction rolls back with them).
    Nested batches join the outer one.
    """
    if _batched.get() is not None:
        yield
        return
    token = _batched.set([])
    try:
        yield
        events = _batched.get() or []
    finally:
        _batched.reset(token)
    if events:
        AuditEvent.objects.bulk_create(events)


def audit_log(
    *,
    action: str,
    organisation: Any | None,
    actor: Any | None = None,
    actor_label: str = "",
    obj: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record ``action`` (a namespaced code such as ``parking.policy.created``).

    ``organisation`` is an Organisation or its primary key. Inside :func:`audit_batch` the event is
    written at the end of the batch.
    """
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    address = current_client_ip.get()
    event = AuditEvent(
        organisation_id=organisation
        if isinstance(organisation, int) or organisation is None
        else organisation.pk,
        actor=actor,
        actor_label=actor_label,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        data=data or {},
        client_ip=address if address and address != UNKNOWN else None,
    )
    batch = _batched.get()
    if batch is None:
        event.save(force_insert=True)
    else:
        batch.append(event)
    return event
