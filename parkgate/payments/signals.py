"""The one seam out of payments: what happened to a payment, told to the app that sells with it.

Payments never imports the booking app and never changes a booking or its reservations: it records
the payment's new state, then sends one of these signals inside the same transaction, with the
locked ``payment`` (its ``booking`` loaded). The booking app connects its receivers in
``BookingConfig.ready()`` (``parkgate/booking/receivers.py``) and alone changes the booking. A
receiver's exception rolls the payment's change back too (``CapacityBusy`` makes the webhook answer
503, so Stripe retries); receivers are called with ``send``, never ``send_robust``.
"""

from __future__ import annotations

from django.dispatch import Signal

# A delayed debit (SEPA, Bancontact...) started. Arguments: payment, hold_until (keep what it pays
# for held until then).
payment_processing = Signal()
# The money is in. Argument: payment. The receiver confirms what it pays for, or, when that is no
# longer possible, gives it back with ``refunds.refunds_full_request``.
payment_paid = Signal()
# Failed or expired before it was paid. Arguments: payment, reason. The receiver frees what it held.
payment_released = Signal()
# A refund Stripe could not make (failed or cancelled): no money went back. Sent once, when the
# refund turns failed. Arguments: refund (its line and payment loaded), debit_note (the document
# that cancels its credit note, or None when it had none). The receiver tells the person who paid.
refund_failed = Signal()
