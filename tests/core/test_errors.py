from __future__ import annotations

import pytest

from parkgate.access.anpr import ParseError
from parkgate.access.capacity import CapacityBusy, CapacityFull, ReservationError
from parkgate.access.devices import DeviceAuthError
from parkgate.access.mqtt import BrokerUnavailable
from parkgate.access.ways import KeypadInputError
from parkgate.booking.services import BookingRefused
from parkgate.controlroom.services import ControlRoomError
from parkgate.core.errors import ParkgateError
from parkgate.payments.checkout import PaymentStartFailed, PaymentUnavailable
from parkgate.payments.money import MoneyError
from parkgate.payments.webhooks import BadWebhook, UnknownReference
from parkgate.portal.services import SlugTaken
from parkgate.portal.uploads import UploadRefused

DOMAIN_ERRORS = [
    ParseError,
    ReservationError,
    CapacityFull,
    CapacityBusy,
    DeviceAuthError,
    BrokerUnavailable,
    KeypadInputError,
    BookingRefused,
    ControlRoomError,
    PaymentStartFailed,
    PaymentUnavailable,
    MoneyError,
    BadWebhook,
    UnknownReference,
    SlugTaken,
    UploadRefused,
]


@pytest.mark.parametrize("error", DOMAIN_ERRORS, ids=lambda e: e.__name__)
def test_every_domain_error_is_a_parkgate_error(error: type[Exception]) -> None:
    assert issubclass(error, ParkgateError)


def test_the_errors_that_were_value_errors_still_are() -> None:
    # Callers that catch ValueError keep working.
    assert all(issubclass(e, ValueError) for e in (ParseError, KeypadInputError, MoneyError))
    assert not issubclass(ParkgateError, ValueError)
