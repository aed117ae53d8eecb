"""Logo and banner uploads, judged on their real content, never on their name.

A raster file must start with the magic bytes of an accepted type, carry a name whose extension
does not claim another type, decode completely with Pillow within a pixel budget (decompression
bombs are refused before any pixel is decoded), and have the exact dimensions. It is then
re-encoded, which drops metadata and anything appended after the image data.

An SVG is parsed with defusedxml (no DTD, no entities, no external resources), refused when it
carries anything active (scripts, event handlers, foreignObject, references outside the file,
``url(...)``, ``image-set(...)`` or ``@import`` in styles, judged after decoding CSS escapes such
as ``u\\72l(`` and comments, as the browser would), and otherwise rebuilt from an allow-list of
elements and attributes. Its viewBox must have the logo's ratio.
"""

from __future__ import annotations

import io
import re
import uuid
import warnings
import xml.etree.ElementTree as StdET
from dataclasses import dataclass
from typing import IO

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps, UnidentifiedImageError

from parkgate.core.errors import ParkgateError

PNG = "png"
JPEG = "jpeg"
SVG = "svg"

_MAGIC = {PNG: b"\x89PNG\r\n\x1a\n", JPEG: b"\xff\xd8\xff"}
_EXTENSIONS = {".png": PNG, ".jpg": JPEG, ".jpeg": JPEG, ".svg": SVG}
CONTENT_TYPES = {PNG: "image/png", JPEG: "image/jpeg", SVG: "image/svg+xml"}
STORED_EXTENSION = {PNG: "png", JPEG: "jpg", SVG: "svg"}
TYPE_LABELS = {PNG: "PNG", JPEG: "JPEG", SVG: "SVG"}

# Far above any accepted size (1280x647), far below what could exhaust memory. Checked on the
# header before any pixel is decoded; Pillow's own process-wide Image.MAX_IMAGE_PIXELS guard stays
# as a second line (its warning is raised as an error here), untouched so other code keeps its limit.
MAX_PIXELS = 4_000_000


class UploadRefused(ParkgateError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ImageRule:
    label: object  # lazy translated noun with its article: "the logo", "the banner"
    types: tuple[str, ...]
    max_bytes: int
    width: int
    height: int


LOGO = ImageRule(gettext_lazy("the logo"), (PNG, SVG), 300 * 1024, 200, 120)
BANNER = ImageRule(gettext_lazy("the banner"), (JPEG, PNG), 1024 * 1024, 1280, 647)


@dataclass(frozen=True)
class CleanImage:
    kind: str  # PNG, JPEG or SVG
    content: bytes

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]

    def generated_name(self) -> str:
        """A fresh name: never the uploaded one."""
        return f"{uuid.uuid4().hex}.{STORED_EXTENSION[self.kind]}"


def _kb(size: int) -> str:
    return f"{(size + 1023) // 1024}"


def _types_sentence(types: tuple[str, ...]) -> str:
    return _(" or ").join(TYPE_LABELS[t] for t in types)


def _sniff(head: bytes) -> str | None:
    for kind, magic in _MAGIC.items():
        if head.startswith(magic):
            return kind
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith((b"<?xml", b"<svg", b"<!--", b"<!DOCTYPE", b"<!doctype")):
        return SVG
    return None


def clean_image(upload: IO[bytes], *, name: str, rule: ImageRule) -> CleanImage:
    """Return the validated (and rebuilt) content, or raise UploadRefused with the reason."""
    content = upload.read(rule.max_bytes + 1)
    if len(content) > rule.max_bytes:
        raise UploadRefused(
            _("This file is larger than %(max)s KB; %(what)s may be at most %(max)s KB.")
            % {"max": _kb(rule.max_bytes), "what": rule.label}
        )
    if not content:
        raise UploadRefused(_("This file is empty."))
    kind = _sniff(content[:64])
    if kind is None or kind not in rule.types:
        if kind is None:
            raise UploadRefused(
                _("This file is not an image we can read; %(what)s must be %(types)s.")
                % {"what": rule.label, "types": _types_sentence(rule.types)}
            )
        raise UploadRefused(
            _("This file is in %(found)s format; %(what)s must be %(types)s.")
            % {"found": TYPE_LABELS[kind], "what": rule.label, "types": _types_sentence(rule.types)}
        )
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    claimed = _EXTENSIONS.get(extension)
    if claimed != kind:
        raise UploadRefused(
            _("The file name ends in “%(extension)s” but the file is in %(found)s format.")
            % {"extension": extension or _("(nothing)"), "found": TYPE_LABELS[kind]}
        )
    if kind == SVG:
        return CleanImage(SVG, clean_svg(content, rule=rule))
    return CleanImage(kind, _clean_raster(content, kind=kind, rule=rule))


def _clean_raster(content: bytes, *, kind: str, rule: ImageRule) -> bytes:
    unreadable = UploadRefused(
        _("This %(type)s file is damaged or incomplete and cannot be read.") % {"type": TYPE_LABELS[kind]}
    )
    bomb = UploadRefused(_("This image declares far more pixels than it may have; it is refused."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=[kind.upper()]) as probe:
                width, height = probe.size
                if width * height > MAX_PIXELS:
                    raise bomb
                probe.verify()
            with Image.open(io.BytesIO(content), formats=[kind.upper()]) as opened:
                opened.load()
                # Browsers honour the EXIF orientation: judge and store the image as it will be seen.
                image = ImageOps.exif_transpose(opened)
                if (image.width, image.height) != (rule.width, rule.height):
                    raise UploadRefused(
                        _(
                            "Wrong size: %(what)s must be exactly %(width)s×%(height)s pixels; "  # noqa: RUF001
                            "this one is %(actual_width)s×%(actual_height)s."  # noqa: RUF001
                        )
                        % {
                            "what": rule.label,
                            "width": rule.width,
                            "height": rule.height,
                            "actual_width": image.width,
                            "actual_height": image.height,
                        }
                    )
                return _reencode(image, kind)
    except UploadRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise bomb from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise unreadable from None


def _reencode(image: Image.Image, kind: str) -> bytes:
    """Write the decoded pixels afresh: metadata and trailing bytes go, the colour profile stays."""
    out = io.BytesIO()
    extra = {"icc_profile": image.info["icc_profile"]} if image.info.get("icc_profile") else {}
    if kind == PNG:
        if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
            image = image.convert("RGBA")
        image.save(out, format="PNG", optimize=True, **extra)
    else:
        if image.mode not in ("L", "RGB", "CMYK"):
            image = image.convert("RGB")
        image.save(out, format="JPEG", quality=92, optimize=True, **extra)
    return out.getvalue()


# --- SVG -----------------------------------------------------------------------------------

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"

_ALLOWED_ELEMENTS = frozenset(
    {
        "svg", "g", "defs", "title", "desc", "symbol", "use", "path", "rect", "circle", "ellipse",
        "line", "polyline", "polygon", "text", "tspan", "textPath", "linearGradient",
        "radialGradient", "stop", "clipPath", "mask", "pattern", "style", "filter", "feGaussianBlur",
        "feOffset", "feBlend", "feColorMatrix", "feFlood", "feComposite", "feMerge", "feMergeNode",
    }
)  # fmt: skip
# Elements that would make the logo active or reach outside the file: refused outright.
_REFUSED_ELEMENTS = frozenset(
    {"script", "foreignObject", "iframe", "image", "animate", "set", "animateTransform",
     "animateMotion", "a", "handler", "listener", "feImage"}
)  # fmt: skip
_REFUSED_LOWER = frozenset(e.lower() for e in _REFUSED_ELEMENTS)
_ALLOWED_ATTRIBUTES = frozenset(
    {
        "id", "class", "style", "viewBox", "width", "height", "x", "y", "x1", "y1", "x2", "y2", "cx",
        "cy", "r", "rx", "ry", "d", "points", "fill", "fill-opacity", "fill-rule", "stroke",
        "stroke-width", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray",
        "stroke-dashoffset", "stroke-opacity", "opacity", "transform", "preserveAspectRatio",
        "offset", "stop-color", "stop-opacity", "gradientUnits", "gradientTransform", "spreadMethod",
        "fx", "fy", "fr", "clip-path", "clip-rule", "clipPathUnits", "mask", "maskUnits",
        "maskContentUnits", "patternUnits", "patternContentUnits", "patternTransform", "font-family",
        "font-size", "font-weight", "font-style", "text-anchor", "dominant-baseline",
        "letter-spacing", "dx", "dy", "rotate", "textLength", "lengthAdjust", "startOffset",
        "display", "visibility", "color", "filter", "stdDeviation", "in", "in2", "result", "mode",
        "type", "values", "operator", "k1", "k2", "k3", "k4", "flood-color", "flood-opacity",
        "filterUnits", "primitiveUnits", "href", "version", "xml:space",
    }
)  # fmt: skip
# Judged on the text as the browser reads it (see _css_readings): anything that can fetch a resource.
_UNSAFE_STYLE = re.compile(
    r"url\((?!\s*['\"]?\s*#)|\bsrc\(|image-set\(|@import|expression\(|javascript:|behavior:|binding:",
    re.I,
)
_URL_IN_ATTRIBUTE = re.compile(r"url\((?!\s*['\"]?\s*#)|\bsrc\(|image-set\(", re.I)
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.S)
# CSS Syntax 3, "consume an escaped code point": 1-6 hex digits and one optional white space, an
# escaped newline (nothing), or any other character standing for itself.
_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})(?:\r\n|[ \t\r\n\f])?|(\r\n|[\r\n\f])|(.))", re.S)


def _css_unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            code = int(match.group(1), 16)
            if code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
                return "\ufffd"
            return chr(code)
        if match.group(2):
            return ""
        return match.group(3) or ""

    return _CSS_ESCAPE.sub(replace, text.replace("\x00", "\ufffd"))


def _css_readings(text: str) -> tuple[str, ...]:
    """The text with its escapes decoded, with and without its comments.

    The browser finds comments before it decodes escapes, but not inside strings; rather than
    tokenise CSS, both readings are judged: whatever either one shows is refused.
    """
    return (_css_unescape(_CSS_COMMENT.sub("", text)), _css_unescape(text))


def _css_unsafe(text: str, pattern: re.Pattern[str] = _UNSAFE_STYLE) -> bool:
    return any(pattern.search(reading) for reading in _css_readings(text))


_VIEWBOX = re.compile(r"^\s*([-+\d.eE]+)[\s,]+([-+\d.eE]+)[\s,]+([-+\d.eE]+)[\s,]+([-+\d.eE]+)\s*$")
_LENGTH = re.compile(r"^\s*([\d.]+)\s*(px)?\s*$")


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, local = tag[1:].split("}", 1)
        return namespace, local
    return "", tag


def clean_svg(content: bytes, *, rule: ImageRule) -> bytes:
    try:
        root = SafeET.fromstring(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise UploadRefused(
            _("This SVG declares a DTD or XML entities, which could reach outside the file; it is refused.")
        ) from None
    except StdET.ParseError:
        raise UploadRefused(_("This SVG is not well-formed XML and cannot be read.")) from None
    if root.tag != f"{{{SVG_NS}}}svg":
        raise UploadRefused(_("This file is not an SVG image (its root element is not <svg>)."))
    _check_ratio(root, rule=rule)
    _sanitise(root)
    StdET.register_namespace("", SVG_NS)
    StdET.register_namespace("xlink", XLINK_NS)
    return StdET.tostring(root, encoding="utf-8", xml_declaration=True)


def _refuse_active(what: str) -> UploadRefused:
    return UploadRefused(
        _("This SVG contains %(what)s, which could run code or load other content; it is refused.")
        % {"what": what}
    )


def _sanitise(element: StdET.Element) -> None:
    for child in list(element):
        namespace, local = _local(child.tag) if isinstance(child.tag, str) else ("", "")
        if namespace == SVG_NS and local in _REFUSED_ELEMENTS:
            raise _refuse_active(f"<{local}>")
        if namespace != SVG_NS or local not in _ALLOWED_ELEMENTS:
            # Editor metadata (Inkscape, Illustrator) and anything unknown: dropped.
            if namespace in (SVG_NS, "") and local.lower() in _REFUSED_LOWER:
                raise _refuse_active(f"<{local}>")
            element.remove(child)
            continue
        _sanitise(child)
    namespace, local = _local(element.tag)
    for attribute in list(element.attrib):
        value = element.attrib[attribute]
        attr_namespace, attr_local = _local(attribute)
        if attr_local.lower().startswith("on"):
            raise _refuse_active(_("an event handler (%(name)s)") % {"name": attr_local})
        if attr_local == "href" and attr_namespace in ("", XLINK_NS):
            if not value.strip().startswith("#"):
                raise _refuse_active(_("a reference to another resource (%(href)s)") % {"href": value[:80]})
            continue
        if attr_local == "style" and _css_unsafe(value):
            raise _refuse_active(_("a style that loads another resource"))
        # Presentation attributes (fill, filter, mask...) are CSS values too, escapes included.
        if _css_unsafe(value, _URL_IN_ATTRIBUTE):
            raise _refuse_active(_("a reference to another resource (%(href)s)") % {"href": value[:80]})
        name = "xml:space" if attribute == "{http://www.w3.org/XML/1998/namespace}space" else attr_local
        if (
            attr_namespace not in ("", "http://www.w3.org/XML/1998/namespace")
        ) or name not in _ALLOWED_ATTRIBUTES:
            del element.attrib[attribute]
    if local == "style" and element.text and _css_unsafe(element.text):
        raise _refuse_active(_("a style that loads another resource"))


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    match = _LENGTH.match(value)
    return float(match.group(1)) if match else None


def _check_ratio(root: StdET.Element, *, rule: ImageRule) -> None:
    width: float | None
    height: float | None
    view_box = root.get("viewBox")
    if view_box is not None:
        match = _VIEWBOX.match(view_box)
        if match is None:
            raise UploadRefused(_("This SVG's viewBox cannot be read."))
        try:
            width, height = float(match.group(3)), float(match.group(4))
        except ValueError:
            raise UploadRefused(_("This SVG's viewBox cannot be read.")) from None
    else:
        width, height = _number(root.get("width")), _number(root.get("height"))
    if width is None or height is None or width <= 0 or height <= 0:
        raise UploadRefused(
            _("This SVG has no viewBox; give it one with the ratio %(width)s:%(height)s.")
            % {"width": rule.width, "height": rule.height}
        )
    wanted = rule.width / rule.height
    if abs(width / height - wanted) > wanted * 0.01:
        raise UploadRefused(
            _(
                "This SVG's viewBox is %(actual_width)s×%(actual_height)s; %(what)s needs the "  # noqa: RUF001
                "ratio %(width)s:%(height)s."
            )
            % {
                "actual_width": f"{width:g}",
                "actual_height": f"{height:g}",
                "what": rule.label,
                "width": rule.width,
                "height": rule.height,
            }
        )
