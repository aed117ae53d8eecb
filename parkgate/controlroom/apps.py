from django.apps import AppConfig


class ControlroomConfig(AppConfig):
    name = "parkgate.controlroom"
    label = "controlroom"
