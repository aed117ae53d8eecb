from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "parkgate.backoffice"
    label = "backoffice"
