"""Plate reads as each camera or service sends them (shapes from the vendors' documentation)."""

from __future__ import annotations

import json
from typing import Any


def plate_recognizer(
    plate: str = "1abc123", score: float = 0.902, candidates: list[tuple[str, float]] | None = None
) -> dict[str, Any]:
    return {
        "hook": {
            "target": "https://parkgate.example.org/access/anpr/x/",
            "id": "camera-1",
            "event": "recognition",
            "filename": "camera-1_screenshots/26-11-21/08-12-01.122.jpg",
        },
        "data": {
            "camera_id": "camera-1",
            "filename": "camera-1_screenshots/26-11-21/08-12-01.122.jpg",
            "timestamp": "2026-11-21T08:12:01.122000Z",
            "timestamp_local": "2026-11-21 09:12:01.122000+01:00",
            "results": [
                {
                    "box": {"xmin": 460, "ymin": 57, "xmax": 557, "ymax": 82},
                    "plate": plate,
                    "region": {"code": "be", "score": 0.71},
                    "score": score,
                    "candidates": [{"plate": plate, "score": score}]
                    + [{"plate": p, "score": s} for p, s in (candidates or [])],
                    "dscore": 0.81,
                    "vehicle": {
                        "score": 0.77,
                        "type": "Sedan",
                        "box": {"xmin": 387, "ymin": 23, "xmax": 1493, "ymax": 577},
                    },
                    "direction": 92,
                }
            ],
        },
    }


def rekor_frame(
    plate: str = "1ABC123", confidence: float = 91.4, candidates: list[tuple[str, float]] | None = None
) -> dict[str, Any]:
    return {
        "version": 2,
        "data_type": "alpr_results",
        "epoch_time": 1795248721122,
        "img_width": 1280,
        "img_height": 720,
        "processing_time_ms": 41.2,
        "agent_uid": "aBcDeF123456",
        "camera_id": 1467482918,
        "uuid": "aBcDeF123456-1467482918-1795248721122",
        "results": [
            {
                "plate": plate,
                "confidence": confidence,
                "matches_template": 1,
                "region": "be",
                "region_confidence": 80,
                "candidates": [{"plate": plate, "confidence": confidence, "matches_template": 1}]
                + [{"plate": p, "confidence": c, "matches_template": 0} for p, c in (candidates or [])],
            }
        ],
    }


def rekor_group(plate: str = "1ABC123", confidence: float = 94.2) -> dict[str, Any]:
    return {
        "data_type": "alpr_group",
        "version": 2,
        "epoch_start": 1795248720000,
        "epoch_end": 1795248722500,
        "agent_uid": "aBcDeF123456",
        "camera_id": 1467482918,
        "best_uuid": "aBcDeF123456-1467482918-1795248721122",
        "best_plate_number": plate,
        "best_confidence": confidence,
        "best_region": "be",
        "travel_direction": 181.2,
        "is_parked": False,
        "best_plate": {
            "plate": plate,
            "confidence": confidence,
            "region": "be",
            "candidates": [{"plate": plate, "confidence": confidence, "matches_template": 1}],
        },
    }


REKOR_HEARTBEAT = {
    "data_type": "heartbeat",
    "version": 2,
    "agent_uid": "aBcDeF123456",
    "agent_version": "4.1.1",
    "timestamp": 1795248721000,
    "video_streams": [{"camera_id": 1467482918, "fps": 10.0, "is_streaming": True}],
}


def hikvision_xml(plate: str = "1ABC123", confidence: int = 96, event_type: str = "ANPR") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<EventNotificationAlert version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">
<ipAddress>192.0.2.40</ipAddress>
<portNo>80</portNo>
<protocol>HTTP</protocol>
<macAddress>44:19:b6:00:11:22</macAddress>
<channelID>1</channelID>
<dateTime>2026-11-21T09:12:01+01:00</dateTime>
<activePostCount>1</activePostCount>
<eventType>{event_type}</eventType>
<eventState>active</eventState>
<eventDescription>ANPR</eventDescription>
<channelName>Entry</channelName>
<ANPR>
<country>BE</country>
<licensePlate>{plate}</licensePlate>
<line>1</line>
<direction>forward</direction>
<confidenceLevel>{confidence}</confidenceLevel>
<plateType>unknown</plateType>
<plateColor>white</plateColor>
<licenseBright>0</licenseBright>
<pilotsafebelt>unknown</pilotsafebelt>
<vehicleType>vehicle</vehicleType>
<detectDir>8</detectDir>
</ANPR>
<UUID>c0ffee00-0000-4000-8000-000000000001</UUID>
<picNum>2</picNum>
</EventNotificationAlert>
""".encode()


def axis_event(
    plate: str = "1ABC123", confidence: str = "0.93", state: str = "new", direction: str = "in"
) -> dict[str, Any]:
    return {
        "packetCounter": "1204",
        "datetime": "20261121 091201122",
        "plateText": plate,
        "plateUnicode": plate,
        "plateUTF8": plate,
        "plateCountry": "BEL",
        "plateRegion": "",
        "plateConfidence": confidence,
        "carState": state,
        "carID": "88",
        "carMoveDirection": direction,
        "roiID": "1",
        "geotag": {"lat": 50.8466, "lon": 4.3528},
        "imageType": "plate",
        "plateImageType": "png",
        "camera_info": {
            "SerialNumber": "B8A44F000001",
            "ProdShortName": "AXIS P1455-LE",
            "MACAddress": "B8:A4:4F:00:00:01",
        },
        "capture_timestamp": "1795248721122",
        "sensorProviderID": "defaultID",
    }


def generic(
    plate: str = "1-ABC-123", confidence: float = 0.93, direction: str | None = "entry"
) -> dict[str, Any]:
    body: dict[str, Any] = {"plate": plate, "confidence": confidence, "read_id": "lane-1-000042"}
    if direction:
        body["direction"] = direction
    return body


def as_json(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()
