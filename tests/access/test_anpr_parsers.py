"""Plate reads parsed as the cameras send them; malformed input is a ParseError, never a read."""

from __future__ import annotations

import json

import pytest

from parkgate.access.anpr import ParseError, parse_read
from parkgate.parking.plates import Candidate, look_alike, one_substitution_variants, usable_keys
from tests.access import anpr_samples as s


def _json(fmt: str, body: dict) -> object:
    return parse_read(fmt, content_type="application/json", body=json.dumps(body).encode(), parts=None)


@pytest.mark.parametrize("fmt", ["auto", "platerecognizer"])
def test_plate_recognizer_json(fmt: str) -> None:
    read = _json(fmt, s.plate_recognizer("1abc123", 0.902, candidates=[("1abc128", 0.41)]))
    assert read.format == "platerecognizer"
    assert read.candidates == (
        Candidate("1abc123", 0.902),
        Candidate("1abc123", 0.902),
        Candidate("1abc128", 0.41),
    )
    assert read.source_ref == "camera-1" and read.direction is None and read.ignored == ""


def test_plate_recognizer_multipart_json_field_and_scoreless_candidates() -> None:
    body = s.plate_recognizer("9jub11", 0.839)
    body["data"]["results"][0]["candidates"] = [{"plate": "9jub11"}, {"plate": "sju88y"}]
    parts = {"json": (json.dumps(body).encode(), "text/plain")}
    read = parse_read("auto", content_type="multipart/form-data", body=b"", parts=parts)
    assert read.candidates == (Candidate("9jub11", 0.839), Candidate("9jub11", 0.0), Candidate("sju88y", 0.0))


def test_plate_recognizer_other_events_are_ignored() -> None:
    body = s.plate_recognizer()
    body["hook"]["event"] = "image_done"
    assert _json("auto", body).ignored == "event image_done"


def test_rekor_frame_group_and_heartbeat() -> None:
    frame = _json("auto", s.rekor_frame("1ABC123", 91.4, candidates=[("1A8C123", 80.0)]))
    assert frame.format == "rekor"
    assert [(c.text, round(c.confidence, 3)) for c in frame.candidates] == [
        ("1ABC123", 0.914),
        ("1ABC123", 0.914),
        ("1A8C123", 0.8),
    ]
    group = _json("rekor", s.rekor_group("1ABC123", 94.2))
    assert [(c.text, round(c.confidence, 3)) for c in group.candidates] == [
        ("1ABC123", 0.942),
        ("1ABC123", 0.942),
    ]
    assert group.source_ref == "1467482918 group aBcDeF123456-1467482918-1795248721122"
    assert _json("auto", s.REKOR_HEARTBEAT).ignored == "heartbeat"
    assert _json("auto", {"data_type": "vehicle", "x": 1}).ignored == "data_type vehicle"


def test_hikvision_bare_and_multipart() -> None:
    read = parse_read("auto", content_type="application/xml", body=s.hikvision_xml("1ABC123", 96), parts=None)
    assert read.format == "hikvision"
    assert read.candidates == (Candidate("1ABC123", 0.96),)
    assert read.source_ref == "44:19:b6:00:11:22 ch1"
    parts = {
        "anpr.xml": (s.hikvision_xml("2XYZ987", 88), "application/xml"),
    }
    read = parse_read("hikvision", content_type="multipart/form-data", body=b"", parts=parts)
    assert read.candidates == (Candidate("2XYZ987", 0.88),)
    assert (
        parse_read(
            "auto", content_type="text/xml", body=s.hikvision_xml(event_type="videoloss"), parts=None
        ).ignored
        == "eventType videoloss"
    )
    assert (
        parse_read("auto", content_type="text/xml", body=s.hikvision_xml(plate="unknown"), parts=None).ignored
        == "no plate read"
    )


def test_hikvision_without_namespace() -> None:
    xml = s.hikvision_xml().replace(b' xmlns="http://www.hikvision.com/ver20/XMLSchema"', b"")
    assert parse_read("auto", content_type="application/xml", body=xml, parts=None).candidates == (
        Candidate("1ABC123", 0.96),
    )


def test_axis_event_part() -> None:
    parts = {"event": (json.dumps(s.axis_event("1ABC123", "0.93", "new", "in")).encode(), "application/json")}
    read = parse_read("auto", content_type="multipart/form-data", body=b"", parts=parts)
    assert (read.format, read.candidates, read.direction) == ("axis", (Candidate("1ABC123", 0.93),), "entry")
    assert read.source_ref == "B8A44F000001 car 88"
    out = {"event": (json.dumps(s.axis_event(direction="out", state="updated")).encode(), "application/json")}
    assert parse_read("axis", content_type="multipart/form-data", body=b"", parts=out).direction == "exit"
    lost = {"event": (json.dumps(s.axis_event(state="lost")).encode(), "application/json")}
    assert (
        parse_read("auto", content_type="multipart/form-data", body=b"", parts=lost).ignored
        == "carState lost"
    )


def test_generic() -> None:
    read = _json(
        "auto",
        {**s.generic("1-ABC-123", 0.93, "exit"), "candidates": [{"plate": "1-A8C-123", "confidence": 0.5}]},
    )
    assert read.format == "generic"
    assert read.candidates == (Candidate("1-ABC-123", 0.93), Candidate("1-A8C-123", 0.5))
    assert read.direction == "exit" and read.source_ref == "lane-1-000042"


@pytest.mark.parametrize(
    ("fmt", "content_type", "body", "message"),
    [
        ("auto", "application/json", b"{not json", "invalid JSON"),
        ("auto", "application/json", b"[1, 2]", "unrecognised plate read"),
        ("auto", "application/json", b'{"hello": "world"}', "unrecognised plate read"),
        ("generic", "application/json", b'{"plate": ""}', "plate must be a non-empty string"),
        ("generic", "application/json", b'{"plate": "AB1", "confidence": 7}', "confidence is out of range"),
        (
            "generic",
            "application/json",
            b'{"plate": "AB1", "confidence": true}',
            "confidence must be a number",
        ),
        (
            "generic",
            "application/json",
            b'{"plate": "AB1", "direction": "sideways"}',
            "direction must be entry, exit or omitted",
        ),
        ("rekor", "application/json", b'{"results": []}', "data_type is missing"),
        ("platerecognizer", "application/json", b'{"data": {"results": "x"}}', "data.results must be a list"),
        ("auto", "application/xml", b"<EventNotificationAlert><eventType>ANPR", "invalid XML"),
        ("auto", "application/xml", b"<Other/>", "not an EventNotificationAlert"),
        (
            "auto",
            "application/xml",
            b"<EventNotificationAlert><eventType>ANPR</eventType></EventNotificationAlert>",
            "ANPR element is missing",
        ),
    ],
)
def test_malformed_input_is_a_parse_error(fmt: str, content_type: str, body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_read(fmt, content_type=content_type, body=body, parts=None)


def test_xml_bombs_are_refused() -> None:
    bomb = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<EventNotificationAlert><eventType>ANPR</eventType><ANPR><licensePlate>&lol2;</licensePlate></ANPR></EventNotificationAlert>"""
    with pytest.raises(ParseError, match="invalid XML"):
        parse_read("auto", content_type="application/xml", body=bomb, parts=None)
    external = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<EventNotificationAlert><eventType>ANPR</eventType><ANPR><licensePlate>&e;</licensePlate></ANPR></EventNotificationAlert>"""
    with pytest.raises(ParseError, match="invalid XML"):
        parse_read("auto", content_type="application/xml", body=external, parts=None)


def test_multipart_without_a_read() -> None:
    with pytest.raises(ParseError, match="no plate read in the multipart body"):
        parse_read(
            "auto", content_type="multipart/form-data", body=b"", parts={"upload": (b"x", "text/plain")}
        )


def test_usable_keys_threshold_order_and_plausibility() -> None:
    candidates = [
        Candidate("1-abc-123", 0.7),
        Candidate("1ABC128", 0.95),
        Candidate("1abc123", 0.9),
        Candidate("x", 0.99),
        Candidate("ZZ9", 0.2),
    ]
    assert usable_keys(candidates, min_confidence=0.7) == ["1ABC128", "1ABC123"]
    assert usable_keys(candidates, min_confidence=0.1) == ["1ABC128", "1ABC123", "ZZ9"]


def test_ocr_look_alikes_one_place_only() -> None:
    assert one_substitution_variants("1B0") == {"IB0", "180", "1BO", "1BD", "1BQ"}
    assert look_alike("1ABC123", "1A8C123")
    assert look_alike("GH456JK", "6H456JK")
    assert not look_alike("1ABC123", "1A8C12Z")  # two places
    assert not look_alike("1ABC123", "1AXC123")  # X is not like B
    assert not look_alike("1ABC123", "1ABC123")
