"""The one plate rule, as the members' page applies it.

LOCAL STAND-IN: the ``gate`` engineer (issue 11) is making THE one plate rule in
``parkgate/access/plates.py`` (NFKC, accents folded, one length bound) and the "registered to
someone else" warning. Their work was not on this branch; until it is merged, this calls the rules
that exist (``plate_key``/``plate_display`` and ``is_plausible_key``). At merge time the body of
``plate_check`` becomes one call to theirs.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from parkgate.access.plates import is_plausible_key
from parkgate.parking.models import plate_display, plate_key


@dataclass(frozen=True)
class CheckedPlate:
    text: str  # as shown
    key: str  # as matched


def plate_check(text: str) -> CheckedPlate:
    shown = plate_display(text or "")
    key = plate_key(shown)
    if not is_plausible_key(key) or len(shown) > 20:
        raise ValidationError(_("Enter a licence plate: 2 to 20 letters and digits."))
    return CheckedPlate(shown, key)
