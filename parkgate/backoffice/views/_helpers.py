from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError

from parkgate.accounts.models import Organisation
from parkgate.parking.models import Lot
from parkgate.parking.selectors import get_lot_for_organisation


def form_errors_from(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError beside the matching field (or above the form)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def get_lot_to_manage(organisation: Organisation, lot_id: int) -> Lot:
    """A lot the organisation owns. Outsiders get 404; a tenant that only holds spots gets 403."""
    lot = get_lot_for_organisation(organisation, lot_id)
    if lot.owner_id != organisation.pk:
        raise PermissionDenied
    return lot
