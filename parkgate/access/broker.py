"""Broker accounts of the devices: per-device MQTT credentials and the ACL Mosquitto enforces.

Every gate relay and every MQTT keypad has a namespace Parkgate assigned (``pg/g...`` or
``pg/k...``), a broker user name (the namespace's last part) and a password shown once to the
installer. Mosquitto checks them with a ``password_file`` and an ``acl_file`` that Parkgate writes
(``manage.py mqtt_broker_config``): a device may read and write under its own namespace only;
Parkgate's own account (``MQTT_USERNAME``) may use every namespace (``pg/#``).

Password hashes use the format of Mosquitto 2's ``mosquitto_passwd``: ``$7$<iterations>$<salt>$<hash>``,
PBKDF2-HMAC-SHA512 over a 12-byte salt, both base64.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from parkgate.access.models import Keypad
from parkgate.core.audit import audit_log
from parkgate.parking.models import MQTT_NAMESPACE_ROOT, Gate

logger = logging.getLogger(__name__)

PBKDF2_ITERATIONS = 101  # mosquitto_passwd's default; the passwords are 192 random bits anyway


def mosquitto_hash(password: str, *, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """A password hash Mosquitto 2 accepts in its password_file (the ``$7$`` PBKDF2-SHA512 format)."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def mosquitto_check(password: str, hashed: str) -> bool:
    try:
        _empty, seven, iterations, salt, _digest = hashed.split("$")
        expected = mosquitto_hash(password, salt=base64.b64decode(salt), iterations=int(iterations))
    except ValueError:
        return False
    return seven == "7" and secrets.compare_digest(expected, hashed)


def new_device_password() -> str:
    return secrets.token_urlsafe(24)


Device = Gate | Keypad


def _owner(device: Device) -> Any:
    return device.lot.owner if isinstance(device, Gate) else device.gate.lot.owner


def device_credentials_rotate(*, device: Device, actor: Any) -> str:
    """Give a gate relay or MQTT keypad a new broker password; return it (shown once, stored hashed)."""
    password = new_device_password()
    with transaction.atomic():
        device.mqtt_password_hash = mosquitto_hash(password)
        device.mqtt_password_set_at = timezone.now()
        device.save(update_fields=["mqtt_password_hash", "mqtt_password_set_at"])
        kind = "gate" if isinstance(device, Gate) else "keypad"
        audit_log(
            action=f"access.{kind}.mqtt_credentials_rotated",
            organisation=_owner(device),
            actor=actor,
            obj=device,
            data={"username": device.mqtt_username},
        )
        transaction.on_commit(sync_broker_if_configured)
    return password


@dataclass(frozen=True)
class DeviceSetup:
    """What an installer types into the device (the gate page shows it)."""

    server: str
    prefix: str
    username: str
    has_password: bool


def device_server() -> str:
    if settings.MQTT_DEVICE_SERVER:
        return str(settings.MQTT_DEVICE_SERVER)
    parts = urlsplit(settings.MQTT_URL)
    port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
    return f"{parts.hostname or '127.0.0.1'}:{port}"


def device_setup(device: Device) -> DeviceSetup:
    return DeviceSetup(
        server=device_server(),
        prefix=device.mqtt_namespace,
        username=device.mqtt_username,
        has_password=bool(device.mqtt_password_hash),
    )


# -- Mosquitto files -------------------------------------------------------------------------
@dataclass(frozen=True)
class BrokerAccount:
    username: str
    password_hash: str
    namespace: str | None  # None: Parkgate's own account, every namespace


def broker_accounts(*, service_username: str, service_password: str) -> list[BrokerAccount]:
    """Parkgate's own account first, then every gate and MQTT keypad that has a password."""
    accounts: list[BrokerAccount] = []
    if service_username:
        accounts.append(BrokerAccount(service_username, mosquitto_hash(service_password), None))
    gates = Gate.objects.exclude(mqtt_password_hash="").order_by("pk")
    for namespace, password_hash in gates.values_list("mqtt_namespace", "mqtt_password_hash"):
        accounts.append(BrokerAccount(namespace.rpartition("/")[2], password_hash, namespace))
    keypads = Keypad.objects.filter(uses_mqtt=True).exclude(mqtt_password_hash="").order_by("pk")
    for namespace, password_hash in keypads.values_list("mqtt_namespace", "mqtt_password_hash"):
        accounts.append(BrokerAccount(namespace.rpartition("/")[2], password_hash, namespace))
    return accounts


def _safe_name(name: str) -> str:
    # Mosquitto forbids + and # in user names; ':' ends the name in the password file.
    if not name or any(char in name for char in "+#:/\n\r\t ") or not name.isprintable():
        raise ValueError(f"unusable MQTT user name {name!r}")
    return name


def password_file_text(accounts: list[BrokerAccount]) -> str:
    return "".join(f"{_safe_name(a.username)}:{a.password_hash}\n" for a in accounts)


def acl_file_text(accounts: list[BrokerAccount]) -> str:
    lines = ["# Written by Parkgate (manage.py mqtt_broker_config): do not edit by hand.", ""]
    for account in accounts:
        topic = f"{MQTT_NAMESPACE_ROOT}/#" if account.namespace is None else f"{account.namespace}/#"
        lines += [f"user {_safe_name(account.username)}", f"topic readwrite {topic}", ""]
    return "\n".join(lines)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(temporary, 0o640)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_broker_files(
    *, password_file: str | Path, acl_file: str | Path, service_username: str, service_password: str
) -> int:
    """Write Mosquitto's password and ACL files (atomically); return the number of accounts."""
    accounts = broker_accounts(service_username=service_username, service_password=service_password)
    _write_atomically(Path(password_file), password_file_text(accounts))
    _write_atomically(Path(acl_file), acl_file_text(accounts))
    return len(accounts)


def reload_broker(pid_file: str | Path) -> int:
    """Ask Mosquitto to reread its password and ACL files (SIGHUP); return its pid."""
    pid = int(Path(pid_file).read_text().strip())
    os.kill(pid, signal.SIGHUP)
    return pid


def sync_broker_if_configured() -> bool:
    """After a credential change (on commit): rewrite the broker's files and reload it, when this
    process is configured to. A failure is logged, never raised: the new password is stored, and
    ``manage.py mqtt_broker_config`` (or the next change) brings the broker up to date."""
    if not (settings.MQTT_BROKER_PASSWORD_FILE and settings.MQTT_BROKER_ACL_FILE):
        return False
    try:
        write_broker_files(
            password_file=settings.MQTT_BROKER_PASSWORD_FILE,
            acl_file=settings.MQTT_BROKER_ACL_FILE,
            service_username=settings.MQTT_USERNAME,
            service_password=settings.MQTT_PASSWORD,
        )
        if settings.MQTT_BROKER_PID_FILE:
            reload_broker(settings.MQTT_BROKER_PID_FILE)
    except (OSError, ValueError):
        logger.exception("could not update the MQTT broker's password and ACL files")
        return False
    return True
