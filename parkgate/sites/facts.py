"""A lot's snapshot as the decision engine's facts, at the site. Pure (no Django, no database).

The server builds the payload (``parkgate/sites/snapshot.py``) from the same rows its own
selectors read; this module turns it back into ``LotFacts``, ``GateFacts``, ``MemberAccess`` and
``ReservationAccess`` and answers the questions the agent asks: which accesses does this plate
(these keys) or this keypad code point to, and what does ``decide()`` say at this gate now,
including the owner's offline fallback once the snapshot is older than the gate's limit.

Lookups mirror ``access.selectors.plate_matches`` and ``keypad_reservations`` (same matches, same
order), and ``access.matching.plate_decision`` picks the match, so a read decides the same at the
site as on the server for the same facts (``tests/sites/test_facts.py`` checks it).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from parkgate.access.decisions import (
    Access,
    CataloguePhrases,
    Decision,
    GateFacts,
    LotFacts,
    MemberAccess,
    Reason,
    ReservationAccess,
    Window,
    decide,
    sentence,
)
from parkgate.access.matching import PlateMatch
from parkgate.sites.signing import salted_hash

PAYLOAD_FORMAT = 1
# Reservations this far around the read are the ones a car at the gate can be using (as on the server).
_NEARBY = timedelta(days=1)


@dataclass(frozen=True)
class SiteGate:
    facts: GateFacts
    name: str
    driver_kind: str
    driver_settings: dict[str, Any]
    namespace: str
    offline_limit: timedelta
    offline_entry: str  # "members" or "closed"
    offline_exit: str  # "open" or "members"
    language: str = "en"  # of what the site says at this gate


@dataclass(frozen=True)
class SiteDevice:
    public_id: str
    gate_id: int
    key_hash: str
    format: str = "auto"
    min_confidence: int = 70
    mqtt_topic: str = ""


@dataclass(frozen=True)
class SiteReservation:
    access: ReservationAccess
    parker_id: int
    plate_key: str
    plate_text: str
    keypad_hash: str


def _dt(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("naive instant in snapshot")
    return parsed.astimezone(UTC)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@dataclass
class SiteFacts:
    """The verified payload of one snapshot, indexed for lookups."""

    payload: dict[str, Any]
    lot: LotFacts = field(init=False)
    version: int = field(init=False)
    built_at: datetime = field(init=False)

    def __post_init__(self) -> None:
        p = self.payload
        if p.get("format") != PAYLOAD_FORMAT:
            raise ValueError(f"unknown snapshot format {p.get('format')!r}")
        self.version = int(p["version"])
        self.built_at = _dt(p["built_at"])
        self.agent_id = int(p["agent_id"])
        self.lot = LotFacts(lot_id=int(p["lot"]["id"]), timezone=str(p["lot"]["timezone"]))
        self.salt = str(p["salt"])
        s = p["settings"]
        self.grace_before = timedelta(seconds=int(s["grace_before_s"]))
        self.grace_after = timedelta(seconds=int(s["grace_after_s"]))
        self.settings = s
        self.gates: dict[int, SiteGate] = {}
        for g in p["gates"]:
            self.gates[int(g["id"])] = SiteGate(
                facts=GateFacts(gate_id=int(g["id"]), lot_id=self.lot.lot_id, direction=str(g["direction"])),
                name=str(g["name"]),
                driver_kind=str(g["driver_kind"]),
                driver_settings=dict(g["driver_settings"] or {}),
                namespace=str(g["namespace"]),
                offline_limit=timedelta(seconds=int(g["offline_limit_s"])),
                offline_entry=str(g["offline_entry"]),
                offline_exit=str(g["offline_exit"]),
                language=str(g.get("language") or "en"),
            )
        self.phrases = {
            str(language): CataloguePhrases(catalogue)
            for language, catalogue in (p.get("phrases") or {}).items()
        }
        self.zone = self.lot.zone
        self.cameras = {
            str(c["public_id"]): SiteDevice(
                public_id=str(c["public_id"]),
                gate_id=int(c["gate_id"]),
                key_hash=str(c["key_hash"]),
                format=str(c["format"]),
                min_confidence=int(c["min_confidence"]),
            )
            for c in p["cameras"]
        }
        self.keypads = {
            str(k["public_id"]): SiteDevice(
                public_id=str(k["public_id"]),
                gate_id=int(k["gate_id"]),
                key_hash=str(k["key_hash"]),
                mqtt_topic=str(k.get("mqtt_topic") or ""),
            )
            for k in p["keypads"]
        }
        policies: dict[int, MemberAccess] = {}
        for pol in p["policies"]:
            policies[int(pol["id"])] = MemberAccess(
                policy_id=int(pol["id"]),
                lot_id=self.lot.lot_id,
                name=str(pol["name"]),
                windows=tuple(Window(int(w), int(a), int(b)) for w, a, b in pol["windows"]),
                valid_from=_day(pol.get("valid_from")),
                valid_until=_day(pol.get("valid_until")),
                booking_required=bool(pol["booking_required"]),
            )
        # parker -> member accesses (ordered by policy id, as the server's query orders them)
        self.member_accesses: dict[int, list[MemberAccess]] = {}
        for m in sorted(p["members"], key=lambda m: (int(m["policy_id"]), int(m["parker_id"]))):
            base = policies[int(m["policy_id"])]
            days = frozenset(date.fromisoformat(d) for d in m.get("shared_days") or ())
            access = MemberAccess(**{**base.__dict__, "shared_days": days}) if days else base
            self.member_accesses.setdefault(int(m["parker_id"]), []).append(access)
        self.parkers_by_key: dict[str, list[int]] = {}
        for key, parker_id in p["plates"]:
            holders = self.parkers_by_key.setdefault(str(key), [])
            if int(parker_id) not in holders:
                holders.append(int(parker_id))
        self.reservations: list[SiteReservation] = []
        for r in p["reservations"]:
            self.reservations.append(
                SiteReservation(
                    access=ReservationAccess(
                        reservation_id=int(r["id"]),
                        lot_id=self.lot.lot_id,
                        policy_id=int(r["policy_id"]),
                        name=str(r["name"]),
                        start=_dt(r["start"]),
                        end=_dt(r["end"]),
                        status=str(r["status"]),
                    ),
                    parker_id=int(r["parker_id"]),
                    plate_key=str(r["plate_key"]),
                    plate_text=str(r["plate_text"]),
                    keypad_hash=str(r["keypad_hash"]),
                )
            )
        self.reservations.sort(key=lambda r: (r.access.start, r.access.reservation_id))
        self.by_plate_key: dict[str, list[SiteReservation]] = {}
        self.by_parker_without_plate: dict[int, list[SiteReservation]] = {}
        self.by_keypad_hash: dict[str, list[SiteReservation]] = {}
        for res in self.reservations:
            if res.plate_key:
                self.by_plate_key.setdefault(res.plate_key, []).append(res)
            else:
                self.by_parker_without_plate.setdefault(res.parker_id, []).append(res)
            self.by_keypad_hash.setdefault(res.keypad_hash, []).append(res)

    # -- age and offline rules ---------------------------------------------------------------
    def age(self, now: datetime) -> timedelta:
        return now.astimezone(UTC) - self.built_at

    def stale_for(self, gate: SiteGate, now: datetime) -> bool:
        """True once the snapshot is older than the gate's offline limit: the fallback applies."""
        return self.age(now) > gate.offline_limit

    # -- lookups -----------------------------------------------------------------------------
    @staticmethod
    def _nearby(res: SiteReservation, at: datetime) -> bool:
        return res.access.end > at - _NEARBY and res.access.start < at + _NEARBY

    def plate_matches(self, keys: Iterable[str], *, at: datetime) -> list[PlateMatch]:
        """As ``access.selectors.plate_matches``: member accesses, then nearby reservations."""
        wanted = list(dict.fromkeys(keys))
        keys_by_parker: dict[int, list[str]] = {}
        for key in wanted:
            for parker_id in self.parkers_by_key.get(key, ()):
                keys_by_parker.setdefault(parker_id, []).append(key)
        matches: list[PlateMatch] = []
        member_rows = sorted(
            (access.policy_id, parker_id, access)
            for parker_id in keys_by_parker
            for access in self.member_accesses.get(parker_id, ())
        )
        for _policy, parker_id, access in member_rows:
            matches += [PlateMatch(parker_id, access, key) for key in keys_by_parker[parker_id]]
        found: dict[int, SiteReservation] = {}
        for key in wanted:
            for res in self.by_plate_key.get(key, ()):
                found[res.access.reservation_id] = res
        for parker_id in keys_by_parker:
            for res in self.by_parker_without_plate.get(parker_id, ()):
                found[res.access.reservation_id] = res
        for res in sorted(found.values(), key=lambda r: (r.access.start, r.access.reservation_id)):
            if not self._nearby(res, at):
                continue
            hit = [res.plate_key] if res.plate_key else keys_by_parker.get(res.parker_id, [])
            matches += [PlateMatch(res.parker_id, res.access, k, res.access.reservation_id) for k in hit]
        return matches

    def keypad_reservations(self, code: str, *, at: datetime) -> list[SiteReservation]:
        digest = salted_hash(self.salt, code)
        return [
            res
            for h, group in self.by_keypad_hash.items()
            if hmac.compare_digest(h, digest)
            for res in group
            if self._nearby(res, at)
        ]

    def device(self, kind: str, public_id: str, presented_key: str) -> SiteDevice | None:
        """The camera or keypad named in the URL when the presented key is its key, else None."""
        devices = self.cameras if kind == "anpr" else self.keypads
        device = devices.get(public_id)
        digest = salted_hash(self.salt, presented_key or "-")
        expected = device.key_hash if device is not None else salted_hash(self.salt, "\x00")
        if not hmac.compare_digest(digest, expected) or device is None or not presented_key:
            return None
        return device

    # -- saying ------------------------------------------------------------------------------
    def sentence(self, gate: SiteGate, decision: Decision, *, at: datetime) -> str:
        """The decision in words in the gate's language, as the server says it (its catalogue)."""
        phrases = self.phrases.get(gate.language) or CataloguePhrases({})
        return sentence(decision.reason, decision.details, zone=self.zone, now=at, phrases=phrases)

    # -- deciding ----------------------------------------------------------------------------
    def decide(
        self, gate: SiteGate, accesses: Sequence[Access] | None, *, at: datetime, travel: str | None
    ) -> Decision:
        """``decide()`` on the snapshot's facts; past the gate's offline limit, the owner's fallback.

        Fallback: a car going out is let out when the exit rule is "open" (nobody is locked in);
        a car coming in passes on a member access only (reservations may have changed since) when
        the entry rule is "members", never when it is "closed".
        """
        if self.stale_for(gate, at):
            going = travel or ("exit" if gate.facts.direction == "exit" else "entry")
            if gate.facts.direction not in ("both", going):
                return self._decide(gate, accesses, at=at, travel=travel)  # the wrong way stays refused
            rule = gate.offline_exit if going == "exit" else gate.offline_entry
            if rule == "open":
                return Decision(Reason.GRANTED_OFFLINE_EXIT, details={"offline": going})
            if rule == "closed":
                return Decision(Reason.OFFLINE_CLOSED, details={"offline": going})
            if accesses is None:
                return self._decide(gate, None, at=at, travel=travel)
            members = [a for a in accesses if isinstance(a, MemberAccess)]
            if not members:
                return Decision(Reason.OFFLINE_MEMBERS_ONLY, details={"offline": going})
            return self._decide(gate, members, at=at, travel=travel)
        return self._decide(gate, accesses, at=at, travel=travel)

    def _decide(
        self, gate: SiteGate, accesses: Sequence[Access] | None, *, at: datetime, travel: str | None
    ) -> Decision:
        return decide(
            lot=self.lot,
            at=at,
            accesses=accesses,
            gate=gate.facts,
            travel=travel,
            grace_before=self.grace_before,
            grace_after=self.grace_after,
        )
