from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "parkgate.members"
    label = "members"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from parkgate.members.services import device_record_login

        user_logged_in.connect(device_record_login, dispatch_uid="members.device_record_login")
