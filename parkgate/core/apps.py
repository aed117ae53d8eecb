from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "parkgate.core"
    label = "core"

    def ready(self) -> None:
        from parkgate.core import checks  # noqa: F401 - registers the production checks
