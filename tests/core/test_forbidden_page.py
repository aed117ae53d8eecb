"""Issue 14 item 10: a 403 is a page of the product, in the user's language, not bare text."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_forbidden_page_is_branded_and_translated(client_for, world) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world.parker_user)
    client.post(reverse("set_language"), {"language": "nl"})
    response = client.get(reverse("backoffice:policy_list"))
    assert response.status_code == 403
    body = response.content.decode()
    assert '<html lang="nl">' in body and 'class="topbar"' in body
    assert "U mag deze pagina niet openen" in body
