from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "parkgate.accounts"
    label = "accounts"

    def ready(self) -> None:
        from allauth.mfa import signals

        from parkgate.accounts import receivers

        signals.authenticator_added.connect(receivers.on_authenticator_added, dispatch_uid="accounts")
        signals.authenticator_removed.connect(receivers.on_authenticator_removed, dispatch_uid="accounts")
        signals.authenticator_reset.connect(receivers.on_authenticator_reset, dispatch_uid="accounts")
