"""Reads: the site agents of an organisation's lots and their health."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from parkgate.accounts.models import Organisation
from parkgate.parking.models import Lot
from parkgate.sites.models import SiteAgent


def agents_of(organisation: Organisation) -> QuerySet[SiteAgent]:
    return (
        SiteAgent.objects.filter(lot__owner=organisation).select_related("lot").order_by("lot__name", "name")
    )


def agents_of_lots(lots: QuerySet[Lot] | list[Lot]) -> QuerySet[SiteAgent]:
    return (
        SiteAgent.objects.filter(lot__in=lots, is_active=True)
        .select_related("lot")
        .order_by("lot__name", "name")
    )


def get_agent_for_owner(organisation: Organisation, agent_id: int) -> SiteAgent:
    return get_object_or_404(SiteAgent.objects.select_related("lot"), pk=agent_id, lot__owner=organisation)


@dataclass(frozen=True)
class AgentHealth:
    agent: SiteAgent
    paired: bool
    online: bool
    last_seen_at: datetime | None
    last_sync_at: datetime | None
    version: int
    snapshot_age: timedelta | None  # age of the snapshot the agent holds
    events_waiting: int
    events_rejected: int  # refused by the server, kept at the site (see its last problem)
    problem: str

    @property
    def snapshot_age_minutes(self) -> int | None:
        return None if self.snapshot_age is None else max(0, int(self.snapshot_age.total_seconds() // 60))


def agent_health(agent: SiteAgent, *, now: datetime) -> AgentHealth:
    seen = agent.last_seen_at
    online = seen is not None and now - seen <= timedelta(seconds=settings.SITE_AGENT_ONLINE_SECONDS)
    built = agent.agent_snapshot_built_at
    return AgentHealth(
        agent=agent,
        paired=bool(agent.token_hash),
        online=online,
        last_seen_at=seen,
        last_sync_at=agent.last_sync_at,
        version=agent.agent_version,
        snapshot_age=(now - built) if built is not None else None,
        events_waiting=agent.events_waiting,
        events_rejected=agent.events_rejected,
        problem=agent.last_problem,
    )


def lot_site_offline(lot: Lot, now: datetime) -> bool:
    """True when the lot has paired site agents and none has called within the online window."""
    agents = list(
        SiteAgent.objects.filter(lot=lot, is_active=True)
        .exclude(token_hash="")
        .values_list("last_seen_at", flat=True)
    )
    window = timedelta(seconds=settings.SITE_AGENT_ONLINE_SECONDS)
    return bool(agents) and not any(seen is not None and now - seen <= window for seen in agents)


def device_panel(organisation: Organisation, now: datetime) -> tuple[str, dict[str, Any]] | None:
    """The site agents' health on the owner's devices page (nothing when there is no agent)."""
    health = [agent_health(agent, now=now) for agent in agents_of(organisation)]
    return ("sites/_device_panel.html", {"health": health}) if health else None
