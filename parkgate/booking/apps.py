from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "parkgate.booking"
    label = "booking"
