from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "parkgate.portal"
    label = "portal"
