"""Issue 14: a crawl, in the browser, of every page each role can reach (the demo data), in English,
French and Dutch, at 1280 and 390 px: no 5xx, no horizontal overflow, no untranslated string, no
axe-core serious or critical violation.

One crawl per role discovers the pages by following the links of each page (same site, GET, one page
per address pattern: /office/parkers/7/edit/ stands for every parker's edit page), starting from the
role's menu. Each page is then loaded once per language at 1280 px, checked, narrowed to 390 px and
checked again (the CSS media queries apply without a reload). axe-core runs once per page, in
English at 390 px. Every problem is collected and reported together.

``PARKGATE_SCREENS=var/screens/after`` (a path prefix) saves each page at 390 px in English.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import polib
import pytest
from django.conf import settings
from django.test import Client

from parkgate.demo import base as demo

AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
ROOT = Path(__file__).resolve().parents[1]
PAGES_PER_ROLE = 28
LANGUAGES = ("en", "fr", "nl")
# Addresses a crawl must not follow: they sign out, switch something, download, or are dev tools.
SKIP = re.compile(
    r"(logout|/i18n/|\.csv|\.ics|\.pdf|\.png|\.svg|/export|/download|/dev/mail|/static/|/media/|"
    r"/healthz|/metrics|/admin/|/assets/|/qr|/delete/|/revoke|/open/)"
)
START = {
    "platform staff": ["/", "/office/", "/portals/platform/payments/", "/office/staff/payments/"],
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


@pytest.fixture
def demo_world(transactional_db: None) -> Iterator[demo.DemoContext]:
    yield demo.load()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_page_of_every_role_in_three_languages_at_two_widths(browser, live_server, demo_world) -> None:  # type: ignore[no-untyped-def]
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci --no-audit --no-fund` (make test does)")
    english = _english_sentences()
    shots = os.environ.get("PARKGATE_SCREENS", "")
    problems: list[str] = []
    live = live_server.url
    visitor_starts = [path for _label, path in demo_world.links if path.startswith("/visit/")]
    visitor_starts += sorted({"/".join(p.split("/")[:3]) + "/" for p in visitor_starts})
    crawled = 0
    for role, starts in START.items():
        user = demo_world.users.get(role)
        cookies = _session_cookie(user, live) if user is not None else []
        context = _context(browser, live, cookies, "en")
        page = context.new_page()
        urls = _discover(page, starts or visitor_starts, live)
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
    assert crawled >= 40, f"the crawl reached only {crawled} pages"
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems)
