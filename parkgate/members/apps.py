from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "parkgate.members"
    label = "members"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from parkgate.members.services import device_forget_logout, device_record_login

        user_logged_in.connect(device_record_login, dispatch_uid="members.device_record_login")
        user_logged_out.connect(device_forget_logout, dispatch_uid="members.device_forget_logout")
