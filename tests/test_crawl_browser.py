"""Issue 14: a crawl, in the browser, of every page each role can reach (the demo data), in English,
French and Dutch, at 1280 and 390 px: no 5xx, no horizontal overflow, no untranslated string, no
axe-core serious or critical violation.

One crawl per role discovers the pages by following the links of each page (same site, GET, one page
per address pattern: /office/parkers/7/edit/ stands for every parker's edit page), starting from the
role's menu. Each page is then loaded once per language at 1280 px, checked, narrowed to 390 px and
checked again (the CSS media queries apply without a reload). axe-core runs once per page, in
English at 390 px. Every problem is collected and reported together.

Pages no menu links to are added by address (``_unlinked_pages``): the platform console (staff sign in
with their second factor set up), the walk-in form, a booking's confirmation page with its invoice
link, a cancel page, a withdrawn visitor invitation and a withdrawn member invitation, each portal's
home page, a 403 and a 404. The invoice and receipt links answer 200 with a PDF.

``PARKGATE_SCREENS=var/screens/after`` (a path prefix) saves each page at 390 px in English.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import polib
import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse

from parkgate.access.models import Reservation, ReservationStatus
from parkgate.backoffice import people
from parkgate.booking.models import Booking, BookingStatus
from parkgate.core.models import OutboundEmail
from parkgate.demo import base as demo
from parkgate.payments.documents import payment_document_issue
from parkgate.payments.models import Payment
from parkgate.portal.models import Invitation, VisitorPortal
from tests.factories import ParkerFactory, ReservationFactory, aware
from tests.payments.paid import paid_booking_record

AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
ROOT = Path(__file__).resolve().parents[1]
PAGES_PER_ROLE = 28
LANGUAGES = ("en", "fr", "nl")
# Addresses a crawl must not follow: they sign out, switch something, download, or are dev tools.
SKIP = re.compile(
    r"(logout|/i18n/|\.csv|\.ics|\.pdf|\.png|\.svg|/export|/download|/dev/mail|/static/|/media/|"
    r"/healthz|/metrics|/admin/|/assets/|/qr|/delete/|/revoke|/open/|/documents/)"
)
START = {
    "platform staff": [
        "/",
        "/platform/",
        "/office/",
        "/portals/platform/payments/",
        "/office/staff/payments/",
    ],
    "organisation admin": ["/", "/office/", "/portals/", "/office/bookings/", "/office/audit/"],
    "parking owner": ["/", "/office/", "/control-room/", "/office/lots/", "/office/audit/"],
    "receptionist": ["/", "/control-room/"],
    "parker": ["/", "/me/", "/office/"],
    "visitor": [],  # the demo's invitation links (ctx.links), and each portal's public page
}


def _english_sentences() -> set[str]:
    """Every catalogue string of two words or more that the catalogues translate differently."""
    sentences: set[str] = set()
    for po_path in ROOT.glob("parkgate/*/locale/fr/LC_MESSAGES/django.po"):
        for entry in polib.pofile(str(po_path)):
            text = " ".join(entry.msgid.split())
            if entry.msgstr and entry.msgstr != entry.msgid and len(text.split()) >= 2 and "%" not in text:
                sentences.add(text)
    return sentences


def _pattern(url: str) -> str:
    parts = urlsplit(url)
    query = "&".join(sorted(k.split("=")[0] for k in parts.query.split("&") if k))
    return re.sub(r"/[0-9]+(?=/|$)", "/N", parts.path) + ("?" + query if query else "")


# Visible leaf texts (no element children), whitespace collapsed.
LEAF_TEXTS = """() => {
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.children.length || !el.textContent.trim()) continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const own = el.closest('[lang]');
    if (own && own.getAttribute('lang') !== document.documentElement.lang) continue;
    out.push(el.textContent.replace(/\\s+/g, ' ').trim());
  }
  return out;
}"""
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 && box.width > 0) {
      let clipped = false;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const s = getComputedStyle(p);
        if (['auto', 'scroll', 'hidden', 'clip'].includes(s.overflowX)) { clipped = true; break; }
      }
      const name = typeof el.className === 'string' && el.className ? '.' + el.className.split(' ')[0] : '';
      if (!clipped) wide.push(el.tagName.toLowerCase() + name + ' ' + Math.round(box.right));
    }
  }
  return {scroll: document.documentElement.scrollWidth, width: width, wide: wide.slice(0, 4)};
}"""


def _session_cookie(user: Any, live_url: str) -> list[dict[str, Any]]:
    client = Client()
    client.force_login(user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return [{"name": settings.SESSION_COOKIE_NAME, "value": value, "url": live_url}]


def _context(browser: Any, live_url: str, cookies: list[dict[str, Any]], language: str) -> Any:
    context = browser.new_context(base_url=live_url, viewport={"width": 1280, "height": 800}, locale="en-GB")
    context.set_default_timeout(15_000)
    context.add_cookies(
        [*cookies, {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_url}]
    )
    return context


def _discover(page: Any, starts: list[str], live_url: str) -> list[str]:
    seen: dict[str, str] = {}
    queue = list(starts)
    while queue and len(seen) < PAGES_PER_ROLE:
        url = queue.pop(0)
        key = _pattern(url)
        if key in seen or SKIP.search(url):
            continue
        response = page.goto(url)
        if response is None or (response.status >= 400 and response.status != 404):
            seen[key] = url  # reported by the check pass
            continue
        seen[key] = url
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            parts = urlsplit(href)
            if href.startswith(live_url) and not parts.fragment and not SKIP.search(href):
                path = parts.path + ("?" + parts.query if parts.query else "")
                if _pattern(path) not in seen:
                    queue.append(path)
    return list(seen.values())


def _with_lang(url: str, language: str) -> str:
    """Public pages (portals, privacy notices) take their language from ``?lang=``: set it."""
    if not url.startswith(("/visit/", "/privacy/")):
        return url
    path, _, query = url.partition("?")
    kept = [part for part in query.split("&") if part and not part.startswith("lang=")]
    return path + "?" + "&".join([*kept, f"lang={language}"])


def _check(page: Any, url: str, language: str, english: set[str], problems: list[str], shots: str) -> None:
    response = page.goto(_with_lang(url, language))
    where = f"{language} {url}"
    if response is None or response.status >= 500:
        problems.append(f"{where}: status {response.status if response else 'none'}")
        return
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 844 if width == 390 else 800})
        size = page.evaluate(OVERFLOW)
        if size["scroll"] > size["width"] + 1:
            problems.append(f"{where} @{width}: {size['scroll']} px wide, {size['wide']}")
        if width == 390 and language == "en":
            if shots:
                name = re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-")[:60] or "home"
                Path(shots).parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=f"{shots}-{name}.png", full_page=True)
            page.evaluate(AXE.read_text() + "\n;undefined")
            result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
            for violation in result["violations"]:
                if violation["impact"] in ("serious", "critical"):
                    targets = [n["target"] for n in violation["nodes"]][:2]
                    problems.append(f"{where}: axe {violation['id']} ({violation['impact']}) {targets}")
    page.set_viewport_size({"width": 1280, "height": 800})
    offered = page.eval_on_selector_all(".portal-languages a[hreflang]", "els => els.map(e => e.hreflang)")
    if url.startswith("/visit/") and language not in offered:
        return  # a portal in fewer languages: its own language is the right one
    if language != "en":
        lang = page.evaluate("() => document.documentElement.lang")
        if lang != language:
            problems.append(f"{where}: <html lang={lang}>")
        untranslated = sorted({t for t in page.evaluate(LEAF_TEXTS) if t in english})
        if untranslated:
            problems.append(f"{where}: untranslated {untranslated[:4]}")


def _paid_booking(now: datetime) -> tuple[Booking, Payment]:
    """A booking paid on the demo's paid portal with an invoice (what Stripe's webhook leaves behind)."""
    portal = VisitorPortal.objects.get(slug="acme-paid-parking")
    invitation = Invitation.objects.filter(portal=portal).order_by("pk").first()
    zone = portal.lot.zone
    day = now.astimezone(zone).date() + timedelta(days=1)
    start = aware(day.year, day.month, day.day, 9, tz=str(zone))
    marc = ParkerFactory(
        managed_by=portal.organisation,
        first_name="Marc",
        last_name="Lambert",
        email="marc.lambert@example.com",
    )
    reservation = ReservationFactory(
        parker=marc,
        policy=portal.policies.get(),
        start=start,
        end=start + timedelta(hours=4),
        plate_text="1-MLA-123",
    )
    booking = Booking.objects.create(
        portal=portal,
        invitation=invitation,
        group_id=reservation.group_id,
        reference="PAIDCRAWL",
        link_key=secrets.token_urlsafe(32),
        language="en",
        booker_email="marc.lambert@example.com",
        spots=1,
        status=BookingStatus.CONFIRMED,
    )
    payment = paid_booking_record(
        booking,
        reservation,
        amount=800,
        vat=139,
        paid_at=now,
        company_name="Lambert & Fils SRL",
        company_address="Rue Haute 1\n1000 Bruxelles",
        company_vat_number="BE0123456789",
    )
    with transaction.atomic():
        payment_document_issue(payment=payment, now=now)
    return booking, payment


def _unlinked_pages(ctx: demo.DemoContext, now: datetime) -> tuple[dict[str, dict[str, int]], list[str]]:
    """Pages no menu links to, per role, with the status each answers; the PDF links to download."""
    # Staff set up their second factor at their first sign-in; a signed-in session then has it.
    TOTP.activate(ctx.users["platform staff"], generate_totp_secret())
    walk_in = f"/control-room/{ctx.lot.pk}/walk-in/"
    free = Booking.objects.filter(portal__slug="acme-visitors").order_by("pk").first()
    assert free is not None and free.invitation is not None, "the demo books one visitor"
    confirmation = reverse(
        "booking:confirmation", args=[free.portal.slug, free.invitation.token, free.reference, free.link_key]
    )
    reservation = Reservation.objects.filter(
        group_id=free.group_id, status=ReservationStatus.CONFIRMED
    ).first()
    assert reservation is not None
    cancel = reverse("booking:cancel", args=[free.portal.slug, reservation.cancel_token])
    revoked = Invitation.objects.create(
        portal=free.portal, token=secrets.token_urlsafe(24), language="fr", revoked_at=now
    )
    # A member invitation withdrawn by the admin: its address is only in the e-mail that was sent.
    with transaction.atomic():
        member_invitation = people.invitation_create(
            organisation=ctx.acme, email="withdrawn@acme.example", role="parker", language="en", actor=None
        )
    people.invitation_revoke(invitation=member_invitation, actor=None)
    sent = OutboundEmail.objects.get(to=["withdrawn@acme.example"])
    withdrawn = re.search(r"/invitations/[^/\s]+/", sent.body_text)
    assert withdrawn is not None
    paid, payment = _paid_booking(now)
    assert paid.invitation is not None
    paid_confirmation = reverse(
        "booking:confirmation", args=[paid.portal.slug, paid.invitation.token, paid.reference, paid.link_key]
    )
    documents = [
        reverse(
            "booking:document",
            args=[paid.portal.slug, paid.invitation.token, paid.reference, document.access_token],
        )
        for document in payment.documents.all()
    ]
    pages = {
        "platform staff": {"/platform/": 200, "/platform/organisations/": 200, "/platform/payments/": 200},
        "parking owner": {walk_in: 200},
        "receptionist": {walk_in: 200, "/platform/": 403},
        "visitor": {
            confirmation: 200,
            cancel: 200,
            paid_confirmation: 200,
            **{f"/visit/{slug}/": 200 for slug in VisitorPortal.objects.values_list("slug", flat=True)},
            f"/visit/{free.portal.slug}/{revoked.token}/": 404,
            withdrawn.group(0): 404,
            "/visit/no-such-portal/": 404,
        },
    }
    return pages, documents


@pytest.fixture
def demo_world(transactional_db: None) -> Iterator[demo.DemoContext]:
    yield demo.load()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_page_of_every_role_in_three_languages_at_two_widths(
    browser, live_server, demo_world, pinned_now
) -> None:  # type: ignore[no-untyped-def]
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci --no-audit --no-fund` (make test does)")
    english = _english_sentences()
    shots = os.environ.get("PARKGATE_SCREENS", "")
    problems: list[str] = []
    live = live_server.url
    visitor_starts = [path for _label, path in demo_world.links if path.startswith("/visit/")]
    visitor_starts += sorted({"/".join(p.split("/")[:3]) + "/" for p in visitor_starts})
    unlinked, documents = _unlinked_pages(demo_world, pinned_now)
    crawled = 0
    for role, starts in START.items():
        user = demo_world.users.get(role)
        cookies = _session_cookie(user, live) if user is not None else []
        context = _context(browser, live, cookies, "en")
        page = context.new_page()
        urls = _discover(page, starts or visitor_starts, live)
        for url, expected in unlinked.get(role, {}).items():
            status = page.goto(url).status
            if status != expected:
                problems.append(f"{role} {url}: status {status}, expected {expected}")
            if url not in urls:
                urls.append(url)
        if role == "visitor":
            for url in documents:
                response = page.request.get(url)
                if response.status != 200 or response.headers.get("content-type") != "application/pdf":
                    problems.append(f"{url}: {response.status} {response.headers.get('content-type')}")
                elif not response.body().startswith(b"%PDF-"):
                    problems.append(f"{url}: not a PDF")
        context.close()
        crawled += len(urls)
        for language in LANGUAGES:
            context = _context(browser, live, cookies, language)
            page = context.new_page()
            for url in urls:
                prefix = f"{shots}-{role.replace(' ', '-')}" if shots else ""
                _check(page, url, language, english, problems, prefix)
            context.close()
    report = os.environ.get("PARKGATE_CRAWL_REPORT", "")
    if report:
        Path(report).write_text(f"{crawled} pages\n" + "\n".join(problems) + "\n")
    assert len(documents) == 1, "the paid booking has its invoice"
    assert crawled >= 40, f"the crawl reached only {crawled} pages"
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems)
