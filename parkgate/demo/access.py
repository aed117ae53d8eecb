"""Demo devices: a number-plate camera and a keypad at the demo lot's entry (simulated gates).

Their keys are demo data, printed by `make run` so the endpoints can be tried with curl.
"""

from __future__ import annotations

from parkgate.access.models import Camera, Keypad
from parkgate.demo.base import DemoContext
from parkgate.parking.models import Gate

CAMERA_ID = "demo-entry-camera"
CAMERA_KEY = "demo-camera-key-not-secret"
KEYPAD_ID = "demo-entry-keypad"
KEYPAD_KEY = "demo-keypad-key-not-secret"


def load(ctx: DemoContext) -> None:
    gate = Gate.objects.filter(lot=ctx.lot, direction="entry").order_by("pk").first()
    if gate is None:
        return
    Camera.objects.get_or_create(
        public_id=CAMERA_ID,
        defaults={"gate": gate, "name": "Entry camera", "secret_key": CAMERA_KEY, "format": "auto"},
    )
    Keypad.objects.get_or_create(
        public_id=KEYPAD_ID,
        defaults={
            "gate": gate,
            "name": "Entry keypad",
            "secret_key": KEYPAD_KEY,
            "uses_mqtt": True,
        },
    )
    ctx.links += [
        ("Cameras and keypads (owner)", "/access/devices/"),
        (f"ANPR endpoint (X-Parkgate-Key: {CAMERA_KEY})", f"/access/anpr/{CAMERA_ID}/"),
        (f"Keypad endpoint (X-Parkgate-Key: {KEYPAD_KEY})", f"/access/keypad/{KEYPAD_ID}/"),
    ]
