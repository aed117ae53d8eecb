"""Tenant-scoped reads. Anything outside the organisation is simply not there (404)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from parkgate.accounts.models import Organisation
from parkgate.core.text import fold
from parkgate.parking.models import AccessPolicy, Allocation, Gate, Lot, Parker
from parkgate.parking.plates import plate_key


def lots_visible_to(organisation: Organisation) -> QuerySet[Lot]:
    """Lots the organisation owns or holds spots in."""
    return Lot.objects.filter(Q(owner=organisation) | Q(allocations__organisation=organisation)).distinct()


def get_lot_for_organisation(organisation: Organisation, lot_id: int) -> Lot:
    return get_object_or_404(lots_visible_to(organisation), pk=lot_id)


def get_owned_lot(organisation: Organisation, lot_id: int) -> Lot:
    return get_object_or_404(Lot, pk=lot_id, owner=organisation)


def get_gate_for_owner(organisation: Organisation, gate_id: int) -> Gate:
    return get_object_or_404(Gate.objects.select_related("lot"), pk=gate_id, lot__owner=organisation)


def get_allocation_for_owner(organisation: Organisation, allocation_id: int) -> Allocation:
    return get_object_or_404(
        Allocation.objects.select_related("lot", "organisation"), pk=allocation_id, lot__owner=organisation
    )


def policies_of(organisation: Organisation) -> QuerySet[AccessPolicy]:
    return AccessPolicy.objects.filter(organisation=organisation).select_related("lot")


def get_policy_for_organisation(organisation: Organisation, policy_id: int) -> AccessPolicy:
    return get_object_or_404(policies_of(organisation), pk=policy_id)


def parkers_of(organisation: Organisation) -> QuerySet[Parker]:
    return (
        Parker.objects.filter(managed_by=organisation)
        .select_related("organisation")
        .prefetch_related("plates")
    )


def get_parker_for_organisation(organisation: Organisation, parker_id: int) -> Parker:
    return get_object_or_404(parkers_of(organisation), pk=parker_id)


def lots_owned_by(organisation: Organisation) -> QuerySet[Lot]:
    return Lot.objects.filter(owner=organisation)


def parkers_matching(organisation: Organisation, query: str) -> QuerySet[Parker]:
    """The organisation's parkers whose name (accents and case ignored) or plate contains ``query``."""
    parkers = parkers_of(organisation)
    words = fold(query).split()
    key = plate_key(query)
    if not words and not key:
        return parkers
    by_name = Q()
    for word in words:
        by_name &= Q(search_text__contains=word)
    by_plate = Q(plates__key__contains=key) if key else Q(pk__in=[])
    matching = Parker.objects.filter(managed_by=organisation).filter(by_name | by_plate).values("pk")
    return parkers.filter(pk__in=matching)
