"""Site agents: create and pair them, record what they report, store the events they upload."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from parkgate.access.decisions import Reason, details_from_json, sentence
from parkgate.access.models import AccessEvent, AccessMethod, GateResult, Reservation
from parkgate.accounts.models import User
from parkgate.core.audit import audit_log
from parkgate.core.errors import ParkgateError
from parkgate.parking.models import AccessPolicy, Gate, Lot, Parker
from parkgate.sites.models import GateOfflineRule, SiteAgent, SiteUpload
from parkgate.sites.snapshot import server_public_key

# Pairing codes: 12 characters from an alphabet without look-alikes (about 60 bits), shown once.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MAX_UPLOAD_EVENTS = 500


class PairingError(ParkgateError):
    """The pairing code is unknown, used or expired."""


class UploadError(ParkgateError, ValueError):
    """An upload or one of its events is malformed (an event is rejected; a bad call answered 400)."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def site_agent_create(
    *, lot: Lot, name: str, actor: User | None, now: datetime | None = None
) -> tuple[SiteAgent, str]:
    """A new agent for ``lot`` and its one-time pairing code (returned once, only its hash kept)."""
    now = now or timezone.now()
    code = _new_code()
    with transaction.atomic():
        agent = SiteAgent.objects.create(
            lot=lot,
            name=name.strip()[:120] or lot.name,
            salt=secrets.token_hex(16),
            pairing_code_hash=_digest(code),
            pairing_expires_at=now + timedelta(minutes=settings.SITE_PAIRING_MINUTES),
        )
        audit_log(action="sites.agent.created", organisation=lot.owner, actor=actor, obj=agent)
    return agent, format_code(code)


def site_agent_pairing_renew(*, agent: SiteAgent, actor: User | None, now: datetime | None = None) -> str:
    """A new one-time code; the agent's token stops working (re-pair the box with the code)."""
    now = now or timezone.now()
    code = _new_code()
    with transaction.atomic():
        agent.pairing_code_hash = _digest(code)
        agent.pairing_expires_at = now + timedelta(minutes=settings.SITE_PAIRING_MINUTES)
        agent.token_hash = ""
        agent.save(update_fields=["pairing_code_hash", "pairing_expires_at", "token_hash"])
        audit_log(action="sites.agent.pairing_renewed", organisation=agent.lot.owner, actor=actor, obj=agent)
    return format_code(code)


@dataclass(frozen=True)
class Pairing:
    agent: SiteAgent
    token: str
    server_public_key: str


def site_agent_pair(*, code: str, now: datetime | None = None) -> Pairing:
    """Trade a one-time code for the agent's own token (shown once) and the server's public key."""
    now = now or timezone.now()
    digest = _digest(_normalise_code(code))
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        agent = (
            SiteAgent.objects.select_for_update()
            .select_related("lot__owner")
            .filter(pairing_code_hash=digest, is_active=True)
            .first()
        )
        if agent is None or agent.pairing_expires_at is None or agent.pairing_expires_at < now:
            raise PairingError("unknown or expired pairing code")
        agent.pairing_code_hash = ""
        agent.pairing_expires_at = None
        agent.token_hash = _digest(token)
        agent.paired_at = now
        agent.save(update_fields=["pairing_code_hash", "pairing_expires_at", "token_hash", "paired_at"])
        audit_log(
            action="sites.agent.paired", organisation=agent.lot.owner, actor_label=agent.name, obj=agent
        )
    return Pairing(agent, token, server_public_key())


def agent_for_token(token: str) -> SiteAgent | None:
    if not token:
        return None
    return (
        SiteAgent.objects.select_related("lot__owner")
        .filter(token_hash=_digest(token), is_active=True)
        .exclude(token_hash="")
        .first()
    )


def _parse_instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def site_agent_seen(*, agent: SiteAgent, status: dict[str, Any], now: datetime | None = None) -> None:
    """Record what the agent says about itself (every sync call): its snapshot and its backlog."""
    now = now or timezone.now()
    fields: dict[str, Any] = {"last_seen_at": now}
    version = status.get("version")
    if isinstance(version, int) and version >= 0:
        if version != agent.agent_version:
            fields["last_sync_at"] = now
        fields["agent_version"] = version
    built = _parse_instant(status.get("built_at"))
    if built is not None:
        fields["agent_snapshot_built_at"] = built
    for key, name in (("waiting", "events_waiting"), ("rejected_events", "events_rejected")):
        count = status.get(key)
        if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
            fields[name] = count
    SiteAgent.objects.filter(pk=agent.pk).update(**fields)
    for name, value in fields.items():
        setattr(agent, name, value)


def site_agent_problem(*, agent: SiteAgent, kind: str, detail: str, now: datetime | None = None) -> None:
    """The agent refused a snapshot (unsigned, tampered, another key) or hit another problem."""
    now = now or timezone.now()
    text = f"{kind[:40]}: {detail}"[:300]
    with transaction.atomic():
        SiteAgent.objects.filter(pk=agent.pk).update(last_problem=text, last_problem_at=now)
        audit_log(
            action="sites.agent.problem",
            organisation=agent.lot.owner,
            actor_label=agent.name,
            obj=agent,
            data={"kind": kind[:40], "detail": detail[:300]},
        )
    agent.last_problem, agent.last_problem_at = text, now


def site_offline_rule_set(
    *,
    gate: Gate,
    keep_deciding_hours: int,
    entry: str,
    exit: str,
    actor: User | None,
    language: str = settings.LANGUAGE_CODE,
) -> GateOfflineRule:
    """What the site does at ``gate`` once its snapshot is too old, and the language it speaks there."""
    with transaction.atomic():
        rule, _created = GateOfflineRule.objects.get_or_create(gate=gate)
        rule.keep_deciding_hours, rule.entry, rule.exit = keep_deciding_hours, entry, exit
        rule.language = language
        rule.full_clean()
        rule.save()
        audit_log(
            action="sites.offline_rule.set",
            organisation=gate.lot.owner,
            actor=actor,
            obj=gate,
            data={"hours": keep_deciding_hours, "entry": entry, "exit": exit, "language": language},
        )
    return rule


# -- Events recorded at the site ---------------------------------------------------------------
_METHODS = {AccessMethod.ANPR.value, AccessMethod.KEYPAD.value}
_RESULTS = {r.value for r in GateResult} - {GateResult.PENDING.value}


@dataclass(frozen=True)
class _Clean:
    seq: int
    at: datetime
    gate_id: int | None
    method: str
    reason: Reason
    granted: bool
    result: str
    body: dict[str, Any]


def _clean(raw: Any) -> _Clean:
    """The event's checked fields, or UploadError saying what is wrong with it (its reason)."""
    if not isinstance(raw, dict):
        raise UploadError("an event must be an object")
    seq, at = raw.get("seq"), _parse_instant(raw.get("at"))
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise UploadError("seq must be a positive integer")
    if at is None:
        raise UploadError("at must be an ISO instant with its offset")
    if raw.get("method") not in _METHODS:
        raise UploadError(f"unknown method {str(raw.get('method'))[:40]!r}")
    try:
        reason = Reason(str(raw.get("reason")))
    except ValueError:
        raise UploadError(f"unknown reason {str(raw.get('reason'))[:40]!r}") from None
    if raw.get("result") not in _RESULTS:
        raise UploadError(f"unknown result {str(raw.get('result'))[:40]!r}")
    gate_id = raw.get("gate_id")
    if gate_id is not None and (not isinstance(gate_id, int) or isinstance(gate_id, bool)):
        raise UploadError("gate_id must be an integer")
    return _Clean(
        seq, at, gate_id, str(raw["method"]), reason, bool(raw.get("granted")), str(raw["result"]), raw
    )


class UploadStatus(StrEnum):
    ACCEPTED = "accepted"  # stored now
    DUPLICATE = "duplicate"  # stored by an earlier upload (its answer was lost)
    REJECTED = "rejected"  # never stored; the agent keeps it and moves on


@dataclass(frozen=True)
class UploadResult:
    seq: int | None  # None when the event had no usable sequence number
    status: UploadStatus
    reason: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "status": self.status.value} | (
            {"reason": self.reason} if self.reason else {}
        )


def _ids(model: Any, wanted: set[int], **scope: Any) -> set[int]:
    return set(model.objects.filter(pk__in=wanted, **scope).values_list("pk", flat=True)) if wanted else set()


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def site_events_upload(
    *, agent: SiteAgent, events: list[Any], now: datetime | None = None
) -> list[UploadResult]:
    """Store the site's events exactly once, in sequence order; answer each one, in the order sent.

    Each event is accepted (stored now), a duplicate (its (agent, sequence) is already stored: a
    batch sent again after a lost answer stores nothing twice) or rejected with the reason (it is
    malformed: an unknown reason or method, an instant without its offset...). A rejected event
    never blocks the others: the valid ones of the batch are stored, and the agent keeps the
    rejected one at the site and moves on. A rejected event sent again is rejected again, so
    nothing is ever stored twice. Uploads of one agent are serialised on its row. References to
    rows that no longer exist (or belong to another lot) are dropped, never trusted. Each stored
    event becomes an ``AccessEvent`` of the agent's lot, marked with its site data.
    """
    now = now or timezone.now()
    if len(events) > MAX_UPLOAD_EVENTS:
        raise UploadError(f"at most {MAX_UPLOAD_EVENTS} events per call")
    results: list[UploadResult | None] = []
    checked: list[tuple[int, _Clean]] = []
    for index, raw in enumerate(events):
        try:
            checked.append((index, _clean(raw)))
            results.append(None)
        except UploadError as error:
            seq = raw.get("seq") if isinstance(raw, dict) else None
            usable = seq if isinstance(seq, int) and not isinstance(seq, bool) and seq >= 1 else None
            results.append(UploadResult(usable, UploadStatus.REJECTED, str(error)))
    lot = agent.lot
    with transaction.atomic():
        locked = SiteAgent.objects.select_for_update().get(pk=agent.pk)
        seqs = [e.seq for _i, e in checked]
        known = set(SiteUpload.objects.filter(agent=locked, seq__in=seqs).values_list("seq", flat=True))
        deduped: dict[int, _Clean] = {}
        for index, e in sorted(checked, key=lambda pair: pair[1].seq):
            if e.seq in known or e.seq in deduped:
                results[index] = UploadResult(e.seq, UploadStatus.DUPLICATE)
            else:
                deduped[e.seq] = e
                results[index] = UploadResult(e.seq, UploadStatus.ACCEPTED)
        todo = list(deduped.values())
        gates = _ids(Gate, {e.gate_id for e in todo if e.gate_id is not None}, lot=lot)
        # Only parkers the lot knows (a member of one of its policies, or booked there): an agent
        # must not put another organisation's parker, by id, into this lot's log.
        wanted_parkers = {p for e in todo if (p := _int_or_none(e.body.get("parker_id"))) is not None}
        parkers = (
            set(
                Parker.objects.filter(pk__in=wanted_parkers)
                .filter(Q(member_policies__lot=lot) | Q(reservations__lot=lot))
                .values_list("pk", flat=True)
            )
            if wanted_parkers
            else set()
        )
        reservations = _ids(
            Reservation,
            {r for e in todo if (r := _int_or_none(e.body.get("reservation_id"))) is not None},
            lot=lot,
        )
        policies = _ids(
            AccessPolicy,
            {p for e in todo if (p := _int_or_none(e.body.get("policy_id"))) is not None},
            lot=lot,
        )
        # A relay command id is unique in the log: one the log already holds (or this batch twice)
        # is dropped, never trusted.
        commands: dict[int, uuid.UUID] = {}
        for e in todo:
            try:
                command_id = uuid.UUID(str(e.body["command_id"])) if e.body.get("command_id") else None
            except ValueError:
                command_id = None
            if command_id is not None and command_id not in commands.values():
                commands[e.seq] = command_id
        taken = set(
            AccessEvent.objects.filter(command_id__in=list(commands.values())).values_list(
                "command_id", flat=True
            )
        )
        rows: list[AccessEvent] = []
        for e in todo:
            body = e.body
            raw_details, raw_data = body.get("details"), body.get("data")
            details = (
                {str(k): str(v) for k, v in raw_details.items()} if isinstance(raw_details, dict) else {}
            )
            extra = {str(k): v for k, v in raw_data.items()} if isinstance(raw_data, dict) else {}
            try:
                message = sentence(e.reason, details_from_json(details), zone=lot.zone, now=e.at)
            except (KeyError, ValueError, TypeError):
                message = ""
            parker_id = _int_or_none(body.get("parker_id"))
            reservation_id = _int_or_none(body.get("reservation_id"))
            policy_id = _int_or_none(body.get("policy_id"))
            command_id = commands.get(e.seq)
            completed = _parse_instant(body.get("completed_at"))
            duration = _int_or_none(body.get("duration_ms"))
            rows.append(
                AccessEvent(
                    lot=lot,
                    gate_id=e.gate_id if e.gate_id in gates else None,
                    method=e.method,
                    parker_id=parker_id if parker_id in parkers else None,
                    reservation_id=reservation_id if reservation_id in reservations else None,
                    policy_id=policy_id if policy_id in policies else None,
                    plate_text=str(body.get("plate_text") or "")[:20],
                    granted=e.granted,
                    reason=e.reason.value,
                    message=message[:300],
                    result=e.result,
                    result_detail=str(body.get("result_detail") or "")[:300],
                    command_id=command_id if command_id not in taken else None,
                    requested_at=e.at.astimezone(UTC),
                    completed_at=completed,
                    duration_ms=duration if duration is not None and duration >= 0 else None,
                    data={
                        "decision": details,
                        **extra,
                        "site": {
                            "agent": agent.pk,
                            "seq": e.seq,
                            "snapshot": _int_or_none(body.get("snapshot_version")),
                            "offline": bool(body.get("offline")),
                        },
                    },
                )
            )
        # In sequence order, in one statement each: the log's ids follow the site's order.
        events_stored = AccessEvent.objects.bulk_create(rows)
        SiteUpload.objects.bulk_create(
            SiteUpload(agent=locked, seq=e.seq, event=event, received_at=now)
            for e, event in zip(todo, events_stored, strict=True)
        )
        answered = [r.seq for r in results if r is not None and r.seq is not None]
        # A re-paired box numbers its events after every sequence answered, rejected ones included.
        highest = max([locked.uploaded_through, *answered])
        SiteAgent.objects.filter(pk=agent.pk).update(uploaded_through=highest, last_seen_at=now)
        rejected = [r for r in results if r is not None and r.status is UploadStatus.REJECTED]
        if rejected:
            first = rejected[0]
            site_agent_problem(
                agent=agent,
                kind="event_rejected",
                detail=f"{len(rejected)} event(s) rejected, first seq {first.seq}: {first.reason}",
                now=now,
            )
    return [r for r in results if r is not None]
