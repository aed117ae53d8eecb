"""First run: create a platform staff account and print the one-time link to choose its password."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from parkgate.accounts.services import password_set_url, platform_staff_create


class Command(BaseCommand):
    help = (
        "Create a platform staff account (it runs the platform console at /platform/) and print a "
        "one-time link where that person chooses a password; two-factor authentication is set up "
        "at the first sign-in."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--email", required=True, help="the staff member's e-mail address (their sign-in)"
        )
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = platform_staff_create(
                email=options["email"], first_name=options["first_name"], last_name=options["last_name"]
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(self.style.SUCCESS(f"Platform staff account created for {user.email}."))
        self.stdout.write("Open this link once to choose a password (it stops working after use):")
        self.stdout.write(f"  {password_set_url(user)}")
        self.stdout.write(
            "Then sign in at /accounts/login/; you will be asked to set up an authenticator app."
        )
