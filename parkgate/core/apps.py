from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "parkgate.core"
    label = "core"
