"""Logo and banner uploads: judged on their content, never their name; SVGs made harmless or refused."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from parkgate.portal.uploads import BANNER, JPEG, LOGO, PNG, SVG, UploadRefused, clean_image
from tests.portal.helpers import SVG_OK, jpeg_bytes, png_bytes, png_declaring, svg


def refused(content: bytes, name: str, rule=LOGO) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(UploadRefused) as caught:
        clean_image(io.BytesIO(content), name=name, rule=rule)
    return caught.value.message


def test_a_right_sized_png_logo_is_accepted_and_reencoded() -> None:
    original = png_bytes(200, 120) + b"<script>alert(1)</script>"  # trailing bytes after IEND
    image = clean_image(io.BytesIO(original), name="Logo.PNG", rule=LOGO)
    assert image.kind == PNG
    assert image.content_type == "image/png"
    assert b"<script>" not in image.content
    assert Image.open(io.BytesIO(image.content)).size == (200, 120)
    name = image.generated_name()
    assert name.endswith(".png") and "Logo" not in name and len(name) == 36


def test_a_right_sized_jpeg_banner_is_accepted() -> None:
    image = clean_image(io.BytesIO(jpeg_bytes(1280, 647)), name="banner.jpeg", rule=BANNER)
    assert image.kind == JPEG
    assert Image.open(io.BytesIO(image.content)).size == (1280, 647)


def test_a_png_banner_is_accepted() -> None:
    assert clean_image(io.BytesIO(png_bytes(1280, 647)), name="banner.png", rule=BANNER).kind == PNG


def test_png_named_svg_is_refused() -> None:
    assert refused(png_bytes(200, 120), "logo.svg") == (
        "The file name ends in “.svg” but the file is in PNG format."
    )


def test_jpeg_named_png_is_refused_as_logo_for_its_real_type() -> None:
    assert (
        refused(jpeg_bytes(200, 120), "logo.png")
        == "This file is in JPEG format; the logo must be PNG or SVG."
    )


def test_jpeg_named_png_is_refused_as_banner_for_lying() -> None:
    assert refused(jpeg_bytes(1280, 647), "banner.png", BANNER) == (
        "The file name ends in “.png” but the file is in JPEG format."
    )


def test_text_named_png_is_refused() -> None:
    assert refused(b"just some text, not an image", "logo.png") == (
        "This file is not an image we can read; the logo must be PNG or SVG."
    )


def test_svg_is_refused_as_banner() -> None:
    assert (
        refused(SVG_OK, "banner.svg", BANNER) == "This file is in SVG format; the banner must be JPEG or PNG."
    )


def test_oversized_files_are_refused() -> None:
    big_logo = png_bytes(200, 120) + b"\0" * (300 * 1024)
    assert refused(big_logo, "logo.png") == "This file is larger than 300 KB; the logo may be at most 300 KB."
    big_banner = jpeg_bytes(1280, 647) + b"\0" * (1024 * 1024)
    assert refused(big_banner, "banner.jpg", BANNER) == (
        "This file is larger than 1024 KB; the banner may be at most 1024 KB."
    )


def test_limits_are_inclusive() -> None:
    # Exactly 300 KB passes the size rule (then decodes: PNG ignores bytes after IEND).
    content = png_bytes(200, 120)
    content += b"\0" * (300 * 1024 - len(content))
    assert clean_image(io.BytesIO(content), name="logo.png", rule=LOGO).kind == PNG


@pytest.mark.parametrize(("size", "actual"), [((201, 120), "201×120"), ((400, 240), "400×240")])  # noqa: RUF001
def test_wrong_dimensions_are_refused(size: tuple[int, int], actual: str) -> None:
    assert refused(png_bytes(*size), "logo.png") == (
        f"Wrong size: the logo must be exactly 200×120 pixels; this one is {actual}."  # noqa: RUF001
    )


def test_wrong_banner_dimensions_are_refused() -> None:
    assert refused(jpeg_bytes(1280, 648), "banner.jpg", BANNER) == (
        "Wrong size: the banner must be exactly 1280×647 pixels; this one is 1280×648."  # noqa: RUF001
    )


@pytest.mark.parametrize("size", [(20000, 20000), (3000, 3000)])
def test_decompression_bombs_are_refused_before_decoding(size: tuple[int, int]) -> None:
    bomb = png_declaring(*size)
    assert len(bomb) < 100
    assert refused(bomb, "logo.png") == "This image declares far more pixels than it may have; it is refused."


def test_truncated_png_is_refused() -> None:
    content = png_bytes(200, 120)
    assert refused(content[: len(content) // 2], "logo.png") == (
        "This PNG file is damaged or incomplete and cannot be read."
    )


def test_empty_file_is_refused() -> None:
    assert refused(b"", "logo.png") == "This file is empty."


# --- SVG -----------------------------------------------------------------------------------


def test_a_clean_svg_is_accepted() -> None:
    image = clean_image(io.BytesIO(SVG_OK), name="logo.svg", rule=LOGO)
    assert image.kind == SVG
    assert image.content_type == "image/svg+xml"
    root = ET.fromstring(image.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert [child.tag.split("}")[1] for child in root] == ["rect", "circle"]


def test_svg_editor_metadata_and_unknown_attributes_are_dropped() -> None:
    content = svg(
        '<metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></metadata>'
        '<sodipodi:namedview xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"/>'
        '<rect width="200" height="120" fill="#000" data-x="1"/>'
        '<use xlink:href="#a"/>'
    )
    cleaned = clean_image(io.BytesIO(content), name="logo.svg", rule=LOGO).content
    assert b"metadata" not in cleaned and b"namedview" not in cleaned and b"data-x" not in cleaned
    assert b'href="#a"' in cleaned  # a reference inside the file is harmless


@pytest.mark.parametrize(
    ("body", "extra", "reason"),
    [
        ("<script>alert(1)</script>", "", "<script>"),
        ('<rect width="1" height="1"/>', 'onload="alert(1)"', "an event handler (onload)"),
        ('<rect width="1" height="1" onclick="alert(1)"/>', "", "an event handler (onclick)"),
        (
            '<foreignObject><p xmlns="http://www.w3.org/1999/xhtml">hi</p></foreignObject>',
            "",
            "<foreignObject>",
        ),
        (
            '<use href="https://evil.example/x.svg#a"/>',
            "",
            "a reference to another resource (https://evil.example/x.svg#a)",
        ),
        (
            '<use xlink:href="data:image/svg+xml;base64,PHN2Zy8+"/>',
            "",
            "a reference to another resource (data:image/svg+xml;base64,PHN2Zy8+)",
        ),
        ('<image href="https://evil.example/pixel.png"/>', "", "<image>"),
        (
            '<rect width="1" height="1" style="fill: url(https://evil.example/a)"/>',
            "",
            "a style that loads another resource",
        ),
        (
            "<style>@import url(https://evil.example/a.css);</style>",
            "",
            "a style that loads another resource",
        ),
        (
            '<rect width="1" height="1" fill="url(https://evil.example/g)"/>',
            "",
            "a reference to another resource (url(https://evil.example/g))",
        ),
        ('<a href="javascript:alert(1)"><rect width="1" height="1"/></a>', "", "<a>"),
        ('<animate attributeName="href" to="javascript:alert(1)"/>', "", "<animate>"),
    ],
)
def test_active_svg_content_is_refused(body: str, extra: str, reason: str) -> None:
    message = refused(svg(body, extra=extra), "logo.svg")
    assert (
        message == f"This SVG contains {reason}, which could run code or load other content; it is refused."
    )


def test_svg_with_internal_gradient_reference_is_accepted() -> None:
    content = svg(
        '<defs><linearGradient id="g"><stop offset="0" stop-color="#000"/></linearGradient></defs>'
        '<rect width="200" height="120" fill="url(#g)" style="fill: url(#g)"/>'
    )
    assert clean_image(io.BytesIO(content), name="logo.svg", rule=LOGO).kind == SVG


@pytest.mark.parametrize(
    "head",
    [
        '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY lol "lol">]>',
        '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">',
    ],
)
def test_svg_with_dtd_or_entities_is_refused(head: str) -> None:
    assert refused(svg("<text>&lol;</text>" if "lol" in head else "", head=head), "logo.svg") == (
        "This SVG declares a DTD or XML entities, which could reach outside the file; it is refused."
    )


def test_svg_with_wrong_ratio_is_refused() -> None:
    assert refused(svg("", view_box="0 0 100 100"), "logo.svg") == (
        "This SVG's viewBox is 100×100; the logo needs the ratio 200:120."  # noqa: RUF001
    )


def test_svg_ratio_is_what_counts_not_the_size() -> None:
    assert clean_image(io.BytesIO(svg("", view_box="0 0 50 30")), name="logo.svg", rule=LOGO).kind == SVG


def test_svg_without_viewbox_uses_its_width_and_height() -> None:
    content = b'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="240"></svg>'
    assert clean_image(io.BytesIO(content), name="logo.svg", rule=LOGO).kind == SVG
    content = b'<svg xmlns="http://www.w3.org/2000/svg"></svg>'
    assert refused(content, "logo.svg") == "This SVG has no viewBox; give it one with the ratio 200:120."


def test_malformed_and_foreign_xml_is_refused() -> None:
    assert refused(b"<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>", "logo.svg") == (
        "This SVG is not well-formed XML and cannot be read."
    )
    assert refused(b"<?xml version='1.0'?><html/>", "logo.svg") == (
        "This file is not an SVG image (its root element is not <svg>)."
    )


def test_jpeg_exif_orientation_is_applied_before_judging_the_size() -> None:
    # Stored 647x1280 with "rotate 90°" in EXIF: browsers show it 1280x647, so it is accepted.
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    Image.new("RGB", (647, 1280), "#335577").save(out, format="JPEG", exif=exif)
    image = clean_image(io.BytesIO(out.getvalue()), name="banner.jpg", rule=BANNER)
    stored = Image.open(io.BytesIO(image.content))
    assert stored.size == (1280, 647)
    assert 0x0112 not in stored.getexif()


# Styles that load another resource once the browser has decoded CSS escapes and comments. Each of
# these passed the old filter (it judged the raw text) and is refused now.
STYLE_BYPASSES = [
    r"<style>@\69mport 'https://evil.example/a.css';</style>",
    r"<style>@\000069mport 'https://evil.example/a.css';</style>",
    r"<style>@\49 MPORT 'https://evil.example/a.css';</style>",
    r"<style>rect { fill: u\72l(https://evil.example/a) }</style>",
    r"<style>rect { fill: \75 rl(https://evil.example/a) }</style>",
    r"<style>rect { fill: \u\r\l(https://evil.example/a) }</style>",
    r"<style>rect { fill: U\52L(https://evil.example/a) }</style>",
    "<style>rect { fill: u\\\nrl(https://evil.example/a) }</style>",
    r"<style>rect { background: image-set('https://evil.example/a.png' 1x) }</style>",
    r"<style>rect { background: -webkit-image-set('https://evil.example/a.png' 1x) }</style>",
    r"<style>rect { background: src('https://evil.example/a.png') }</style>",
    r"<style>@namespace x url(https://evil.example/ns);</style>",
    # Inside strings comments are not comments: the url() between them is real.
    """<style>rect { content: "/*"; background: url(https://evil.example/a); content: "*/" }</style>""",
    r"<style>rect { fill: url(\68ttps://evil.example/a) }</style>",
    r"<style>rect { fill: url( '\68ttps://evil.example/a') }</style>",
]
STYLE_ATTRIBUTE_BYPASSES = [
    r'<rect width="1" height="1" style="fill: u\72l(https://evil.example/a)"/>',
    r'<rect width="1" height="1" style="fill: u\000072l(https://evil.example/a)"/>',
    r'<rect width="1" height="1" style="background: image-set(&quot;https://evil.example/a&quot; 1x)"/>',
]
PRESENTATION_ATTRIBUTE_BYPASSES = [
    r'<rect width="1" height="1" fill="u\72l(https://evil.example/g)"/>',
    r'<rect width="1" height="1" filter="\75rl(https://evil.example/f)"/>',
    r'<rect width="1" height="1" mask="URL(https://evil.example/m)"/>',
]


@pytest.mark.parametrize("body", STYLE_BYPASSES + STYLE_ATTRIBUTE_BYPASSES)
def test_css_escapes_and_comments_do_not_smuggle_a_resource_through_a_style(body: str) -> None:
    assert refused(svg(body), "logo.svg") == (
        "This SVG contains a style that loads another resource, which could run code or load other "
        "content; it is refused."
    )


@pytest.mark.parametrize("body", PRESENTATION_ATTRIBUTE_BYPASSES)
def test_css_escapes_do_not_smuggle_a_resource_through_a_presentation_attribute(body: str) -> None:
    message = refused(svg(body), "logo.svg")
    assert message.startswith("This SVG contains a reference to another resource (")


@pytest.mark.parametrize(
    "body",
    [
        r"<style>.a { fill: url(#g) } /* only a comment */ .b{}</style>",
        r"<style>.\31 a { fill: u\72l(#g); font-family: 'Open Sans' }</style>",
        '<rect width="1" height="1" fill="u\\72l(#g)" style="fill: url( \'#g\' )"/>',
    ],
)
def test_escaped_styles_that_stay_inside_the_file_are_accepted(body: str) -> None:
    content = svg('<defs><linearGradient id="g"><stop offset="0"/></linearGradient></defs>' + body)
    assert clean_image(io.BytesIO(content), name="logo.svg", rule=LOGO).kind == SVG
