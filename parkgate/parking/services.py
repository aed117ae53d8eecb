"""Writes for lots, gates, allocations, access policies and parkers. Each one audits."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from parkgate.accounts.models import Organisation, User
from parkgate.core.audit import audit_log
from parkgate.core.text import fold
from parkgate.parking.models import AccessPolicy, Allocation, Gate, Lot, Parker, Plate, TimetableWindow
from parkgate.parking.plates import plate_display, plate_key


class LotFields(TypedDict, total=False):
    """What lot_create takes (all of it) and lot_update changes (any of it)."""

    name: str
    address: str
    timezone: str
    total_spots: int


class GateFields(TypedDict, total=False):
    """What gate_create takes and gate_update changes."""

    name: str
    name_fr: str
    name_nl: str
    direction: str
    driver_kind: str
    driver_settings: dict[str, Any]
    is_active: bool


@dataclass(frozen=True)
class WindowSpec:
    weekday: int
    start_minute: int
    end_minute: int


def validate_windows(windows: Sequence[WindowSpec]) -> None:
    """Each window inside one day, end after start, and no overlap on the same weekday."""
    by_day: dict[int, list[WindowSpec]] = {}
    for window in windows:
        if not 0 <= window.weekday <= 6:
            raise ValidationError(_("The weekday must be between Monday and Sunday."))
        if not (0 <= window.start_minute < window.end_minute <= 1440):
            raise ValidationError(_("Each window must end after it starts, within the same day."))
        by_day.setdefault(window.weekday, []).append(window)
    for day_windows in by_day.values():
        day_windows.sort(key=lambda w: w.start_minute)
        for earlier, later in itertools.pairwise(day_windows):
            if later.start_minute < earlier.end_minute:
                raise ValidationError(_("Two windows of the same day overlap."))


def _search_text(parker: Parker) -> str:
    parts = [parker.first_name, parker.last_name]
    if parker.organisation_id:
        parts.append(parker.organisation.name if parker.organisation else "")
    return fold(" ".join(parts))[:400]


def lot_create(*, owner: Organisation, actor: User | None, **fields: Unpack[LotFields]) -> Lot:
    with transaction.atomic():
        lot = Lot(owner=owner, **fields)
        lot.full_clean()
        lot.save()
        audit_log(
            action="parking.lot.created", organisation=owner, actor=actor, obj=lot, data=_jsonable(fields)
        )
    return lot


def lot_update(*, lot: Lot, actor: User | None, **fields: Unpack[LotFields]) -> Lot:
    with transaction.atomic():
        for name, value in fields.items():
            setattr(lot, name, value)
        if "total_spots" in fields:
            allocated = lot.allocations.aggregate(total=Sum("spots"))["total"] or 0
            if lot.total_spots < allocated:
                raise ValidationError(
                    {
                        "total_spots": _("%(allocated)d spots are already allocated in this lot.")
                        % {"allocated": allocated}
                    }
                )
        lot.full_clean()
        lot.save(update_fields=list(fields))
        audit_log(
            action="parking.lot.updated", organisation=lot.owner, actor=actor, obj=lot, data=_jsonable(fields)
        )
    return lot


def gate_create(*, lot: Lot, actor: User | None, **fields: Unpack[GateFields]) -> Gate:
    with transaction.atomic():
        gate = Gate(lot=lot, **fields)
        gate.full_clean()
        gate.save()
        audit_log(
            action="parking.gate.created",
            organisation=lot.owner,
            actor=actor,
            obj=gate,
            data=_jsonable(fields),
        )
    return gate


def gate_update(*, gate: Gate, actor: User | None, **fields: Unpack[GateFields]) -> Gate:
    with transaction.atomic():
        for name, value in fields.items():
            setattr(gate, name, value)
        gate.full_clean()
        gate.save(update_fields=list(fields))
        audit_log(
            action="parking.gate.updated",
            organisation=gate.lot.owner,
            actor=actor,
            obj=gate,
            data=_jsonable(fields),
        )
    return gate


def allocation_set(
    *, lot: Lot, organisation: Organisation, spots: int, accepts_visitors: bool, actor: User | None
) -> Allocation:
    """Create or change an organisation's allocation; all allocations together fit in the lot."""
    with transaction.atomic():
        Lot.objects.select_for_update().filter(pk=lot.pk).first()
        others = (
            Allocation.objects.filter(lot=lot)
            .exclude(organisation=organisation)
            .aggregate(total=Sum("spots"))["total"]
            or 0
        )
        if others + spots > lot.total_spots:
            raise ValidationError(
                {
                    "spots": _("Only %(free)d of the lot's %(total)d spots are not allocated yet.")
                    % {"free": max(0, lot.total_spots - others), "total": lot.total_spots}
                }
            )
        allocation, created = Allocation.objects.update_or_create(
            lot=lot,
            organisation=organisation,
            defaults={"spots": spots, "accepts_visitors": accepts_visitors},
        )
        audit_log(
            action="parking.allocation.created" if created else "parking.allocation.updated",
            organisation=lot.owner,
            actor=actor,
            obj=allocation,
            data={"organisation": organisation.pk, "spots": spots, "accepts_visitors": accepts_visitors},
        )
    return allocation


def allocation_delete(*, allocation: Allocation, actor: User | None) -> None:
    with transaction.atomic():
        audit_log(
            action="parking.allocation.deleted",
            organisation=allocation.lot.owner,
            actor=actor,
            obj=allocation,
            data={"organisation": allocation.organisation_id, "spots": allocation.spots},
        )
        allocation.delete()


def policy_save(
    *,
    policy: AccessPolicy,
    windows: Sequence[WindowSpec],
    actor: User | None,
    members: Iterable[Parker] | None = None,
) -> AccessPolicy:
    """Create or update a policy together with its whole weekly timetable."""
    validate_windows(windows)
    created = policy.pk is None
    with transaction.atomic():
        policy.full_clean()
        policy.save()
        policy.windows.all().delete()
        TimetableWindow.objects.bulk_create(
            TimetableWindow(
                policy=policy, weekday=w.weekday, start_minute=w.start_minute, end_minute=w.end_minute
            )
            for w in windows
        )
        if members is not None:
            policy.members.set(list(members))
        audit_log(
            action="parking.policy.created" if created else "parking.policy.updated",
            organisation=policy.organisation,
            actor=actor,
            obj=policy,
            data={
                "kind": policy.kind,
                "lot": policy.lot_id,
                "spot_cap": policy.spot_cap,
                "windows": [[w.weekday, w.start_minute, w.end_minute] for w in windows],
            },
        )
    return policy


def _relations_read(instance: models.Model, names: Sequence[str]) -> list[str]:
    """The foreign keys of ``instance`` set to an object read from the database.

    Their validation would only ask the database whether that row exists (one query each); the
    foreign-key constraint still guards the write.
    """
    read = []
    for name in names:
        field = instance._meta.get_field(name)
        if field.is_cached(instance):  # type: ignore[union-attr]
            related = field.get_cached_value(instance)  # type: ignore[union-attr]
            if related is not None and not related._state.adding:
                read.append(name)
    return read


def parker_save(
    *,
    parker: Parker,
    plates: Sequence[str] | None,
    actor: User | None,
    actor_label: str = "",
    savepoint: bool = True,
) -> Parker:
    """Create or update a parker and (when given) replace their plates.

    Plates are kept as typed and under their canonical key; two spellings of one plate are one plate.
    ``savepoint=False`` for a caller whose own transaction fails whole with any error raised here.
    """
    created = parker.pk is None
    with transaction.atomic(savepoint=savepoint):
        parker.search_text = _search_text(parker)
        parker.full_clean(exclude=["search_text", *_relations_read(parker, ("managed_by", "organisation"))])
        parker.save()
        if plates is not None:
            wanted: dict[str, str] = {}
            for text in plates:
                text = plate_display(text)
                key = plate_key(text)
                if key and key not in wanted:
                    wanted[key] = text
            existing: dict[str, Plate] = {}
            if not created:  # a new parker has no plates yet: two round trips fewer (public booking)
                parker.plates.exclude(key__in=list(wanted)).delete()
                existing = {p.key: p for p in parker.plates.all()}
            for key, text in wanted.items():
                plate = existing.get(key)
                if plate is None:
                    Plate.objects.create(parker=parker, text=text, key=key)
                elif plate.text != text:
                    plate.text = text
                    plate.save(update_fields=["text"])
        audit_log(
            action="parking.parker.created" if created else "parking.parker.updated",
            organisation=parker.managed_by,
            actor=actor,
            actor_label=actor_label,
            obj=parker,
            data={"plates": list(plates) if plates is not None else None},
        )
    return parker


def _jsonable(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: (v if isinstance(v, (str, int, float, bool, type(None), list, dict)) else str(v))
        for k, v in fields.items()
    }


def parker_delete(*, parker: Parker, actor: User | None) -> None:
    """Delete a parker and their plates. A parker with reservations is kept (they are history)."""
    with transaction.atomic():
        if parker.reservations.exists():
            raise ValidationError(
                _("%(parker)s has reservations and cannot be deleted. Cancel them instead.")
                % {"parker": parker}
            )
        audit_log(
            action="parking.parker.deleted",
            organisation=parker.managed_by,
            actor=actor,
            obj=parker,
            data={"plates": [plate.text for plate in parker.plates.all()]},
        )
        parker.delete()


def policy_member_add(*, policy: AccessPolicy, parker: Parker, actor: User | None) -> None:
    """Give a parker of the policy's organisation the rights of a member policy."""
    if parker.managed_by_id != policy.organisation_id:
        raise ValidationError(_("This parker belongs to another organisation."))
    with transaction.atomic():
        policy.members.add(parker)
        audit_log(
            action="parking.policy.member_added",
            organisation=policy.organisation,
            actor=actor,
            obj=policy,
            data={"parker": parker.pk, "name": str(parker)},
        )


def policy_member_remove(*, policy: AccessPolicy, parker: Parker, actor: User | None) -> None:
    with transaction.atomic():
        policy.members.remove(parker)
        audit_log(
            action="parking.policy.member_removed",
            organisation=policy.organisation,
            actor=actor,
            obj=policy,
            data={"parker": parker.pk, "name": str(parker)},
        )
