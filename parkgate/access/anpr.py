"""Parse plate reads as the cameras and recognition services actually send them.

Formats (``Camera.format``; ``auto`` detects them):

* Plate Recognizer Stream / Snapshot webhooks: a JSON body, or multipart with a ``json`` field
  (and an ``upload`` picture). ``data.results[]`` with ``plate``, ``score``, ``candidates[]``.
* Rekor Scout / OpenALPR agent: JSON with ``data_type`` ``alpr_results`` (per frame) or
  ``alpr_group`` (per vehicle); ``heartbeat`` is acknowledged and ignored. Confidences 0..100.
* Hikvision ISAPI: an EventNotificationAlert XML (``eventType`` ANPR), bare or as a multipart
  part (``anpr.xml``) beside the pictures. Parsed with defusedxml. Confidence 0..100.
* Axis License Plate Verifier: multipart with an ``event`` JSON part (``plateUTF8``,
  ``plateConfidence``, ``carState``, ``carMoveDirection``); ``lost`` cars are ignored.
* Parkgate generic JSON: ``{"plate": "1-ABC-123", "confidence": 0.93, "candidates": [{"plate":
  "1-ABC-128", "confidence": 0.41}], "direction": "entry", "read_id": "..."}`` (confidence 0..1,
  direction entry, exit or omitted).

Everything here is pure: bytes in, a PlateRead or a ParseError out. No Django: the site agent
(parkgate/sites/agent.py) parses its cameras' reads with this module.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

from parkgate.core.errors import ParkgateError
from parkgate.parking.plates import Candidate

HIKVISION_NS = "http://www.hikvision.com/ver20/XMLSchema"


class ParseError(ParkgateError, ValueError):
    """The body is not a plate read we understand (answered with 400)."""


@dataclass(frozen=True)
class PlateRead:
    format: str
    candidates: tuple[Candidate, ...] = ()
    direction: str | None = None  # "entry", "exit" or None when the camera cannot tell
    ignored: str = ""  # why this message carries no read to act on (heartbeat, car lost...)
    source_ref: str = ""  # the sender's own id of the read or vehicle, for the log
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def best(self) -> Candidate | None:
        return max(self.candidates, key=lambda c: c.confidence) if self.candidates else None


def load_json(raw: bytes | str) -> Any:
    """json.loads for machine input: deep nesting is bad input (ValueError), not a RecursionError."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _json(raw: bytes | str) -> Any:
    try:
        return load_json(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ParseError(f"invalid JSON: {error}") from None


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ParseError(f"{name} must be a non-empty string")
    return value.strip()[:40]


def _confidence(value: Any, *, scale: float, name: str) -> float:
    if isinstance(value, bool):
        raise ParseError(f"{name} must be a number")
    try:
        number = float(value) / scale
    except (TypeError, ValueError):
        raise ParseError(f"{name} must be a number") from None
    if not 0 <= number <= 1:
        raise ParseError(f"{name} is out of range")
    return number


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ParseError(f"{name} must be an object")
    return value


def _list(value: Any, name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParseError(f"{name} must be a list")
    return value[:50]


# -- Plate Recognizer ------------------------------------------------------------------------
def parse_plate_recognizer(payload: Any) -> PlateRead:
    body = _object(payload, "body")
    hook = body.get("hook")
    if hook is not None and _object(hook, "hook").get("event", "recognition") != "recognition":
        return PlateRead("platerecognizer", ignored=f"event {hook.get('event')}")
    data = _object(body.get("data", body), "data")
    if "results" not in data:
        raise ParseError("data.results is missing")
    candidates: list[Candidate] = []
    for result in _list(data["results"], "data.results"):
        result = _object(result, "result")
        candidates.append(
            Candidate(
                _text(result.get("plate"), "plate"), _confidence(result.get("score"), scale=1, name="score")
            )
        )
        for extra in _list(result.get("candidates"), "candidates"):
            extra = _object(extra, "candidate")
            # Older Stream versions send candidates without a score: they do not reach any threshold.
            score = extra.get("score", 0)
            candidates.append(
                Candidate(_text(extra.get("plate"), "plate"), _confidence(score, scale=1, name="score"))
            )
    ref = str((hook or {}).get("id") or data.get("camera_id") or "")[:80]
    return PlateRead(
        "platerecognizer", tuple(candidates), source_ref=ref, extra={"timestamp": data.get("timestamp")}
    )


# -- Rekor / OpenALPR ------------------------------------------------------------------------
def _rekor_candidates(entry: dict[str, Any], plate_key: str, confidence_key: str) -> list[Candidate]:
    found = [
        Candidate(
            _text(entry.get(plate_key), plate_key),
            _confidence(entry.get(confidence_key), scale=100, name=confidence_key),
        )
    ]
    for extra in _list(entry.get("candidates"), "candidates"):
        extra = _object(extra, "candidate")
        found.append(
            Candidate(
                _text(extra.get("plate"), "plate"),
                _confidence(extra.get("confidence"), scale=100, name="confidence"),
            )
        )
    return found


def parse_rekor(payload: Any) -> PlateRead:
    body = _object(payload, "body")
    data_type = body.get("data_type")
    if data_type == "heartbeat":
        return PlateRead("rekor", ignored="heartbeat")
    if data_type == "alpr_results":
        candidates: list[Candidate] = []
        for result in _list(body.get("results"), "results"):
            candidates += _rekor_candidates(_object(result, "result"), "plate", "confidence")
        ref = f"frame {body.get('epoch_time', '')}"
    elif data_type == "alpr_group":
        best = body.get("best_plate")
        if isinstance(best, dict):
            candidates = _rekor_candidates(best, "plate", "confidence")
        else:
            candidates = _rekor_candidates(body, "best_plate_number", "best_confidence")
        ref = f"group {body.get('best_uuid') or body.get('epoch_start', '')}"
    elif isinstance(data_type, str):
        return PlateRead("rekor", ignored=f"data_type {data_type[:40]}")
    else:
        raise ParseError("data_type is missing")
    return PlateRead("rekor", tuple(candidates), source_ref=f"{body.get('camera_id', '')} {ref}".strip()[:80])


# -- Hikvision ISAPI -------------------------------------------------------------------------
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: Element, name: str) -> Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _child_text(element: Element, name: str) -> str:
    child = _child(element, name)
    return (child.text or "").strip() if child is not None else ""


def parse_hikvision(raw: bytes) -> PlateRead:
    # Imported here: the site agent runs this module where only Hikvision cameras need defusedxml.
    import defusedxml.ElementTree as safe_xml
    from defusedxml import DefusedXmlException

    try:
        root = safe_xml.fromstring(raw)
    except (safe_xml.ParseError, DefusedXmlException, ValueError) as error:
        raise ParseError(f"invalid XML: {error}") from None
    if _local(root.tag) != "EventNotificationAlert":
        raise ParseError("not an EventNotificationAlert")
    event_type = _child_text(root, "eventType")
    if event_type.upper() != "ANPR":
        return PlateRead("hikvision", ignored=f"eventType {event_type[:40]}")
    anpr = _child(root, "ANPR")
    if anpr is None:
        raise ParseError("ANPR element is missing")
    plate = _child_text(anpr, "licensePlate")
    if not plate or plate.lower() == "unknown":
        return PlateRead("hikvision", ignored="no plate read")
    level = _child_text(anpr, "confidenceLevel")
    confidence = _confidence(level, scale=100, name="confidenceLevel") if level else 1.0
    device = _child_text(root, "macAddress") or _child_text(root, "ipAddress")
    ref = f"{device} ch{_child_text(root, 'channelID')}"
    return PlateRead(
        "hikvision",
        (Candidate(_text(plate, "licensePlate"), confidence),),
        source_ref=ref[:80],
        extra={"dateTime": _child_text(root, "dateTime"), "direction": _child_text(anpr, "direction")},
    )


# -- Axis License Plate Verifier -------------------------------------------------------------
_AXIS_DIRECTIONS = {"in": "entry", "out": "exit"}


def parse_axis(payload: Any) -> PlateRead:
    event = _object(payload, "event")
    state = str(event.get("carState", "new"))
    if state not in ("new", "updated"):
        return PlateRead("axis", ignored=f"carState {state[:20]}")
    plate = _text(event.get("plateUTF8") or event.get("plateText"), "plateUTF8")
    confidence = _confidence(event.get("plateConfidence", "1"), scale=1, name="plateConfidence")
    info = event.get("camera_info")
    camera: dict[str, Any] = info if isinstance(info, dict) else {}
    return PlateRead(
        "axis",
        (Candidate(plate, confidence),),
        direction=_AXIS_DIRECTIONS.get(str(event.get("carMoveDirection", "")).lower()),
        source_ref=f"{camera.get('SerialNumber', '')} car {event.get('carID', '')}".strip()[:80],
    )


# -- Generic ---------------------------------------------------------------------------------
def parse_generic(payload: Any) -> PlateRead:
    body = _object(payload, "body")
    candidates = [
        Candidate(
            _text(body.get("plate"), "plate"),
            _confidence(body.get("confidence", 1), scale=1, name="confidence"),
        )
    ]
    for extra in _list(body.get("candidates"), "candidates"):
        extra = _object(extra, "candidate")
        candidates.append(
            Candidate(
                _text(extra.get("plate"), "plate"),
                _confidence(extra.get("confidence"), scale=1, name="confidence"),
            )
        )
    direction = body.get("direction")
    if direction not in (None, "", "entry", "exit"):
        raise ParseError("direction must be entry, exit or omitted")
    return PlateRead(
        "generic",
        tuple(candidates),
        direction=direction or None,
        source_ref=str(body.get("read_id", ""))[:80],
    )


# -- Dispatch --------------------------------------------------------------------------------
def _detect_json(payload: Any) -> str:
    if isinstance(payload, dict):
        if "data_type" in payload:
            return "rekor"
        if "hook" in payload or (isinstance(payload.get("data"), dict) and "results" in payload["data"]):
            return "platerecognizer"
        if "plateUTF8" in payload or "carState" in payload:
            return "axis"
        if "plate" in payload:
            return "generic"
    raise ParseError("unrecognised plate read")


def _xml_part(parts: Mapping[str, tuple[bytes, str]]) -> bytes | None:
    for name, (content, content_type) in parts.items():
        if name.lower().endswith(".xml") or "xml" in content_type:
            return content
    return None


def parse_read(
    fmt: str, *, content_type: str, body: bytes, parts: Mapping[str, tuple[bytes, str]] | None
) -> PlateRead:
    """Parse a camera's POST. ``parts`` holds multipart parts (content, content type) by name."""
    if parts is not None:
        if fmt in ("auto", "platerecognizer") and "json" in parts:
            return parse_plate_recognizer(_json(parts["json"][0]))
        if fmt in ("auto", "axis") and "event" in parts:
            return parse_axis(_json(parts["event"][0]))
        xml = _xml_part(parts) if fmt in ("auto", "hikvision") else None
        if xml is not None:
            return parse_hikvision(xml)
        raise ParseError("no plate read in the multipart body")
    stripped = body.lstrip()
    if fmt == "hikvision" or (fmt == "auto" and (stripped.startswith(b"<") or "xml" in content_type)):
        return parse_hikvision(body)
    payload = _json(body)
    kind = _detect_json(payload) if fmt == "auto" else fmt
    parser = {
        "platerecognizer": parse_plate_recognizer,
        "rekor": parse_rekor,
        "axis": parse_axis,
        "generic": parse_generic,
    }.get(kind)
    if parser is None:
        raise ParseError(f"unknown format {kind}")
    return parser(payload)
