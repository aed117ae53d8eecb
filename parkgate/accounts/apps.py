from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "parkgate.accounts"
    label = "accounts"
