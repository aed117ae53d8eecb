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
        "parkgate-devices@.service",
        "parkgate-worker@.service",
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


def _nginx_upstream_for(path: str) -> str:
    """Which upstream deploy/nginx/parkgate.conf sends ``path`` to, by nginx's own rules: regular
    expression locations in order, else the longest prefix location."""
    site = (DEPLOY / "nginx" / "parkgate.conf").read_text()
    (https,) = [block for block in site.split("\nserver {") if "listen 443" in block]
    locations = re.findall(r"location (~ )?(\S+) \{(.*?)\}", https, re.S)
    for is_regex, pattern, body in locations:
        if is_regex and re.search(pattern, path):
            return _target(body)
    prefix = max((p for r, p, _b in locations if not r and path.startswith(p)), key=len)
    return _target(next(body for r, p, body in locations if not r and p == prefix))


def _target(body: str) -> str:
    found = re.search(r"proxy_pass http://(\w+);", body)
    return found.group(1) if found else "nginx"


def test_requests_that_wait_on_a_device_go_to_the_threaded_instance() -> None:
    """A silent relay (GATE_COMMAND_TIMEOUT_SECONDS) or a site agent's long poll (20 s) must not hold
    a sync worker of the page instances: nginx sends every such path to parkgate_devices."""
    from django.urls import reverse

    waiting = [
        reverse("sites:api_sync"),
        reverse("sites:api_events"),
        reverse("sites:api_report"),
        reverse("sites:api_pair"),
        reverse("access:anpr_read", args=["cam-1"]),
        reverse("access:keypad_code", args=["kp-1"]),
        reverse("access:remote_control_open", args=["tok3n", 7]),
        reverse("members:gate_open", args=[7]),
        reverse("controlroom:open_gate", args=[12]),
        reverse("controlroom:force_open", args=[12]),
        reverse("controlroom:walk_in", args=[12]),
    ]
    assert {path: _nginx_upstream_for(path) for path in waiting} == dict.fromkeys(waiting, "parkgate_devices")
    pages = [
        reverse("access:remote_control", args=["tok3n"]),
        reverse("controlroom:lot", args=[12]),
        reverse("controlroom:search", args=[12]),
        reverse("members:home"),
        "/visit/acme/tok3n/",
        "/office/",
        "/healthz",
    ]
    assert {path: _nginx_upstream_for(path) for path in pages} == dict.fromkeys(pages, "parkgate_web")
    assert _nginx_upstream_for("/static/parkgate/app.css") == "nginx"


def test_the_devices_upstream_falls_back_on_the_page_instances() -> None:
    site = (DEPLOY / "nginx" / "parkgate.conf").read_text()
    blocks = dict(re.findall(r"upstream (\w+) \{(.*?)\}", site, re.S))
    pages = re.findall(r"^\s*server (127\.0\.0\.1:\d+) ", blocks["parkgate_web"], re.M)
    devices = re.findall(r"^\s*server (127\.0\.0\.1:\d+)( backup)?", blocks["parkgate_devices"], re.M)
    assert pages == ["127.0.0.1:8001", "127.0.0.1:8002"]
    assert devices == [("127.0.0.1:8003", ""), ("127.0.0.1:8001", " backup"), ("127.0.0.1:8002", " backup")]
