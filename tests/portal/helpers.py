"""Builders for portal tests: images (good, lying, bombs), SVGs, uploads, dates in the lot's zone."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import date, datetime, timedelta
from typing import Any

from PIL import Image


def lot_today(now: datetime) -> date:
    """The lot's day at ``now`` (the test's ``pinned_now``)."""
    import zoneinfo

    return now.astimezone(zoneinfo.ZoneInfo("Europe/Brussels")).date()


def next_weekday(now: datetime, weekday: int, *, weeks: int = 0) -> date:
    """The next given weekday strictly after the lot's day at ``now`` (0 = Monday), plus whole weeks."""
    today = lot_today(now)
    return today + timedelta(days=((weekday - today.weekday()) % 7 or 7) + 7 * weeks)


def png_bytes(width: int, height: int, *, colour: str = "#1f4e79", mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "#884422").save(out, format="JPEG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_declaring(width: int, height: int) -> bytes:
    """A tiny, well-formed-looking PNG whose header claims ``width`` x ``height`` pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\x00" + b"\x00\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


SVG_OK = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 120" width="200" height="120">'
    b'<rect width="200" height="120" fill="#1f4e79"/><circle cx="60" cy="60" r="30" fill="#ffbf47"/></svg>'
)


def svg(body: str, *, view_box: str = "0 0 200 120", head: str = "", extra: str = "") -> bytes:
    return (
        f'{head}<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'viewBox="{view_box}" {extra}>{body}</svg>'
    ).encode()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)
