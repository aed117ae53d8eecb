from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "parkgate.payments"
    label = "payments"
