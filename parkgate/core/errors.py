"""The one base of Parkgate's domain errors.

A domain error is a refusal the product explains (a booking refused, capacity full, a bad device
key, a payment that cannot start), as opposed to a bug. ``except ParkgateError`` catches them all;
each app's errors subclass it (and ValueError where they always did, so callers keep working).
"""

from __future__ import annotations


class ParkgateError(Exception):
    """Base of every domain error raised by Parkgate's services."""
