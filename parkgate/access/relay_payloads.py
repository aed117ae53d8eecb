"""What a relay command looks like on the wire, per driver kind. Pure (no Django).

The gate drivers (``drivers/shelly.py``, ``drivers/mqtt_generic.py``) and the site agent
(``parkgate/sites/agent.py``) build their MQTT payloads here, so a relay receives the same bytes
whoever decided.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def expiry_ms(expires_at: datetime) -> int:
    return int(expires_at.timestamp() * 1000)


def switch_set_request(
    *, command_id: str, expires_at: datetime, src: str, switch_id: int, pulse_seconds: float
) -> dict[str, Any]:
    """Shelly Gen2 JSON-RPC ``Switch.Set`` with ``toggle_after``: a pulse on the OPEN input."""
    return {
        "id": command_id,
        "src": src,
        "method": "Switch.Set",
        "params": {"id": switch_id, "on": True, "toggle_after": pulse_seconds},
        "parkgate_expires_at": expiry_ms(expires_at),
    }


def render_payload(template: str, *, command_id: str, expires_at: datetime, reason: str) -> str:
    """A generic relay's command payload, with ``{command_id}``, ``{expires_at}``, ``{reason}``."""
    return (
        template.replace("{command_id}", command_id)
        .replace("{expires_at}", str(expiry_ms(expires_at)))
        .replace("{reason}", reason)
    )
