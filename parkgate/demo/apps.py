from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "parkgate.demo"
    label = "demo"
    verbose_name = "Demo data"
