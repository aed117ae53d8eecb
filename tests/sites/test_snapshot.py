"""The server side of site agents: pairing, the signed snapshot, the site's decisions on it, uploads."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from parkgate.access.capacity import reservation_cancel
from parkgate.access.decisions import Decision, Reason, decide, sentence
from parkgate.access.gates import grace
from parkgate.access.matching import plate_decision
from parkgate.access.models import AccessEvent, Keypad, Reservation
from parkgate.access.selectors import gate_facts, lot_facts, plate_matches
from parkgate.sites.facts import SiteFacts
from parkgate.sites.models import GateOfflineRule, LotChange, SiteAgent, SiteUpload
from parkgate.sites.services import PairingError, site_agent_pair, site_events_upload
from parkgate.sites.signing import (
    SnapshotRefused,
    new_private_key_text,
    private_key_from_text,
    public_key_text,
    sign,
    verify,
)
from parkgate.sites.snapshot import changed_since, changes_mark, server_public_key, snapshot_if_newer
from tests.sites.support import CAMERA_KEY, NOW, make_site


@pytest.fixture(autouse=True)
def _signing_key(settings) -> None:
    settings.SITE_SIGNING_KEY = new_private_key_text()


@pytest.fixture
def site(world):
    with time_machine.travel(NOW, tick=False):
        return make_site(world)


def _paired(site):
    with time_machine.travel(NOW, tick=False):
        return site_agent_pair(code=site.code)


def _facts(site, *, now=NOW) -> tuple[dict, SiteFacts]:
    site.agent.refresh_from_db()
    envelope = snapshot_if_newer(site.agent, have_version=0, now=now)
    assert envelope is not None
    return envelope, SiteFacts(json.loads(verify(envelope, server_public_key())))


# -- Pairing ---------------------------------------------------------------------------------
def test_pairing_code_works_once_and_gives_a_token_and_the_server_key(site) -> None:
    pairing = _paired(site)
    assert pairing.server_public_key == server_public_key()
    agent = SiteAgent.objects.get(pk=site.agent.pk)
    assert agent.pairing_code_hash == "" and agent.token_hash != "" and pairing.token not in agent.token_hash
    with time_machine.travel(NOW, tick=False), pytest.raises(PairingError):
        site_agent_pair(code=site.code)


def test_expired_pairing_code_is_refused_and_pairs_nothing(site) -> None:
    with time_machine.travel(NOW + timedelta(minutes=31), tick=False), pytest.raises(PairingError):
        site_agent_pair(code=site.code)
    assert SiteAgent.objects.get(pk=site.agent.pk).token_hash == ""


def test_pair_endpoint_and_token_auth(site, client) -> None:
    response = client.post(
        reverse("sites:api_pair"), {"code": site.code.lower()}, content_type="application/json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert response.json()["agent_id"] == site.agent.pk
    bad = client.post(
        reverse("sites:api_sync"),
        {"version": 0, "wait": 0},
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer wrong",
    )
    assert bad.status_code == 401
    ok = client.post(
        reverse("sites:api_sync"),
        {"version": 0, "wait": 0},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert ok.status_code == 200 and ok.json()["snapshot"]["signature"]
    version = json.loads(base64.b64decode(ok.json()["snapshot"]["payload"]))["version"]
    again = client.post(
        reverse("sites:api_sync"),
        {"version": version, "wait": 0},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert again.json() == {"snapshot": None}


# -- The snapshot ------------------------------------------------------------------------------
def test_snapshot_holds_the_lot_facts_and_no_secret_in_clear(site, world) -> None:
    _paired(site)
    envelope, facts = _facts(site)
    raw = base64.b64decode(envelope["payload"]).decode()
    assert "482913" not in raw and CAMERA_KEY not in raw and site.booking.remote_control_token not in raw
    assert "@" not in raw  # no e-mail address
    assert facts.version == 1 and facts.built_at == NOW
    assert set(facts.gates) == {world.entry.pk, world.exit.pk}
    assert facts.gates[world.entry.pk].offline_limit == timedelta(hours=12)
    assert [r.access.reservation_id for r in facts.reservations] == [site.booking.pk]
    assert facts.parkers_by_key["2MEM456"] == [site.member.pk]
    assert [r.access.reservation_id for r in facts.keypad_reservations("482913", at=NOW)] == [site.booking.pk]
    assert facts.keypad_reservations("482914", at=NOW) == []
    assert facts.device("anpr", "site-cam", CAMERA_KEY) is not None
    assert facts.device("anpr", "site-cam", CAMERA_KEY + "x") is None


def test_reservation_outside_48_hours_and_other_lots_stay_out(site, world) -> None:
    from tests import factories as f

    later = f.ReservationFactory(
        policy=world.visitor_policy, start=NOW + timedelta(hours=49), end=NOW + timedelta(hours=50)
    )
    other = f.ReservationFactory(start=NOW, end=NOW + timedelta(hours=1))
    _paired(site)
    _envelope, facts = _facts(site)
    ids = {r.access.reservation_id for r in facts.reservations}
    assert site.booking.pk in ids and later.pk not in ids and other.pk not in ids


# The change log reads transaction snapshots: these tests commit each write, as in production.
@pytest.mark.django_db(transaction=True)
def test_a_new_version_only_when_something_changed(site) -> None:
    _paired(site)
    site.agent.refresh_from_db()
    first = snapshot_if_newer(site.agent, have_version=0, now=NOW)
    assert first is not None
    # Nothing written: the check is one query on the lot's change log.
    with CaptureQueriesContext(connection) as idle:
        assert snapshot_if_newer(site.agent, have_version=1, now=NOW + timedelta(seconds=5)) is None
    assert len(idle.captured_queries) == 1 and "sites_lotchange" in idle.captured_queries[0]["sql"]
    with time_machine.travel(NOW, tick=False):
        reservation_cancel(reservation=site.booking, allow_started=True, now=NOW)
    changed = snapshot_if_newer(site.agent, have_version=1, now=NOW + timedelta(seconds=6))
    facts = SiteFacts(json.loads(verify(changed, server_public_key())))
    assert facts.version == 2 and facts.reservations[0].access.status == "cancelled"
    # A write that changes nothing the site holds: the facts are read again, no new version.
    Reservation.objects.filter(pk=site.booking.pk).update(cancelled_at=NOW)
    assert snapshot_if_newer(site.agent, have_version=2, now=NOW + timedelta(seconds=7)) is None
    with CaptureQueriesContext(connection) as idle:
        assert snapshot_if_newer(site.agent, have_version=2, now=NOW + timedelta(seconds=8)) is None
    assert len(idle.captured_queries) == 1
    # Unchanged but old: re-signed so its age says it is current.
    assert snapshot_if_newer(site.agent, have_version=2, now=NOW + timedelta(minutes=11)) is not None


@pytest.mark.django_db(transaction=True)
def test_every_write_the_snapshot_reads_is_logged_for_the_lot(site, world) -> None:
    from tests import factories as f

    lot = world.lot
    marks = [changes_mark(lot.pk)]

    def changed() -> bool:
        answer = changed_since(lot.pk, marks[-1])
        marks.append(changes_mark(lot.pk))
        return answer

    assert not changed()
    plate = site.member.plates.get()
    plate.text, plate.key = "2-MEM-457", "2MEM457"
    plate.save()
    assert changed()
    assert not changed()  # nothing since
    world.member_policy.members.remove(site.member)
    assert changed()
    world.member_policy.windows.all().delete()
    assert changed()
    Keypad.objects.filter(pk=site.keypad.pk).update(is_active=False)
    assert changed()
    GateOfflineRule.objects.create(gate=world.entry, keep_deciding_hours=2)
    assert changed()
    f.ReservationFactory(policy=world.visitor_policy, start=NOW, end=NOW + timedelta(hours=1))
    assert changed()
    # Another lot's writes are not this lot's changes, and a lot without a site agent logs nothing.
    f.ReservationFactory(start=NOW, end=NOW + timedelta(hours=1))
    f.GateFactory(lot=world.outsider_lot)
    assert not changed()
    assert not LotChange.objects.filter(lot_id=world.outsider_lot.pk).exists()
    # One row per writing transaction and lot, however many rows it wrote.
    before = LotChange.objects.filter(lot_id=lot.pk).count()
    with transaction.atomic():
        for n in range(3):
            f.ReservationFactory(policy=world.visitor_policy, start=NOW, end=NOW + timedelta(hours=n + 1))
    logged = before + (1 if connection.vendor == "postgresql" else 3)
    assert LotChange.objects.filter(lot_id=lot.pk).count() == logged
    assert changed()
    # Rows older than a day (by the database's clock) go when a snapshot is built.
    old = LotChange.objects.create(lot_id=lot.pk, xid=None, created_at=timezone.now() - timedelta(days=2))
    _paired(site)
    _facts(site)
    assert not LotChange.objects.filter(pk=old.pk).exists()
    assert LotChange.objects.filter(lot_id=lot.pk).count() == logged


@pytest.mark.parametrize(
    "plates",
    [["1-VIS-123"], ["2-MEM-456"], ["1-V1S-123"], ["9-XXX-999"], ["2-MEM-456", "1-VIS-123"]],
)
def test_the_site_decides_like_the_server_on_the_same_facts(site, world, plates) -> None:
    _paired(site)
    _envelope, facts = _facts(site)
    keys = [p.replace("-", "") for p in plates]
    before, after = grace()

    def server_decide(accesses):
        return decide(
            lot=lot_facts(world.lot),
            at=NOW,
            accesses=accesses,
            gate=gate_facts(world.entry),
            grace_before=before,
            grace_after=after,
        )

    server = plate_decision(
        keys, lookup=lambda k: plate_matches(world.lot, k, at=NOW), decide_for=server_decide
    )
    gate = facts.gates[world.entry.pk]
    local = plate_decision(
        keys,
        lookup=lambda k: facts.plate_matches(k, at=NOW),
        decide_for=lambda a: facts.decide(gate, a, at=NOW, travel=None),
    )
    assert local == server


# -- Signatures ----------------------------------------------------------------------------------
def test_tampered_unsigned_or_foreign_snapshots_are_refused(site) -> None:
    _paired(site)
    envelope, _facts_ok = _facts(site)
    public = server_public_key()
    payload = base64.b64decode(envelope["payload"]).replace(b'"status":"confirmed"', b'"status":"confirmed" ')
    tampered = envelope | {"payload": base64.b64encode(payload).decode()}
    with pytest.raises(SnapshotRefused, match="bad signature"):
        verify(tampered, public)
    with pytest.raises(SnapshotRefused, match="unsigned"):
        verify(envelope | {"signature": ""}, public)
    other = private_key_from_text(new_private_key_text())
    with pytest.raises(SnapshotRefused, match="bad signature"):
        verify(sign(base64.b64decode(envelope["payload"]), other), public)
    assert public_key_text(other) != public
    assert verify(envelope, public) == base64.b64decode(envelope["payload"])


# -- Offline rules ---------------------------------------------------------------------------------
def test_after_the_offline_limit_exit_opens_and_entry_is_for_members(site, world) -> None:
    GateOfflineRule.objects.create(gate=world.entry, keep_deciding_hours=2)
    _paired(site)
    _envelope, facts = _facts(site)
    entry, exit_gate = facts.gates[world.entry.pk], facts.gates[world.exit.pk]
    booking = [r.access for r in facts.reservations]
    member = facts.member_accesses[site.member.pk]
    inside = NOW + timedelta(hours=1, minutes=59)
    past = NOW + timedelta(hours=2, minutes=1)
    assert facts.decide(entry, booking, at=inside, travel=None).reason == Reason.GRANTED_RESERVATION
    assert facts.decide(entry, booking, at=past, travel=None).reason == Reason.OFFLINE_MEMBERS_ONLY
    assert facts.decide(entry, member, at=past, travel=None).reason == Reason.GRANTED_MEMBER
    assert facts.decide(entry, None, at=past, travel=None).reason == Reason.UNKNOWN_PARKER
    # The exit keeps the default 12 h: still deciding at +2 h, then open for anyone (not the wrong way).
    assert facts.decide(exit_gate, None, at=past, travel=None).reason == Reason.UNKNOWN_PARKER
    late = NOW + timedelta(hours=12, minutes=1)
    assert facts.decide(exit_gate, None, at=late, travel=None).reason == Reason.GRANTED_OFFLINE_EXIT
    assert facts.decide(exit_gate, None, at=late, travel="entry").reason == Reason.GATE_DIRECTION


@pytest.mark.parametrize(
    ("language", "members_only", "cancelled"),
    [
        (
            "en",
            "The car park is offline: only members can enter now. Please call the desk.",
            "This booking was cancelled.",
        ),
        (
            "fr",
            "Le parking est hors ligne : seuls les membres peuvent entrer pour le moment."
            " Veuillez appeler l'accueil.",
            "Cette réservation a été annulée.",
        ),
        (
            "nl",
            "De parking is offline: alleen leden kunnen nu binnen. Bel de receptie.",
            "Deze reservering werd geannuleerd.",
        ),
    ],
)
def test_the_site_says_a_refusal_in_the_gates_language_as_the_server_does(
    site, world, language, members_only, cancelled
) -> None:
    GateOfflineRule.objects.create(gate=world.entry, keep_deciding_hours=2, language=language)
    _paired(site)
    _envelope, facts = _facts(site)
    entry, exit_gate = facts.gates[world.entry.pk], facts.gates[world.exit.pk]
    booking = [r.access for r in facts.reservations]
    past = NOW + timedelta(hours=2, minutes=1)
    offline = facts.decide(entry, booking, at=past, travel=None)
    assert facts.sentence(entry, offline, at=past) == members_only
    with translation.override(language):
        assert sentence(offline.reason, offline.details, zone=world.lot.zone, now=past) == members_only
    gone = Decision(Reason.RESERVATION_CANCELLED, details={"status": "cancelled"})
    assert facts.sentence(entry, gone, at=NOW) == cancelled
    # The exit has no rule: it speaks the default language.
    assert facts.sentence(exit_gate, gone, at=NOW) == "This booking was cancelled."


# -- Uploads ---------------------------------------------------------------------------------------
def _event(seq: int, gate_id: int, **extra) -> dict:
    return {
        "seq": seq,
        "at": (NOW + timedelta(seconds=seq)).isoformat(),
        "gate_id": gate_id,
        "method": "anpr",
        "granted": False,
        "reason": "unknown_parker",
        "result": "not_attempted",
        "plate_text": f"ZZ{seq:04d}",
        "details": {},
    } | extra


def test_upload_is_idempotent_and_keeps_the_site_order(site, world, client_for) -> None:
    _paired(site)
    agent = SiteAgent.objects.get(pk=site.agent.pk)
    gate = world.entry.pk
    first = site_events_upload(agent=agent, events=[_event(s, gate) for s in (1, 2, 3)], now=NOW)
    assert [(r.seq, r.status) for r in first] == [(1, "accepted"), (2, "accepted"), (3, "accepted")]
    # The same batch again (the answer was lost), then an overlapping one, out of order.
    again = site_events_upload(agent=agent, events=[_event(s, gate) for s in (1, 2, 3)], now=NOW)
    assert [(r.seq, r.status) for r in again] == [(1, "duplicate"), (2, "duplicate"), (3, "duplicate")]
    mixed = site_events_upload(agent=agent, events=[_event(s, gate) for s in (5, 3, 4)], now=NOW)
    assert [(r.seq, r.status) for r in mixed] == [(5, "accepted"), (3, "duplicate"), (4, "accepted")]
    events = AccessEvent.objects.filter(lot=world.lot).order_by("pk")
    assert [e.data["site"]["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert [e.plate_text for e in events] == ["ZZ0001", "ZZ0002", "ZZ0003", "ZZ0004", "ZZ0005"]
    assert SiteUpload.objects.filter(agent=agent).count() == 5
    assert events[0].message == "Unknown parker: no matching profile, plate or code."
    # The control room's live log polls for rows after its cursor: the uploaded ones come, newest first.
    desk = client_for(world.receptionist)
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        response = desk.get(
            reverse("controlroom:log", args=[world.lot.pk]),
            {"after": events[0].pk - 1},
            HTTP_HX_REQUEST="true",
        )
    html = response.content.decode()
    positions = [html.index(f"ZZ{n:04d}") for n in (5, 4, 3, 2, 1)]
    assert positions == sorted(positions)


def test_upload_drops_references_to_another_lot(site, world) -> None:
    from tests import factories as f

    _paired(site)
    agent = SiteAgent.objects.get(pk=site.agent.pk)
    foreign_gate = f.GateFactory(lot=world.outsider_lot)
    foreign = f.ReservationFactory(start=NOW, end=NOW + timedelta(hours=1))
    stranger = f.ParkerFactory(managed_by=world.outsider, first_name="Secret", last_name="Person")
    site_events_upload(
        agent=agent,
        events=[
            _event(1, foreign_gate.pk, reservation_id=foreign.pk, parker_id=stranger.pk),
            _event(2, world.entry.pk, parker_id=site.member.pk, reservation_id=site.booking.pk),
        ],
        now=NOW,
    )
    event, known = AccessEvent.objects.filter(lot=world.lot).order_by("pk")
    assert event.gate_id is None and event.reservation_id is None and event.parker_id is None
    assert (known.gate_id, known.parker_id, known.reservation_id) == (
        world.entry.pk,
        site.member.pk,
        site.booking.pk,
    )
    assert not AccessEvent.objects.filter(lot=world.outsider_lot).exists()


def test_a_rejected_event_is_answered_and_the_rest_of_its_batch_is_stored(site, world, client) -> None:
    pairing = _paired(site)
    gate = world.entry.pk
    batch = [
        _event(1, gate),
        _event(2, gate, reason="open_sesame"),
        _event(3, gate, at="2026-12-02T10:00:00"),  # no offset
        _event(4, gate),
    ]

    def upload():
        return client.post(
            reverse("sites:api_events"),
            {"events": batch},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {pairing.token}",
        )

    response = upload()
    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {"seq": 1, "status": "accepted"},
            {"seq": 2, "status": "rejected", "reason": "unknown reason 'open_sesame'"},
            {"seq": 3, "status": "rejected", "reason": "at must be an ISO instant with its offset"},
            {"seq": 4, "status": "accepted"},
        ]
    }
    stored = AccessEvent.objects.filter(lot=world.lot).order_by("pk")
    assert [e.data["site"]["seq"] for e in stored] == [1, 4]
    assert sorted(SiteUpload.objects.values_list("seq", flat=True)) == [1, 4]
    agent = SiteAgent.objects.get(pk=site.agent.pk)
    assert agent.uploaded_through == 4
    assert (
        agent.last_problem == "event_rejected: 2 event(s) rejected, first seq 2: unknown reason 'open_sesame'"
    )
    # Sent again (the answer was lost): the stored ones are duplicates, the bad ones rejected again.
    assert [r["status"] for r in upload().json()["results"]] == [
        "duplicate",
        "rejected",
        "rejected",
        "duplicate",
    ]
    assert AccessEvent.objects.filter(lot=world.lot).count() == 2 and SiteUpload.objects.count() == 2
    # A call that is not a batch at all is refused whole, and stores nothing.
    not_a_batch = client.post(
        reverse("sites:api_events"),
        {"events": "all of them"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {pairing.token}",
    )
    assert not_a_batch.status_code == 400 and SiteUpload.objects.count() == 2


# -- Owner pages and tenancy -------------------------------------------------------------------------
def test_owner_sees_health_and_outsider_gets_404(site, world, client_for) -> None:
    _paired(site)
    SiteAgent.objects.filter(pk=site.agent.pk).update(events_waiting=7, events_rejected=2, agent_version=3)
    page = client_for(world.owner).get(reverse("sites:agent_list"))
    assert page.status_code == 200 and "Central box" in page.content.decode()
    assert '<td>7 <span class="badge bad">2 rejected</span></td>' in page.content.decode()
    outsider = client_for(world.outsider_owner)
    assert outsider.get(reverse("sites:agent_detail", args=[site.agent.pk])).status_code == 404
    assert outsider.post(reverse("sites:agent_pairing_renew", args=[site.agent.pk])).status_code == 404
    response = outsider.post(
        reverse("sites:gate_offline_rule", args=[world.entry.pk]),
        {"keep_deciding_hours": 0, "entry": "closed", "exit": "members"},
    )
    assert response.status_code == 404
    assert not GateOfflineRule.objects.exists()
    assert SiteAgent.objects.get(pk=site.agent.pk).token_hash != ""
    assert "Central box" not in outsider.get(reverse("sites:agent_list")).content.decode()


def test_devices_page_shows_each_site_agents_health(site, world, client_for) -> None:
    _paired(site)
    SiteAgent.objects.filter(pk=site.agent.pk).update(
        last_seen_at=NOW - timedelta(seconds=10), agent_version=5, events_waiting=4, events_rejected=1
    )
    with time_machine.travel(NOW, tick=False):
        html = client_for(world.owner).get(reverse("access:device_list")).content.decode()
    row = html[html.index(reverse("sites:agent_detail", args=[site.agent.pk])) :]
    assert "Central box" in row and '<span class="badge ok">Online</span>' in row
    assert '<td>4 <span class="badge bad">1 rejected</span></td>' in row
    # Another organisation's devices page shows none of it.
    other = client_for(world.outsider_owner).get(reverse("access:device_list")).content.decode()
    assert "Central box" not in other and "Site agents</h2>" not in other


def test_owner_sets_offline_rules(site, world, client_for) -> None:
    owner = client_for(world.owner)
    response = owner.post(
        reverse("sites:gate_offline_rule", args=[world.entry.pk]),
        {"keep_deciding_hours": 4, "entry": "closed", "exit": "open", "language": "nl"},
    )
    assert response.status_code == 302
    rule = GateOfflineRule.objects.get(gate=world.entry)
    assert (rule.keep_deciding_hours, rule.entry, rule.exit, rule.language) == (4, "closed", "open", "nl")
    assert "<td>Dutch</td>" in owner.get(reverse("sites:agent_list")).content.decode()
    bad = owner.post(
        reverse("sites:gate_offline_rule", args=[world.entry.pk]),
        {"keep_deciding_hours": 500, "entry": "open", "exit": "open", "language": "de"},
    )
    assert bad.status_code == 200
    assert set(bad.context["form"].errors) == {"keep_deciding_hours", "entry", "language"}
    rule.refresh_from_db()
    assert (rule.keep_deciding_hours, rule.entry, rule.language) == (4, "closed", "nl")


def test_creating_an_agent_shows_the_code_once(world, client_for) -> None:
    owner = client_for(world.owner)
    response = owner.post(reverse("sites:agent_create"), {"name": "Box", "lot": world.lot.pk})
    assert response.status_code == 200
    agent = SiteAgent.objects.get(name="Box")
    text = response.content.decode()
    code = text.split("data-pairing-code>")[1].split("<")[0]
    assert len(code.replace("-", "")) == 12 and code not in agent.pairing_code_hash
    assert code not in owner.get(reverse("sites:agent_detail", args=[agent.pk])).content.decode()
    outsider = client_for(world.outsider_owner)
    assert outsider.post(reverse("sites:agent_create"), {"name": "X", "lot": world.lot.pk}).status_code == 200
    assert not SiteAgent.objects.filter(name="X").exists()


def test_control_room_shows_each_site_agents_health(site, world, client_for) -> None:
    _paired(site)
    SiteAgent.objects.filter(pk=site.agent.pk).update(
        last_seen_at=NOW - timedelta(seconds=10),
        last_sync_at=NOW - timedelta(minutes=3),
        agent_version=4,
        agent_snapshot_built_at=NOW - timedelta(minutes=3),
        events_waiting=12,
        events_rejected=1,
    )
    desk = client_for(world.receptionist)
    with time_machine.travel(NOW, tick=False):
        text = " ".join(desk.get(reverse("controlroom:lot", args=[world.lot.pk])).content.decode().split())
    assert "Site agent Central box: online." in text
    assert "Snapshot 4, 3 minutes old." in text and "12 events waiting to upload." in text
    assert "1 event rejected by the server, kept at the site." in text
    refresh = reverse("controlroom:site_agents", args=[world.lot.pk])
    assert f'hx-get="{refresh}" hx-trigger="every 30s"' in text
    # The line refreshes itself: five minutes later it says the agent is offline.
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        part = desk.get(refresh, HTTP_HX_REQUEST="true")
    text = " ".join(part.content.decode().split())
    assert part.status_code == 200 and text.startswith('<div id="cr-site-agents"')
    assert "Site agent Central box: offline, the gates decide on its last snapshot." in text
    outsider = client_for(world.outsider_owner)
    assert "Central box" not in outsider.get(reverse("controlroom:index")).content.decode()
    assert outsider.get(reverse("controlroom:lot", args=[world.lot.pk])).status_code == 404
    assert outsider.get(reverse("controlroom:site_agents", args=[world.lot.pk])).status_code == 404


def test_remote_control_page_says_when_the_site_is_out_of_reach(site, world, client) -> None:
    page = reverse("access:remote_control", args=[site.booking.remote_control_token])
    notice = "s connection to Parkgate is down: these buttons cannot reach the gate"
    with time_machine.travel(NOW, tick=False):
        assert notice not in client.get(page).content.decode()  # not paired yet: nothing to say
    _paired(site)
    SiteAgent.objects.filter(pk=site.agent.pk).update(last_seen_at=NOW - timedelta(seconds=30))
    with time_machine.travel(NOW, tick=False):
        online = client.get(page).content.decode()
    assert notice not in online
    # When this phone cannot reach Parkgate, the press fails in the browser: the page's own message
    # (a template parkgate.js shows) says so and offers the keypad code and the camera.
    offline = online[online.index('<template id="rc-offline">') : online.index("</template>")]
    assert "Parkgate could not be reached." in offline
    assert '<strong class="mono">482913</strong>' in offline
    assert "The camera at the gate still recognises your licence plate." in offline
    with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
        text = client.get(page).content.decode()
    assert notice in text
    assert '<strong class="mono">482913</strong>' in text  # the lot has an active keypad
    assert "The camera at the gate still recognises your licence plate." in text
