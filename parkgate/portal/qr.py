"""QR codes of invitation addresses (PNG and SVG), made with segno."""

from __future__ import annotations

import io

import segno


def _code(url: str) -> segno.QRCode:
    # Level M survives a smudged print; the address stays short enough for a small code.
    return segno.make(url, error="m", micro=False)


def qr_png(url: str, *, scale: int = 8) -> bytes:
    out = io.BytesIO()
    _code(url).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_svg(url: str, *, scale: int = 8) -> bytes:
    out = io.BytesIO()
    _code(url).save(out, kind="svg", scale=scale, border=4, xmldecl=True, svgns=True)
    return out.getvalue()
