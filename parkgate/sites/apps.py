from django.apps import AppConfig


class SitesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "parkgate.sites"
    verbose_name = "Site agents"

    def ready(self) -> None:
        from parkgate.access.panels import register_device_panel
        from parkgate.access.reachability import register_unreachable_check
        from parkgate.sites.selectors import device_panel, lot_site_offline

        register_unreachable_check(lot_site_offline)
        register_device_panel(device_panel)
