"""Reads for the control room: the desk's lots, parker search, access states now, the live log.

Search is scoped to the parkers of the lot's organisations (the owner and every organisation
holding an allocation there). On PostgreSQL the name and plate lookups are plain ``LIKE
'%…%'`` on already folded text, which the trigram GIN indexes of this app's migration serve;
elsewhere (SQLite) they fall back to ``icontains``.
"""

from __future__ import annotations

import dataclasses
import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404
from django.utils import dateformat
from django.utils.translation import gettext as _

from parkgate.access.decisions import (
    Access,
    AccessState,
    LotFacts,
    Reason,
    ReservationAccess,
    evaluate,
    sentence,
)
from parkgate.access.models import AccessEvent, AccessMethod, GateResult, ReservationStatus
from parkgate.access.selectors import accesses_for_parkers, event_sentence, lot_facts, member_access
from parkgate.accounts.models import Organisation
from parkgate.core.text import fold
from parkgate.parking.models import (
    AccessPolicy,
    Allocation,
    Gate,
    Lot,
    Parker,
    Plate,
    PolicyKind,
    SpotRelease,
    SpotReleaseStatus,
)
from parkgate.parking.plates import plate_key

# How many parkers one search shows; one more is fetched to know whether there are more.
SEARCH_LIMIT = 25
# A word shorter than this cannot use a trigram index on its own.
MIN_TERM = 3
LOG_PAGE = 50


def desk_lots(organisation: Organisation) -> QuerySet[Lot]:
    """The lots whose control room this organisation runs: the ones it owns."""
    return Lot.objects.filter(owner=organisation).prefetch_related("gates")


def get_desk_lot(organisation: Organisation, lot_id: int) -> Lot:
    return get_object_or_404(Lot.objects.select_related("owner"), pk=lot_id, owner=organisation)


def lot_organisation_ids(lot: Lot) -> list[int]:
    """The lot owner and every organisation holding an allocation in the lot."""
    ids = set(Allocation.objects.filter(lot=lot).values_list("organisation_id", flat=True))
    ids.add(lot.owner_id)
    return sorted(ids)


def lot_parkers(lot: Lot) -> QuerySet[Parker]:
    return Parker.objects.filter(managed_by_id__in=lot_organisation_ids(lot))


def get_parker_for_lot(lot: Lot, parker_id: int) -> Parker:
    return get_object_or_404(lot_parkers(lot).select_related("organisation", "managed_by"), pk=parker_id)


def lot_gates(lot: Lot) -> QuerySet[Gate]:
    return Gate.objects.filter(lot=lot, is_active=True).order_by("name")


def get_gate_for_lot(lot: Lot, gate_id: int) -> Gate:
    return get_object_or_404(lot_gates(lot).select_related("lot"), pk=gate_id)


# --- Search ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchTerms:
    words: tuple[str, ...]  # folded name words, each matched as a substring
    plate: str  # canonical plate key, matched as a substring

    @property
    def indexed_words(self) -> tuple[str, ...]:
        """Words with a run of three letters or digits: a trigram index can find those."""
        return tuple(w for w in self.words if _TRIGRAM.search(w))

    @property
    def searchable(self) -> bool:
        return bool(self.indexed_words) or len(self.plate) >= MIN_TERM


_TRIGRAM = re.compile(rf"[^\W_]{{{MIN_TERM}}}")


def search_terms(query: str) -> SearchTerms:
    folded = fold(query)[:100]
    return SearchTerms(words=tuple(folded.split()), plate=plate_key(query)[:20])


def parker_search(lot: Lot, query: str, *, limit: int = SEARCH_LIMIT) -> tuple[list[Parker], bool]:
    """Parkers of the lot's organisations whose name, organisation or plate contains ``query``.

    Returns at most ``limit`` parkers, best first, and whether more matched. Every name word must
    appear (any order); the plate is compared on its canonical key, so "1-abc" finds "1 ABC 123".
    """
    terms = search_terms(query)
    if not terms.searchable:
        return [], False
    if connection.vendor == "postgresql":
        ids: Any = _postgresql_match_ids(lot, terms, limit + 1)
    else:
        ids = _portable_match_ids(lot, terms, limit + 1)
    found = Q(pk__in=ids)
    organisations = _organisations_named(lot, terms)
    if organisations:
        # "Acme" finds Acme's people, its visitors too (their names do not say whom they visit).
        found |= Q(
            pk__in=Parker.objects.filter(managed_by_id__in=organisations)
            .order_by("last_name", "first_name", "pk")
            .values("pk")[: limit + 1]
        )
    parkers = list(
        Parker.objects.filter(found)
        .order_by()
        .select_related("organisation", "managed_by")
        .only(*_RESULT_FIELDS)
        .prefetch_related(Prefetch("plates", queryset=Plate.objects.only("parker_id", "text", "key")))
    )
    parkers.sort(key=lambda p: _rank(p, terms))
    return parkers[:limit], len(parkers) > limit


def _organisations_named(lot: Lot, terms: SearchTerms) -> list[int]:
    """The lot's organisations whose name holds every word of the search (a handful per lot)."""
    if not terms.indexed_words:
        return []
    names = Organisation.objects.filter(pk__in=lot_organisation_ids(lot)).values_list("pk", "name")
    return [pk for pk, name in names if all(word in fold(name) for word in terms.words)]


# What a result card shows: the search reads nothing else.
_RESULT_FIELDS = (
    "first_name",
    "last_name",
    "search_text",
    "managed_by__name",
    "organisation__name",
)


def _like(value: str) -> str:
    return f"%{connection.ops.prep_for_like_query(value)}%"


# The scope of a search, for the SQL below: the lot owner and the organisations allocated there.
_SCOPE_SQL = (
    "(managed_by_id = %s OR managed_by_id IN "
    "(SELECT organisation_id FROM parking_allocation WHERE lot_id = %s))"
)


def _postgresql_match_ids(lot: Lot, terms: SearchTerms, count: int) -> RawSQL:
    """The first ``count`` matching ids of each lookup (names, plates), as one subquery.

    Each lookup is a MATERIALIZED CTE: PostgreSQL plans it whole, as the trigram bitmap scan it
    should be, and the LIMIT outside stops reading after ``count`` rows. Planned with the LIMIT
    in view, it may instead walk the table until ``count`` rows turn up, which takes a second
    when few or none do (a name of another lot, say).
    """
    ctes: list[str] = []
    selects: list[str] = []
    params: list[Any] = []
    scope = [lot.owner_id, lot.pk]
    if terms.indexed_words:
        conditions = []
        for word in terms.words:
            if word in terms.indexed_words:
                conditions.append("search_text LIKE %s")
                params.append(_like(word))
            else:
                # A word like "li" gives no trigram: as a LIKE it would make PostgreSQL read the
                # whole index. STRPOS only rechecks the rows the other words found.
                conditions.append("strpos(search_text, %s) > 0")
                params.append(word)
        ctes.append(
            "names AS MATERIALIZED (SELECT id FROM parking_parker WHERE "  # noqa: S608
            + " AND ".join(conditions)
            + f" AND {_SCOPE_SQL})"
        )
        params += scope
    if len(terms.plate) >= MIN_TERM:
        ctes.append("plates AS MATERIALIZED (SELECT parker_id FROM parking_plate WHERE key LIKE %s)")
        params.append(_like(terms.plate))
    if terms.indexed_words:
        selects.append("(SELECT id FROM names LIMIT %s)")
        params.append(count)
    if len(terms.plate) >= MIN_TERM:
        selects.append(
            "(SELECT plates.parker_id FROM plates JOIN parking_parker"  # noqa: S608
            f" ON parking_parker.id = plates.parker_id WHERE {_SCOPE_SQL} LIMIT %s)"
        )
        params += [*scope, count]
    # Fixed SQL text; every value is a bound parameter.
    sql = "WITH " + ", ".join(ctes) + " " + " UNION ".join(selects)
    return RawSQL(sql, params)  # noqa: S611


def _portable_match_ids(lot: Lot, terms: SearchTerms, count: int) -> list[int]:
    """The same lookups through the ORM, for SQLite (``make run``), where they simply scan."""
    scope = Q(managed_by_id=lot.owner_id) | Q(
        managed_by_id__in=Allocation.objects.filter(lot=lot).values("organisation_id")
    )
    ids: list[int] = []
    if terms.indexed_words:
        names = Parker.objects.filter(scope)
        for word in terms.words:
            names = names.filter(search_text__icontains=word)
        ids += names.order_by().values_list("pk", flat=True)[:count]
    if len(terms.plate) >= MIN_TERM:
        plate_scope = Q(parker__managed_by_id=lot.owner_id) | Q(
            parker__managed_by_id__in=Allocation.objects.filter(lot=lot).values("organisation_id")
        )
        ids += (
            Plate.objects.filter(plate_scope, key__icontains=terms.plate)
            .order_by()
            .values_list("parker_id", flat=True)[:count]
        )
    return list(dict.fromkeys(ids))


def _rank(parker: Parker, terms: SearchTerms) -> tuple[int, str, str, int]:
    """Whole-word and prefix matches first, then by name."""
    text = parker.search_text
    if parker.organisation_id is None and parker.managed_by is not None:
        text = f"{text} {fold(parker.managed_by.name)}"  # a visitor ranks by whom they visit too
    words = text.split()
    score = 0
    for word in terms.words:
        if word in words:
            score -= 3
        elif any(w.startswith(word) for w in words):
            score -= 2
    if terms.plate and any(p.key == terms.plate for p in parker.plates.all()):
        score -= 10
    elif terms.plate and any(p.key.startswith(terms.plate) for p in parker.plates.all()):
        score -= 4
    return score, fold(parker.last_name), fold(parker.first_name), parker.pk


@dataclass(frozen=True)
class AccessLine:
    """One access of a parker at this lot and what it says now, in words."""

    key: str  # "m<policy id>" or "r<reservation id>", what the open form sends back
    kind: str  # "member" or "reservation"
    name: str
    granted: bool
    reason: str
    words: str
    start: datetime | None = None
    end: datetime | None = None
    shared_by: str = ""  # a booking of a colleague's shared spot: whose spot it is
    used_by: str = ""  # the member shared their spot today: who booked it


@dataclass(frozen=True)
class SearchResult:
    parker: Parker
    lines: list[AccessLine]
    no_access_words: str  # when ``lines`` is empty: the engine's words for "no access here"

    @property
    def granted_lines(self) -> list[AccessLine]:
        return [line for line in self.lines if line.granted]

    @property
    def has_valid_access(self) -> bool:
        return bool(self.granted_lines)


def access_key(access: Access) -> str:
    if isinstance(access, ReservationAccess):
        return f"r{access.reservation_id}"
    return f"m{access.policy_id}"


def _line(state: AccessState, *, zone: zoneinfo.ZoneInfo, now: datetime) -> AccessLine:
    access = state.access
    words = sentence(state.reason, state.details, zone=zone, now=now)
    if isinstance(access, ReservationAccess):
        return AccessLine(
            key=access_key(access),
            kind="reservation",
            name=access.name,
            granted=state.granted,
            reason=state.reason.value,
            words=words,
            start=access.start,
            end=access.end,
        )
    return AccessLine(
        key=access_key(access),
        kind="member",
        name=access.name,
        granted=state.granted,
        reason=state.reason.value,
        words=words,
    )


def _line_order(line: AccessLine) -> tuple[int, datetime]:
    far = datetime.max.replace(tzinfo=zoneinfo.ZoneInfo("UTC"))
    return (0 if line.granted else 1, line.start or far)


def access_states_at_lot(accesses: Sequence[Access], *, facts: LotFacts, now: datetime) -> list[AccessState]:
    return [evaluate(a, lot=facts, at=now) for a in accesses if a.lot_id == facts.lot_id]


def search_results(lot: Lot, parkers: Sequence[Parker], *, now: datetime) -> list[SearchResult]:
    """Each parker with every access at this lot and its state now, in the engine's words."""
    facts = lot_facts(lot)
    accesses = accesses_for_parkers([p.pk for p in parkers], at=now)
    no_access = sentence(Reason.NO_POLICY_AT_LOT, {}, zone=lot.zone, now=now)
    states = {p.pk: access_states_at_lot(accesses[p.pk], facts=facts, now=now) for p in parkers}
    owners, users = _spot_sharing(lot, states, now=now)
    results = []
    for parker in parkers:
        lines = []
        for state in states[parker.pk]:
            line = _line(state, zone=lot.zone, now=now)
            access = state.access
            if isinstance(access, ReservationAccess) and access.reservation_id in owners:
                line = dataclasses.replace(line, shared_by=owners[access.reservation_id])
            elif state.reason == Reason.SPOT_SHARED and (parker.pk, access.policy_id) in users:
                line = dataclasses.replace(line, used_by=users[(parker.pk, access.policy_id)])
            lines.append(line)
        lines.sort(key=_line_order)
        results.append(SearchResult(parker=parker, lines=lines, no_access_words=no_access))
    return results


def _spot_sharing(
    lot: Lot, states: dict[int, list[AccessState]], *, now: datetime
) -> tuple[dict[int, str], dict[tuple[int, int], str]]:
    """Who uses a shared spot, both ways: for bookings made on a colleague's shared spot, whose spot
    it is (by reservation id); for members who shared their spot today, who booked it (by parker and
    policy). Two queries at most, only when a line needs them."""
    reservation_ids = [
        s.access.reservation_id
        for found in states.values()
        for s in found
        if isinstance(s.access, ReservationAccess)
    ]
    sharing = [
        (parker_id, s.access.policy_id)
        for parker_id, found in states.items()
        for s in found
        if s.reason == Reason.SPOT_SHARED
    ]
    owners: dict[int, str] = {}
    if reservation_ids:
        for release in SpotRelease.objects.filter(
            reservation_id__in=reservation_ids, policy__lot=lot
        ).select_related("parker"):
            assert release.reservation_id is not None
            owners[release.reservation_id] = _full_name(release.parker)
    users: dict[tuple[int, int], str] = {}
    if sharing:
        today = now.astimezone(lot.zone).date()
        for release in SpotRelease.objects.filter(
            parker_id__in={parker_id for parker_id, _policy in sharing},
            policy__lot=lot,
            day=today,
            status=SpotReleaseStatus.RELEASED,
            reservation__status=ReservationStatus.CONFIRMED,
        ).select_related("reservation__parker"):
            assert release.reservation is not None
            users[(release.parker_id, release.policy_id)] = _full_name(release.reservation.parker)
    return owners, users


def _full_name(parker: Parker) -> str:
    return f"{parker.first_name} {parker.last_name}".strip()


def parker_accesses_at_lot(lot: Lot, parker: Parker, *, now: datetime) -> list[Access]:
    return [a for a in accesses_for_parkers([parker.pk], at=now)[parker.pk] if a.lot_id == lot.pk]


# --- Walk-in visitors ------------------------------------------------------------------------


def visitor_policies(lot: Lot, *, today: date) -> list[AccessPolicy]:
    """Visitor policies at this lot of organisations whose allocation accepts visitors."""
    organisations = Allocation.objects.filter(lot=lot, accepts_visitors=True).values("organisation_id")
    return list(
        AccessPolicy.objects.filter(lot=lot, kind=PolicyKind.VISITOR, organisation_id__in=organisations)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("organisation", "lot")
        .prefetch_related("windows")
        .order_by("organisation__name", "name", "pk")
    )


@dataclass(frozen=True)
class VisitDefaults:
    """Where a walk-in visit starts and ends by default: now until the end of today's window."""

    start: datetime
    end: datetime | None
    words: str  # the timetable's state now, in words


def visit_defaults(policy: AccessPolicy, *, now: datetime) -> VisitDefaults:
    zone = policy.lot.zone
    start = now.astimezone(zone).replace(second=0, microsecond=0)
    state = evaluate(member_access(policy), lot=lot_facts(policy.lot), at=now)
    words = _visitor_window_words(state, zone=zone, now=now)
    if state.reason != Reason.GRANTED_MEMBER:
        return VisitDefaults(start=start, end=None, words=words)
    midnight = datetime.combine(start.date() + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return VisitDefaults(start=start, end=min(state.details["until"], midnight), words=words)


def _visitor_window_words(state: AccessState, *, zone: zoneinfo.ZoneInfo, now: datetime) -> str:
    if state.reason == Reason.GRANTED_MEMBER:
        until = state.details["until"].astimezone(zone)
        same_day = until.date() == now.astimezone(zone).date()
        return _("The visitor timetable is open until %(when)s.") % {
            "when": dateformat.format(until, "H:i" if same_day else "l H:i")
        }
    return sentence(state.reason, state.details, zone=zone, now=now)


# --- Live log --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogFilters:
    gate_id: int | None = None
    method: str = ""
    denied_only: bool = False

    def as_query(self) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if self.gate_id:
            query["gate"] = self.gate_id
        if self.method:
            query["method"] = self.method
        if self.denied_only:
            query["denied"] = "1"
        return query


def log_filters(params: Any, lot: Lot) -> LogFilters:
    """Read the log filters from query parameters; anything unknown is ignored, not an error."""
    gate_id = None
    raw_gate = params.get("gate", "")
    if raw_gate.isdigit() and lot_gates(lot).filter(pk=int(raw_gate)).exists():
        gate_id = int(raw_gate)
    method = params.get("method", "")
    if method not in AccessMethod.values:
        method = ""
    return LogFilters(gate_id=gate_id, method=method, denied_only=params.get("denied") in ("1", "on", "true"))


def access_log(lot: Lot, filters: LogFilters, *, after_id: int | None = None) -> list[AccessEvent]:
    """The lot's latest access events, newest first; with ``after_id`` only the newer ones."""
    events = AccessEvent.objects.filter(lot=lot).select_related("gate", "parker", "actor")
    if filters.gate_id:
        events = events.filter(gate_id=filters.gate_id)
    if filters.method:
        events = events.filter(method=filters.method)
    if filters.denied_only:
        events = events.filter(granted=False)
    if after_id is not None:
        events = events.filter(pk__gt=after_id)
    return list(events.order_by("-pk")[:LOG_PAGE])


def get_event_for_lot(lot: Lot, event_id: int) -> AccessEvent:
    return get_object_or_404(
        AccessEvent.objects.select_related("gate", "parker", "actor"), pk=event_id, lot=lot
    )


def last_event_id(lot: Lot) -> int:
    return AccessEvent.objects.filter(lot=lot).order_by("-pk").values_list("pk", flat=True).first() or 0


def event_words(event: AccessEvent, zone: zoneinfo.ZoneInfo) -> str:
    """The decision in the reader's language (the stored message is in the language of the moment)."""
    return event_sentence(event, zone)


def gate_result_words(event: AccessEvent) -> str:
    gate = event.gate.label if event.gate else ""
    if event.result == GateResult.OPENED:
        return _("%(gate)s opened.") % {"gate": gate}
    if event.result == GateResult.TIMED_OUT:
        return _("%(gate)s did not answer in time: it may not have opened.") % {"gate": gate}
    if event.result == GateResult.FAILED:
        return _("%(gate)s could not be opened.") % {"gate": gate}
    if event.result == GateResult.PENDING:
        return _("Waiting for %(gate)s to answer…") % {"gate": gate}
    return _("Not opened: %(reason)s") % {"reason": event.message}
