"""A portal's look: its brand colour made readable under white text, its languages."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

from parkgate.portal.models import VisitorPortal

DEFAULT_COLOUR = "1F4E79"
WHITE_TEXT_CONTRAST = 4.5  # WCAG AA for normal text


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def brand_background(colour: str) -> str:
    """The brand colour (#RRGGBB), darkened just enough for white text to stay readable."""
    value = colour.strip().lstrip("#")
    if len(value) != 6 or any(c not in "0123456789abcdefABCDEF" for c in value):
        value = DEFAULT_COLOUR
    rgb = (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))
    for _step in range(40):
        if 1.05 / (_luminance(rgb) + 0.05) >= WHITE_TEXT_CONTRAST:
            break
        r, g, b = rgb
        rgb = (int(r * 0.9), int(g * 0.9), int(b * 0.9))
    return "#{:02X}{:02X}{:02X}".format(*rgb)


def portal_languages(portal: VisitorPortal) -> list[str]:
    known = [code for code, _name in settings.LANGUAGES]
    chosen = [code for code in portal.languages if code in known]
    if not chosen:
        chosen = [portal.default_language if portal.default_language in known else settings.LANGUAGE_CODE]
    return chosen


def _session_key(portal: VisitorPortal) -> str:
    return f"booking.language.{portal.pk}"


def portal_language_activate(request: HttpRequest, portal: VisitorPortal, preferred: str) -> str:
    """Activate the visitor's language: ?lang= (kept in the session), else ``preferred``.

    Always one of the portal's languages.
    """
    allowed = portal_languages(portal)
    asked = request.GET.get("lang", "")
    if asked in allowed:
        request.session[_session_key(portal)] = asked
    stored = request.session.get(_session_key(portal), "")
    if stored in allowed:
        language = stored
    elif preferred in allowed:
        language = preferred
    elif portal.default_language in allowed:
        language = portal.default_language
    else:
        language = allowed[0]
    translation.activate(language)
    request.LANGUAGE_CODE = language
    return language


def portal_context(request: HttpRequest, portal: VisitorPortal, language: str) -> dict[str, object]:
    languages = [
        (code, translation.get_language_info(code)["name_local"]) for code in portal_languages(portal)
    ]
    return {
        "portal": portal,
        "organisation": portal.organisation,
        "lot": portal.lot,
        "brand": brand_background(portal.brand_colour),
        "portal_languages": languages if len(languages) > 1 else [],
        "language": language,
    }
