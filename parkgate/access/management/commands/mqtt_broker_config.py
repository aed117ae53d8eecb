"""Write Mosquitto's password and ACL files from the database, and optionally reload the broker."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from parkgate.access.broker import reload_broker, write_broker_files


class Command(BaseCommand):
    help = (
        "Write the broker's password_file and acl_file: Parkgate's own account (MQTT_USERNAME) may use "
        "every device namespace, each gate relay and MQTT keypad only its own. See docs/gates.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password-file", default=settings.MQTT_BROKER_PASSWORD_FILE or None)
        parser.add_argument("--acl-file", default=settings.MQTT_BROKER_ACL_FILE or None)
        parser.add_argument(
            "--reload-pid-file",
            default=settings.MQTT_BROKER_PID_FILE or None,
            help="Mosquitto's pid_file: send SIGHUP so it rereads both files",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["password_file"] or not options["acl_file"]:
            raise CommandError("give --password-file and --acl-file (or MQTT_BROKER_PASSWORD_FILE/_ACL_FILE)")
        if not settings.MQTT_USERNAME or not settings.MQTT_PASSWORD:
            raise CommandError("set MQTT_USERNAME and MQTT_PASSWORD: Parkgate's own broker account")
        count = write_broker_files(
            password_file=options["password_file"],
            acl_file=options["acl_file"],
            service_username=settings.MQTT_USERNAME,
            service_password=settings.MQTT_PASSWORD,
        )
        files = f"{options['password_file']} and {options['acl_file']}"
        self.stdout.write(f"{count} broker accounts written to {files}")
        if options["reload_pid_file"]:
            pid = reload_broker(options["reload_pid_file"])
            self.stdout.write(f"mosquitto (pid {pid}) reloaded")
