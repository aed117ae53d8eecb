"""Write audit events. Called by services, inside their transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from parkgate.core.models import AuditEvent
from parkgate.core.net import UNKNOWN, current_client_ip


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

    ``organisation`` is an Organisation or its primary key.
    """
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    address = current_client_ip.get()
    return AuditEvent.objects.create(
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
