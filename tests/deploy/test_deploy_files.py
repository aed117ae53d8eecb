"""What an operator copies from deploy/ matches what Parkgate reads and runs."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
DEPLOY = ROOT / "deploy"


def _names_read_by_settings() -> set[str]:
    source = (ROOT / "parkgate" / "config" / "settings.py").read_text()
    return set(re.findall(r'env_(?:str|bool|int|list|url)\(\s*"([A-Z0-9_]+)"', source))


def _names_documented() -> set[str]:
    text = (DEPLOY / "parkgate.env.example").read_text()
    return set(re.findall(r"^([A-Z0-9_]+)=", text, re.MULTILINE))


def test_every_setting_read_is_documented_in_the_env_template() -> None:
    read = _names_read_by_settings()
    assert {"SECRET_KEY", "DATABASE_URL", "VAR_DIR", "STATIC_ROOT"} <= read  # the pattern still finds them
    assert sorted(read - _names_documented()) == []


def test_the_production_template_is_production() -> None:
    values = dict(re.findall(r"^([A-Z0-9_]+)=(.*)$", (DEPLOY / "parkgate.env.example").read_text(), re.M))
    assert values["DEBUG"] == "false"
    assert values["TASK_BACKEND"] == "database"
    assert values["CACHE_BACKEND"] == "redis"
    assert values["DATABASE_URL"].startswith("postgres://")
    assert values["STRIPE_API_BASE"] == ""
    assert values["TEST_ONLY_FAST_PASSWORD_HASHING"] == "false"


def test_nginx_accepts_the_largest_body_parkgate_accepts() -> None:
    site = (DEPLOY / "nginx" / "parkgate.conf").read_text()
    (size,) = re.findall(r"client_max_body_size (\d+)m;", site)
    largest = max(
        settings.ANPR_MAX_BODY_BYTES,
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
        settings.FILE_UPLOAD_MAX_MEMORY_SIZE,
    )
    assert int(size) * 1024 * 1024 > largest
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site  # the edge replaces, never appends


def test_every_unit_runs_an_existing_command_with_the_env_file() -> None:
    from django.core.management import get_commands

    commands = get_commands()
    units = sorted(
        set((DEPLOY / "systemd").glob("*.service"))
        - {DEPLOY / "systemd" / "parkgate-mosquitto-reload.service"}
    )
    assert {unit.name for unit in units} == {
        "parkgate-web@.service",
        "parkgate-worker.service",
        "parkgate-housekeeping.service",
        "parkgate-keypad-listener.service",
    }
    for unit in units:
        text = unit.read_text()
        assert "EnvironmentFile=/etc/parkgate/parkgate.env" in text
        assert "User=parkgate" in text
        (command,) = re.findall(r"^ExecStart=(\S+)\s+(\S+)", text, re.M)
        if command[0].endswith("/gunicorn"):
            assert command[1] == "parkgate.config.wsgi:application"
        else:
            assert command[0] == "/opt/parkgate/venv/bin/parkgate"
            assert command[1] in commands, f"{unit.name}: no command {command[1]}"
