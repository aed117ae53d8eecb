from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "parkgate.access"
    label = "access"
