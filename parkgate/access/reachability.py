"""Can the server reach a lot's gates right now? Apps above access answer (the site agents).

A lot whose relays hang off a site agent's own broker is out of the server's reach while that agent
is offline: the remote control (decided by the server) cannot open its gates, and its page says so.
``parkgate.sites`` registers its check in ``SitesConfig.ready``; without it every lot is reachable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from parkgate.parking.models import Lot

Check = Callable[[Lot, datetime], bool]
_checks: list[Check] = []


def register_unreachable_check(check: Check) -> None:
    if check not in _checks:
        _checks.append(check)


def lot_unreachable(lot: Lot, *, now: datetime) -> bool:
    return any(check(lot, now) for check in _checks)
