"""Which access a plate read rests on: exact keys first, then one OCR look-alike character.

Pure (no Django, no database): the server (``ways.anpr_read_handle``, facts from the database) and
the site agent (``parkgate/sites/agent.py``, facts from its signed snapshot) both call
``plate_decision`` with their own ``lookup`` of matches and their own ``decide_for``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from parkgate.access.anpr import PlateRead
from parkgate.access.decisions import Access, Decision, ReservationAccess
from parkgate.parking.plates import look_alike, one_substitution_variants


@dataclass(frozen=True)
class PlateMatch:
    """An access at a lot that a plate key points to."""

    parker_id: int
    access: Access
    key: str
    reservation_id: int | None = None


# lookup(keys) -> the matches of those keys; decide_for(accesses or None) -> the decision at the gate.
Lookup = Callable[[Iterable[str]], list[PlateMatch]]
DecideFor = Callable[[Sequence[Access] | None], Decision]


def match_identity(match: PlateMatch) -> str:
    """One car's right to pass: a reservation, or a member's membership of a policy."""
    if isinstance(match.access, ReservationAccess):
        return f"reservation:{match.access.reservation_id}"
    return f"member:{match.parker_id}:{match.access.policy_id}"


def plate_decision(
    keys: list[str], *, lookup: Lookup, decide_for: DecideFor
) -> tuple[Decision, PlateMatch | None, str]:
    """The decision for a read, the match it rests on, and how it matched (exact, look-alike, none).

    ``keys`` are the read's usable canonical keys, best first.
    """
    if not keys:
        return decide_for(None), None, "none"
    # Best-read candidates first, so a tie goes to the car the camera was surest about.
    exact = sorted(lookup(keys), key=lambda m: keys.index(m.key))
    if exact:
        decision = decide_for([m.access for m in exact])
        chosen = next((m for m in exact if m.access == decision.access), None)
        if chosen is None:  # denied without a specific access (direction, unknown)
            chosen = exact[0]
        return decision, chosen, "exact"
    variants: set[str] = set()
    for key in keys:
        variants |= one_substitution_variants(key)
    fuzzy = [m for m in lookup(variants - set(keys)) if any(look_alike(k, m.key) for k in keys)]
    granted: dict[str, tuple[Decision, PlateMatch]] = {}
    for match in fuzzy:
        decision = decide_for([match.access])
        if decision.granted:
            granted[match_identity(match)] = (decision, match)
    if len(granted) == 1:
        decision, match = next(iter(granted.values()))
        return decision, match, "look-alike"
    # Nobody, or several valid accesses a character away: a guess could open for the wrong car.
    return decide_for(None), None, "ambiguous" if granted else "none"


def shown_plate(read: PlateRead, match: PlateMatch | None) -> str:
    """The plate text to record: the candidate that matched as read, else the best candidate."""
    shown = next((c.text for c in read.candidates if match and c.key == match.key), None)
    if shown is None and match is not None:
        shown = next((c.text for c in read.candidates if look_alike(c.key, match.key)), match.key)
    best = read.best
    return (shown or (best.text if best else ""))[:20]
