"""First run on a fresh install, no demo data: the first platform staff account."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from parkgate.accounts.models import Organisation, User
from parkgate.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_create_platform_staff_then_set_a_password_and_sign_in() -> None:
    assert not Organisation.objects.exists() and not User.objects.exists()
    out = io.StringIO()
    call_command("create_platform_staff", "--email", "Pat@Operator.example", stdout=out)
    user = User.objects.get()
    assert (user.email, user.is_superuser, user.is_staff) == ("pat@operator.example", True, True)
    assert not user.has_usable_password()
    assert (
        AuditEvent.objects.filter(action="accounts.platform_staff.created", object_id=str(user.pk)).count()
        == 1
    )
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", out.getvalue())
    assert link
    client = Client()
    response = client.get(link.group(1), follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link.group(1)
    response = client.post(
        form_url, {"password1": "staff-passphrase-2026", "password2": "staff-passphrase-2026"}
    )
    assert response.status_code == 302
    # The link works once.
    assert "password/reset/key" in link.group(1)
    reused = Client().get(link.group(1), follow=True)
    assert "password1" not in reused.content.decode()
    response = client.post(
        "/accounts/login/", {"login": "pat@operator.example", "password": "staff-passphrase-2026"}
    )
    assert response.status_code == 302 and response["Location"] == "/platform/"
    # Staff must have a second factor before the console.
    response = client.get("/platform/")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/totp/activate/"


def test_create_platform_staff_refuses_an_address_already_used() -> None:
    call_command("create_platform_staff", "--email", "pat@operator.example", stdout=io.StringIO())
    with pytest.raises(CommandError, match="already has an account"):
        call_command("create_platform_staff", "--email", "PAT@operator.example", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("create_platform_staff", "--email", "not-an-address", stdout=io.StringIO())
    assert User.objects.count() == 1
