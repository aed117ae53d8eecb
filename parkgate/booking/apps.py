from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "parkgate.booking"
    label = "booking"

    def ready(self) -> None:
        # The one seam with payments: it reports, the booking changes (see payments/signals.py).
        # services registers the outbox's notice writers (notices.notice_writer) on import.
        from parkgate.booking import receivers, services  # noqa: F401
        from parkgate.payments import signals

        signals.payment_processing.connect(receivers.on_payment_processing, dispatch_uid="booking")
        signals.payment_paid.connect(receivers.on_payment_paid, dispatch_uid="booking")
        signals.payment_released.connect(receivers.on_payment_released, dispatch_uid="booking")
        signals.refund_failed.connect(receivers.on_refund_failed, dispatch_uid="booking")
