from __future__ import annotations

import zoneinfo

from django import template

from parkgate.access.models import AccessEvent

from ..selectors import event_words as _event_words
from ..selectors import gate_result_words

register = template.Library()


@register.filter
def event_words(event: AccessEvent, zone: zoneinfo.ZoneInfo) -> str:
    """The decision of a logged access event in the reader's language."""
    return _event_words(event, zone)


@register.filter
def gate_result(event: AccessEvent) -> str:
    return gate_result_words(event)
