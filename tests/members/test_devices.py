"""Signed-in devices: "sign out my other devices" ends exactly this user's other sessions, found by key;
signing out forgets the device; housekeeping forgets devices signed out, expired or long unseen."""

from __future__ import annotations

import re
from datetime import timedelta

from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from parkgate.backoffice.housekeeping import housekeeping_run
from parkgate.core.models import AuditEvent
from parkgate.members.models import SignedInDevice
from parkgate.members.services import REMEMBER_SECONDS, devices_forget_stale
from tests import factories as f

BY_KEY = re.compile(r'"django_session"\."session_key" (=|IN) \(?\'')


def _signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Mobile Safari/537.36")
    client.force_login(user)
    return client


def _session_sql(queries: list[dict[str, str]]) -> list[str]:
    return [q["sql"] for q in queries if "django_session" in q["sql"]]


def test_sign_out_other_devices_ends_only_this_users_other_sessions_found_by_key(members) -> None:  # type: ignore[no-untyped-def]
    user = members.world.parker_user
    phone, laptop, tablet = _signed_in(user), _signed_in(user), _signed_in(user)
    colleague = _signed_in(members.colleague_user)
    # The tablet signed in before devices were recorded: only allauth's session list knows it
    # (its middleware records every session a signed-in user makes a request with).
    tablet.get(reverse("members:home"))
    SignedInDevice.objects.filter(session_key=tablet.session.session_key).delete()
    assert UserSession.objects.filter(session_key=tablet.session.session_key, user=user).exists()
    # A device row that (wrongly) names the colleague's session must not end it.
    SignedInDevice.objects.filter(session_key=colleague.session.session_key).update(user=user)
    stranger_sessions = {colleague.session.session_key}
    for _ in range(5):  # other people's sessions are never read
        stranger_sessions.add(
            _signed_in(f.MembershipFactory(organisation=members.world.tenant).user).session.session_key
        )

    with CaptureQueriesContext(connection) as captured:
        response = phone.post(reverse("members:device"), {"action": "sign_out_others"})
    # Read before the next request: each request empties the query log.
    statements = _session_sql(captured.captured_queries)
    assert "Signed out of 2 other sessions." in phone.get(response["Location"]).content.decode()

    assert laptop.get(reverse("members:home")).status_code == 302  # back to the sign-in page
    assert tablet.get(reverse("members:home")).status_code == 302
    assert phone.get(reverse("members:home")).status_code == 200
    assert colleague.get(reverse("members:home")).status_code == 200
    assert stranger_sessions <= set(Session.objects.values_list("session_key", flat=True))
    # Targeted: every statement on the session table names its session by key.
    # (a scan would read "WHERE expire_date > ... AND NOT (session_key = <this one>)").
    assert statements and all(BY_KEY.search(sql) and "NOT (" not in sql for sql in statements), statements
    assert list(SignedInDevice.objects.filter(user=user).values_list("session_key", flat=True)) == [
        phone.session.session_key
    ]
    audit = AuditEvent.objects.get(action="members.devices.signed_out")
    assert audit.data == {"sessions": 2}


def test_signing_out_forgets_this_device(members) -> None:  # type: ignore[no-untyped-def]
    phone = _signed_in(members.world.parker_user)
    key = phone.session.session_key
    assert SignedInDevice.objects.filter(session_key=key).exists()
    phone.post(reverse("account_logout"))
    assert not SignedInDevice.objects.filter(session_key=key).exists()


def test_the_device_page_lists_only_devices_still_signed_in(members) -> None:  # type: ignore[no-untyped-def]
    user = members.world.parker_user
    phone, laptop = _signed_in(user), _signed_in(user)
    Session.objects.filter(session_key=laptop.session.session_key).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )
    html = phone.get(reverse("members:device")).content.decode()
    assert html.count("Signed in on") == 1 and "this device" in html


def test_housekeeping_forgets_devices_signed_out_expired_or_long_unseen(members, pinned_now) -> None:  # type: ignore[no-untyped-def]
    user = members.world.parker_user
    kept, signed_out, expired, unseen = (_signed_in(user) for _ in range(4))
    other_user = _signed_in(members.colleague_user)
    # Signed out from elsewhere (the session is gone, the row stayed).
    Session.objects.filter(session_key=signed_out.session.session_key).delete()
    # Ran out.
    Session.objects.filter(session_key=expired.session.session_key).update(
        expire_date=pinned_now - timedelta(seconds=1)
    )
    # Remembered, signed in 100 days ago and last seen 91 days ago: longer than the remember period.
    long_ago = pinned_now - timedelta(days=100)
    SignedInDevice.objects.filter(session_key=unseen.session.session_key).update(
        created_at=long_ago, remembered=True
    )
    unseen.get(reverse("members:home"))  # allauth records the session ...
    UserSession.objects.filter(session_key=unseen.session.session_key).update(
        last_seen_at=pinned_now - timedelta(days=91)
    )  # ... and when it was last seen
    # Signed in 100 days ago but seen yesterday: kept.
    SignedInDevice.objects.filter(session_key=kept.session.session_key).update(
        created_at=long_ago, remembered=True
    )
    kept.get(reverse("members:home"))
    UserSession.objects.filter(session_key=kept.session.session_key).update(
        last_seen_at=pinned_now - timedelta(days=1)
    )
    assert REMEMBER_SECONDS == 90 * 24 * 3600

    assert housekeeping_run()["signed-in devices forgotten"] == 3
    assert set(SignedInDevice.objects.values_list("session_key", flat=True)) == {
        kept.session.session_key,
        other_user.session.session_key,
    }
    # The long-unseen device is signed out too; the kept one and the other user stay signed in.
    assert unseen.get(reverse("members:home")).status_code == 302
    assert kept.get(reverse("members:home")).status_code == 200
    assert other_user.get(reverse("members:home")).status_code == 200
    assert devices_forget_stale() == 0  # nothing twice
