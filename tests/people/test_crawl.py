"""Every new page is reached by following links from the role's home (none only by URL)."""

from __future__ import annotations

import re
from collections import deque

import pytest
from django.test import Client

from tests import factories as f

HREF = re.compile(r'href="(/[^"#?]*)"')
SKIP = ("/static/", "/media/", "/accounts/logout/", "/dev/", "/platform/admin/", "/i18n/")


def _crawl(client: Client, start: str, limit: int = 250) -> dict[str, int]:
    seen: dict[str, int] = {}
    queue = deque([start])
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen or url.startswith(SKIP) or url.endswith((".csv", ".png", ".svg", ".ics")):
            continue
        response = client.get(url, follow=True)
        seen[url] = response.status_code
        if "text/html" in response.get("Content-Type", ""):
            queue.extend(HREF.findall(response.content.decode()))
    return seen


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (
            "admin",
            [
                "/office/members/",
                "/office/tenants/",
                "/office/parkers/import/",
                "/accounts/email/",
                "/accounts/2fa/",
                "/accounts/sessions/",
                "/accounts/password/change/",
            ],
        ),
        ("owner", ["/office/tenants/", "/office/parkers/import/", "/control-room/", "/accounts/sessions/"]),
        ("receptionist", ["/control-room/", "/accounts/email/", "/accounts/sessions/"]),
        (
            "staff",
            [
                "/platform/",
                "/platform/organisations/",
                "/platform/payments/",
                "/payments/staff/accounts/",
                "/office/staff/payments/",
                "/accounts/2fa/",
            ],
        ),
    ],
)
def test_each_role_reaches_its_pages_by_links(world, who: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    user = f.UserFactory(is_superuser=True, is_staff=True) if who == "staff" else getattr(world, who)
    client = Client()
    client.force_login(user)
    seen = _crawl(client, "/")
    missing = [url for url in expected if url not in seen]
    assert missing == []
    broken = {url: status for url, status in seen.items() if status >= 500}
    assert broken == {}
    if who == "staff":
        organisation_pages = [u for u in seen if re.fullmatch(r"/platform/organisations/\d+/", u)]
        assert len(organisation_pages) == 3  # every organisation of the world is reachable
