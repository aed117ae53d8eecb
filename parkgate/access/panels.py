"""Sections that apps above access add to the owner's devices page (the site agents' health).

Access imports nothing above it: ``parkgate.sites`` registers its section in ``SitesConfig.ready``,
as it registers its reachability check (``reachability.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from parkgate.accounts.models import Organisation

# A panel: the organisation and now -> a template name and its context, or None (nothing to show).
Panel = Callable[[Organisation, datetime], tuple[str, dict[str, Any]] | None]
_panels: list[Panel] = []


def register_device_panel(panel: Panel) -> None:
    if panel not in _panels:
        _panels.append(panel)


def device_panels(organisation: Organisation, *, now: datetime) -> list[tuple[str, dict[str, Any]]]:
    return [shown for panel in _panels if (shown := panel(organisation, now)) is not None]
