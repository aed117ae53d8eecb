"""Build and sign one lot's snapshot for its site agent.

What a site needs to decide alone, and nothing more: reservations from now (less the grace after
their end) to ``SITE_SNAPSHOT_HOURS`` ahead in every status (a cancelled one must say so), the
lot's member policies with their timetables and members (with the days they shared their spot),
the canonical plate keys of those parkers, keypad codes, remote-control tokens and device keys as
salted HMACs only, and the active gates with their relay namespaces, driver settings and offline
rules. No names, e-mail addresses or phone numbers.

Change detection: database triggers log the writes to every table the snapshot reads, per lot
(``LotChange``), whichever code path wrote them (a service, a queryset ``update()``, the admin);
the sync call asks the log whether a write committed since the last facts were read, and reads
them again only then. The facts are
hashed without the instant they were built, so a write that changed nothing the site holds sends
no new version. See docs/site-agent.md.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import translation

from parkgate.access.decisions import phrase_catalogue
from parkgate.access.gates import grace
from parkgate.access.models import Camera, Keypad, Reservation
from parkgate.parking.models import AccessPolicy, Gate, Plate, PolicyKind, SpotRelease, SpotReleaseStatus
from parkgate.sites.facts import PAYLOAD_FORMAT
from parkgate.sites.models import DEFAULT_OFFLINE_HOURS, GateOfflineRule, LotChange, SiteAgent
from parkgate.sites.signing import (
    dumps,
    new_private_key_text,
    private_key_from_text,
    public_key_text,
    salted_hash,
    sign,
)

logger = logging.getLogger(__name__)
_key_lock = threading.Lock()
_key_cache: dict[str, Ed25519PrivateKey] = {}


def signing_key() -> Ed25519PrivateKey:
    """The server's Ed25519 key: ``SITE_SIGNING_KEY``, else the key file (created on first use)."""
    text = settings.SITE_SIGNING_KEY
    with _key_lock:
        if not text:
            path = Path(settings.SITE_SIGNING_KEY_FILE)
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                except FileExistsError:
                    pass
                else:
                    with os.fdopen(fd, "w") as handle:
                        handle.write(new_private_key_text())
                    logger.warning("created the site signing key %s (set SITE_SIGNING_KEY to share it)", path)
            text = path.read_text().strip()
        key = _key_cache.get(text)
        if key is None:
            key = _key_cache[text] = private_key_from_text(text)
        return key


def server_public_key() -> str:
    return public_key_text(signing_key())


def _iso(value: datetime) -> str:
    return value.isoformat()


def snapshot_facts(agent: SiteAgent, *, now: datetime) -> dict[str, Any]:
    """The facts of the agent's lot at ``now`` (no instant of building in them)."""
    lot = agent.lot
    salt = agent.salt
    before, after = grace()
    gates = list(Gate.objects.filter(lot=lot, is_active=True).order_by("pk"))
    rules = {r.gate_id: r for r in GateOfflineRule.objects.filter(gate__in=gates)}
    gate_rows = []
    for gate in gates:
        rule = rules.get(gate.pk)
        gate_rows.append(
            {
                "id": gate.pk,
                "name": gate.name,
                "direction": gate.direction,
                "driver_kind": gate.driver_kind,
                "driver_settings": gate.driver_settings or {},
                "namespace": gate.mqtt_namespace,
                "offline_limit_s": (rule.keep_deciding_hours if rule else DEFAULT_OFFLINE_HOURS) * 3600,
                "offline_entry": rule.entry if rule else "members",
                "offline_exit": rule.exit if rule else "open",
                "language": rule.language if rule else settings.LANGUAGE_CODE,
            }
        )
    # What the site says, in the words the server uses (``access.decisions.sentence``), in each
    # language its gates speak.
    phrases = {}
    languages = {rule.language for rule in rules.values()} | {settings.LANGUAGE_CODE}
    for language in sorted(languages):
        with translation.override(language):
            phrases[language] = phrase_catalogue()
    cameras = [
        {
            "public_id": c.public_id,
            "gate_id": c.gate_id,
            "format": c.format,
            "min_confidence": c.min_confidence,
            "key_hash": salted_hash(salt, c.secret_key),
        }
        for c in Camera.objects.filter(gate__in=gates, is_active=True).order_by("pk")
    ]
    keypads = [
        {
            "public_id": k.public_id,
            "gate_id": k.gate_id,
            "key_hash": salted_hash(salt, k.secret_key),
            "mqtt_topic": k.mqtt_topic,
        }
        for k in Keypad.objects.filter(gate__in=gates, is_active=True).order_by("pk")
    ]
    policies = list(
        AccessPolicy.objects.filter(lot=lot, kind=PolicyKind.MEMBER)
        .prefetch_related("windows")
        .order_by("pk")
    )
    policy_rows = [
        {
            "id": p.pk,
            "name": p.name,
            "windows": sorted([w.weekday, w.start_minute, w.end_minute] for w in p.windows.all()),
            "valid_from": p.valid_from.isoformat() if p.valid_from else None,
            "valid_until": p.valid_until.isoformat() if p.valid_until else None,
            "booking_required": p.booking_required,
        }
        for p in policies
    ]
    through = AccessPolicy.members.through
    links = list(
        through.objects.filter(accesspolicy__in=policies)
        .order_by("accesspolicy_id", "parker_id")
        .values_list("parker_id", "accesspolicy_id")
    )
    today = now.astimezone(lot.zone).date()
    shared: dict[tuple[int, int], list[str]] = {}
    for parker_id, policy_id, day in (
        SpotRelease.objects.filter(
            policy__in=policies,
            status=SpotReleaseStatus.RELEASED,
            day__gte=today - timedelta(days=2),
            day__lte=today + timedelta(days=3),
        )
        .order_by("day")
        .values_list("parker_id", "policy_id", "day")
    ):
        shared.setdefault((parker_id, policy_id), []).append(day.isoformat())
    members = [
        {"parker_id": parker, "policy_id": policy, "shared_days": shared.get((parker, policy), [])}
        for parker, policy in links
    ]
    horizon_end = now + timedelta(hours=settings.SITE_SNAPSHOT_HOURS)
    reservation_rows = []
    parker_ids = {parker for parker, _policy in links}
    policy_names = dict(AccessPolicy.objects.filter(lot=lot).values_list("pk", "name"))
    # Plain tuples: a big lot has tens of thousands of rows and this runs on every sync check.
    for pk, parker_id, policy_id, start, end, status, plate_key, plate_text, code, token in (
        Reservation.objects.filter(lot=lot, end__gt=now - after, start__lt=horizon_end)
        .order_by("start", "pk")
        .values_list(
            "pk",
            "parker_id",
            "policy_id",
            "start",
            "end",
            "status",
            "plate_key",
            "plate_text",
            "keypad_code",
            "remote_control_token",
        )
    ):
        parker_ids.add(parker_id)
        reservation_rows.append(
            {
                "id": pk,
                "parker_id": parker_id,
                "policy_id": policy_id,
                "name": policy_names.get(policy_id, ""),
                "start": _iso(start),
                "end": _iso(end),
                "status": status,
                "plate_key": plate_key,
                "plate_text": plate_text,
                "keypad_hash": salted_hash(salt, code),
                "remote_control_hash": salted_hash(salt, token),
            }
        )
    plates = sorted(
        [key, parker]
        for key, parker in Plate.objects.filter(parker_id__in=parker_ids)
        .exclude(Q(key=""))
        .values_list("key", "parker_id")
    )
    return {
        "format": PAYLOAD_FORMAT,
        "agent_id": agent.pk,
        "lot": {"id": lot.pk, "name": lot.name, "timezone": lot.timezone},
        "salt": salt,
        "settings": {
            "grace_before_s": int(before.total_seconds()),
            "grace_after_s": int(after.total_seconds()),
            "anpr_repeat_s": settings.ANPR_REPEAT_WINDOW_SECONDS,
            "keypad_repeat_s": settings.KEYPAD_REPEAT_WINDOW_SECONDS,
            "keypad_burst_failures": settings.KEYPAD_BURST_FAILURES,
            "keypad_burst_s": settings.KEYPAD_BURST_SECONDS,
            "keypad_max_wrong_per_hour": settings.KEYPAD_MAX_WRONG_PER_HOUR,
            "command_timeout_s": settings.GATE_COMMAND_TIMEOUT_SECONDS,
        },
        "gates": gate_rows,
        "phrases": phrases,
        "cameras": cameras,
        "keypads": keypads,
        "policies": policy_rows,
        "members": members,
        "plates": plates,
        "reservations": reservation_rows,
    }


def snapshot_envelope(facts_bytes: bytes, *, version: int, built_at: datetime) -> dict[str, Any]:
    """Sign the facts (already serialised, as hashed) followed by the version and the build time."""
    extra = dumps(
        {
            "version": version,
            "built_at": _iso(built_at),
            "horizon_end": _iso(built_at + timedelta(hours=settings.SITE_SNAPSHOT_HOURS)),
        }
    )
    return sign(facts_bytes[:-1] + b"," + extra[1:], signing_key())


# Change rows are kept this long: far longer than a snapshot may go unrefreshed
# (SITE_SNAPSHOT_REFRESH_SECONDS), so a mark is never older than the rows it is compared with.
CHANGES_KEPT = timedelta(days=1)


def changes_mark(lot_id: int) -> str:
    """Where the lot's change log stands now, to be read before the facts (``LotChange``).

    PostgreSQL: the transaction snapshot (``pg_current_snapshot()``): a change committed later is
    a row whose writer that snapshot does not see, including writers that had taken their row id
    but not yet committed (ids are not in commit order). SQLite writes one transaction at a time,
    so there the highest row id says it.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_current_snapshot()::text")
            return f"pg {cursor.fetchone()[0]}"
        cursor.execute("SELECT coalesce(max(id), 0) FROM sites_lotchange WHERE lot_id = %s", [lot_id])
        return f"max {cursor.fetchone()[0]}"


def changed_since(lot_id: int, mark: str) -> bool:
    """Whether a write to the lot's facts committed after ``mark`` (one small indexed query)."""
    kind, _sep, value = mark.partition(" ")
    with connection.cursor() as cursor:
        if kind == "pg" and connection.vendor == "postgresql":
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM sites_lotchange WHERE lot_id = %s"
                " AND xid >= pg_snapshot_xmin(%s::pg_snapshot)::text::bigint"
                " AND NOT pg_visible_in_snapshot(xid::text::xid8, %s::pg_snapshot))",
                [lot_id, value, value],
            )
        elif kind == "max" and connection.vendor != "postgresql":
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM sites_lotchange WHERE lot_id = %s AND id > %s)",
                [lot_id, int(value)],
            )
        else:
            return True  # a mark from another database (or none): read the facts
        return bool(cursor.fetchone()[0])


def snapshot_if_newer(agent: SiteAgent, *, have_version: int, now: datetime) -> dict[str, Any] | None:
    """A new signed snapshot when the lot's facts changed, the last one is due a refresh, or the
    agent holds another version than the last one served; None when the agent is current.

    Change detection asks the lot's change log whether a write committed since the mark taken
    before the last facts were read (one small query); the facts are read only when one did. The
    mark is taken before the facts, so a write committed while they are read is sent at the next
    check. The refresh (``SITE_SNAPSHOT_REFRESH_SECONDS``) also brings reservations that came into
    the 48-hour window as time passed, which no write announces.
    """
    refresh = timedelta(seconds=settings.SITE_SNAPSHOT_REFRESH_SECONDS)
    fresh = agent.snapshot_built_at is not None and now - agent.snapshot_built_at < refresh
    holds_last = have_version == agent.snapshot_version and fresh
    if (
        holds_last
        and agent.snapshot_changes_mark
        and not changed_since(agent.lot_id, agent.snapshot_changes_mark)
    ):
        return None
    mark = changes_mark(agent.lot_id)
    facts_bytes = dumps(snapshot_facts(agent, now=now))
    digest = hashlib.sha256(facts_bytes).hexdigest()
    if holds_last and digest == agent.snapshot_hash:
        # A write that changed nothing the site holds (or outside its window): remember the mark.
        SiteAgent.objects.filter(pk=agent.pk).update(snapshot_changes_mark=mark)
        agent.snapshot_changes_mark = mark
        return None
    with transaction.atomic():
        locked = SiteAgent.objects.select_for_update().get(pk=agent.pk)
        version = locked.snapshot_version + 1
        envelope = snapshot_envelope(facts_bytes, version=version, built_at=now)
        SiteAgent.objects.filter(pk=agent.pk).update(
            snapshot_version=version,
            snapshot_built_at=now,
            snapshot_hash=digest,
            snapshot_changes_mark=mark,
        )
        # By the database's clock, which wrote them.
        LotChange.objects.filter(created_at__lt=Now() - CHANGES_KEPT).delete()
    agent.snapshot_version, agent.snapshot_built_at, agent.snapshot_hash = version, now, digest
    agent.snapshot_changes_mark = mark
    return envelope
