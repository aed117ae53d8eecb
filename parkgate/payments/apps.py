from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "parkgate.payments"
    label = "payments"

    def ready(self) -> None:
        from parkgate.payments import checks  # noqa: F401  (registers the system checks)
