from django.apps import AppConfig


class ParkingConfig(AppConfig):
    name = "parkgate.parking"
    label = "parking"
