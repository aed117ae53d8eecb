#!/usr/bin/env python3
"""`make prod-check`: Parkgate as it is deployed, on loopback, tested through nginx, with faults.

1. Builds the wheel, installs it (requirements/runtime.lock, hashes required) into a new virtual
   environment in a temporary folder outside the checkout; `parkgate check --deploy`, `migrate`,
   `collectstatic` and `demo` run from there.
2. Starts the deployed shape: nginx (deploy/nginx/parkgate.conf, TLS) in front of two gunicorn
   page instances and the threaded device instance (each with its systemd unit's options), the
   task workers (`parkgate db_worker`, as many as parkgate.target starts), the periodic jobs
   (`parkgate housekeeping`), the keypad listener, a simulated relay on its own Mosquitto, its own
   Redis, its own PostgreSQL database and role, and an SMTP sink (aiosmtpd) that receives every
   e-mail the workers send.
3. Through nginx: a visitor books on the public invitation form (the confirmation arrives at the
   sink), a number-plate camera read opens a gate (the relay command is seen on the broker), the
   receptionist signs in and opens the control room.
4. Faults: one gunicorn instance killed while bookings are in flight (none lost or half written,
   each confirmed booking gets its e-mail once); one task worker killed (the others send every
   confirmation); all task workers stopped (e-mails wait, then go, none twice); the device
   instance stopped (a camera read falls back on the page instances, then reaches it again once
   restarted); Redis restarted (rate limits and gates keep working); PostgreSQL refused to the app
   (503, /healthz names the database, nothing half written).

Every process it starts is stopped at the end, whatever happens. Each visitor connects from its own
loopback address (127.0.0.x), as real visitors come from their own addresses.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
import requests
from aiosmtpd.controller import Controller
from requests.adapters import HTTPAdapter

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get("PROD_CHECK_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
DB_NAME = f"parkgate_prodcheck_{os.getpid()}"  # its own database and role, one per run
RELAY_PREFIX = "prodcheck-relay"
CAMERA_ID = "demo-entry-camera"
CAMERA_KEY = "demo-camera-key-not-secret"
# The public name of the site (as in production: the checks refuse a local SITE_URL); the check
# connects to 127.0.0.1 and sends this name as Host, as a visitor's browser would.
PUBLIC_HOST = "parkgate.example.org"
PUBLIC_ORIGIN = f"https://{PUBLIC_HOST}"
MEMBER_PLATES = ("GH-456-JK", "99-XXX-9")  # Blue Fin staff (demo data), allowed every hour here
T0 = time.monotonic()


class CheckFailed(Exception):
    pass


def say(message: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f}s] {message}", flush=True)


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)
    say(f"ok  {message}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise CheckFailed(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)  # polling a real process from outside it


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# --- Processes -----------------------------------------------------------------------------------


@dataclass
class Service:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    port: int | None = None
    process: subprocess.Popen[bytes] | None = None


def unit_command(unit: str) -> list[str]:
    """deploy/systemd/<unit>'s ExecStart, split into words (continuation lines joined)."""
    text = (ROOT / "deploy" / "systemd" / unit).read_text().replace("\\\n", " ")
    (command,) = re.findall(r"^ExecStart=(.*)$", text, re.M)
    return shlex.split(command)


def task_worker_instances() -> list[str]:
    """The task worker instances parkgate.target starts (parkgate-worker@1, @2, ...)."""
    text = (ROOT / "deploy" / "systemd" / "parkgate.target").read_text()
    instances = re.findall(r"parkgate-worker@([\w-]+)\.service", text)
    if not instances:
        raise CheckFailed("deploy/systemd/parkgate.target starts no task worker (parkgate-worker@N)")
    return instances


def unit_gunicorn_options(unit: str) -> list[str]:
    """The gunicorn options of deploy/systemd/<unit>'s ExecStart, but its --bind (each instance here
    has its own port) and --graceful-timeout: the check runs what the unit ships."""
    words = unit_command(unit)[2:]  # after the gunicorn binary and the application
    options: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in ("--bind", "--graceful-timeout"):
            skip = True
        else:
            options.append(word)
    if "--access-logfile" not in options:
        raise CheckFailed(f"deploy/systemd/{unit} no longer logs requests (--access-logfile -)")
    return options


class Stack:
    """Every process the check starts, each in its own process group, all stopped at the end."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.services: dict[str, Service] = {}

    def add(self, name: str, argv: list[str], env: dict[str, str], port: int | None = None) -> Service:
        service = Service(name, argv, env, self.work / "logs" / f"{name}.log", port)
        self.services[name] = service
        return service

    def start(self, name: str, timeout: float = 30) -> None:
        service = self.services[name]
        with service.log.open("ab") as log:
            service.process = subprocess.Popen(
                service.argv,
                env=service.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.work,
                start_new_session=True,
            )
        if service.port is not None:

            def ready() -> bool:
                assert service.process is not None
                if service.process.poll() is not None:
                    raise CheckFailed(f"{name} exited ({service.process.returncode}); see {service.log}")
                return port_open(service.port or 0)

            wait_for(ready, timeout, f"{name} on port {service.port}")

    def alive(self, name: str) -> bool:
        process = self.services[name].process
        return process is not None and process.poll() is None

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15, termed: bool = False) -> None:
        """Stop one service's process group (``termed``: stop_all has sent SIGTERM already)."""
        process = self.services[name].process
        if process is None or (process.poll() is not None and not termed):
            return
        try:
            if process.poll() is None:
                os.killpg(process.pid, sig)
                process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        except ProcessLookupError:
            pass
        # The leader was ours a moment ago: whatever is left of its group (workers) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        """SIGTERM to every running group at once, then wait for each (SIGKILL after 15 s)."""
        running = [
            name
            for name, service in self.services.items()
            if service.process and service.process.poll() is None
        ]
        for name in running:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.services[name].process.pid, signal.SIGTERM)  # type: ignore[union-attr]
        for name in reversed(running):
            self.stop(name, termed=True)


# --- The SMTP sink and the broker watcher ----------------------------------------------------------


class Sink:
    """Collects every message delivered over SMTP: (envelope recipients, raw bytes, when)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes, float]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(([r.lower() for r in envelope.rcpt_tos], envelope.content, time.monotonic()))
        return "250 Message accepted for delivery"

    def count_to(self, address: str) -> int:
        with self.lock:
            return sum(address.lower() in rcpts for rcpts, _content, _at in self.messages)


class BrokerWatcher:
    """Subscribes to everything on the check's broker and keeps the relay commands."""

    def __init__(self, port: int) -> None:
        self.commands: list[dict[str, Any]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="prodcheck-watcher")
        self.client.on_message = self._message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe("#")
        self.client.loop_start()

    def _message(self, _client: Any, _userdata: Any, message: Any) -> None:
        try:
            payload = json.loads(message.payload)
        except ValueError:
            return
        if isinstance(payload, dict) and payload.get("method") == "Switch.Set":
            self.commands.append({"topic": message.topic, **payload})

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


# --- A visitor's browser -----------------------------------------------------------------------------


class SourceAddressAdapter(HTTPAdapter):
    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__(max_retries=0)

    def build_connection_pool_key_attributes(self, request: Any, verify: Any, cert: Any = None) -> Any:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        pool_kwargs["source_address"] = (self.source, 0)
        return host_params, pool_kwargs


class Browser(requests.Session):
    """A visitor's browser: the site's public name in Host and Origin, connected to loopback."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target = super().get_redirect_target(resp)
        if target and target.startswith(PUBLIC_ORIGIN):  # an absolute link to the site: same server
            target = self.base + target[len(PUBLIC_ORIGIN) :]
        return target


def public(url: str, base: str) -> str:
    """The address a browser would show for ``url`` (used as Referer)."""
    return PUBLIC_ORIGIN + url[len(base) :] if url.startswith(base) else url


def browser(base: str, cert: Path, source: str = "127.0.0.1") -> requests.Session:
    session = Browser(base)
    session.trust_env = False  # REQUESTS_CA_BUNDLE would replace our certificate; no proxy either
    session.verify = str(cert)
    session.mount("https://", SourceAddressAdapter(source))
    session.mount("http://", SourceAddressAdapter(source))
    session.headers["User-Agent"] = "parkgate-prod-check"
    session.headers["Host"] = PUBLIC_HOST
    return session


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Visit:
    number: int
    email: str
    references: list[str] = field(default_factory=list)
    attempts: int = 0
    errors: list[str] = field(default_factory=list)
    post_seconds: list[float] = field(default_factory=list)


def book(base: str, cert: Path, invitation_path: str, visit: Visit, day: str, tries: int = 4) -> None:
    """Open the invitation, book one spot, follow to the confirmation; retry as a person would."""
    source = f"127.0.{1 + visit.number // 250}.{1 + visit.number % 250}"
    for _attempt in range(tries):
        visit.attempts += 1
        session = browser(base, cert, source)
        url = base + invitation_path
        plan = {"date": day, "until": day, "time": "custom", "start": "10:00", "end": "12:00", "spots": "1"}
        try:
            # Step one (date, time, spots) is a GET form; its answer is the details form (POST).
            page = session.get(url, params={"step": "details", **plan}, timeout=30)
            token = CSRF.search(page.text) if page.status_code == 200 else None
            if token is None:
                visit.errors.append(f"GET {page.status_code}")
                time.sleep(0.5)
                continue
            posted = time.monotonic()
            answer = session.post(
                url,
                data={
                    "csrfmiddlewaretoken": token.group(1),
                    **plan,
                    "v0-first_name": "Visitor",
                    "v0-last_name": f"Number {visit.number}",
                    "v0-plate": f"PC-{visit.number:03d}",
                    "v0-email": visit.email,
                },
                headers={"Referer": public(page.url, base), "Origin": PUBLIC_ORIGIN},
                allow_redirects=False,
                timeout=30,
            )
        except requests.RequestException as error:
            visit.errors.append(type(error).__name__)
            time.sleep(0.5)
            continue
        visit.post_seconds.append(time.monotonic() - posted)
        location = answer.headers.get("Location", "")
        done = re.search(r"/done/([^/]+)/(?:[^/]+/)?$", location)  # the key follows the reference
        if answer.status_code == 302 and done:
            visit.references.append(done.group(1))
            confirmation = session.get(base + location if location.startswith("/") else location, timeout=30)
            if confirmation.status_code != 200 or done.group(1) not in confirmation.text:
                visit.errors.append(f"confirmation page {confirmation.status_code}")
            return
        visit.errors.append(f"POST {answer.status_code}")
        time.sleep(0.5)


# --- The check ---------------------------------------------------------------------------------------


class ProdCheck:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="parkgate-prod-check-"))
        self.work.chmod(0o755)  # nginx's workers read the static files
        (self.work / "logs").mkdir()
        self.stack = Stack(self.work)
        self.sink = Sink()
        self.smtp: Controller | None = None
        self.watcher: BrokerWatcher | None = None
        self.figures: dict[str, str] = {}
        self.db_password = secrets.token_urlsafe(24)
        self.ports = {
            name: free_port()
            for name in ("https", "http", "web1", "web2", "devices", "redis", "mqtt", "smtp")
        }
        self.base = f"https://127.0.0.1:{self.ports['https']}"
        self.venv = self.work / "venv"
        self.env: dict[str, str] = {}
        self.relay_prefix = RELAY_PREFIX

    # -- plumbing --

    def run(self, argv: list[str], **kwargs: Any) -> str:
        result = subprocess.run(argv, capture_output=True, text=True, cwd=self.work, **kwargs)
        if result.returncode != 0:
            raise CheckFailed(f"{' '.join(map(str, argv))} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def parkgate(self, *args: str) -> str:
        return self.run([str(self.venv / "bin" / "parkgate"), *args], env=self.env)

    def shell(self, code: str) -> Any:
        out = self.parkgate("shell", "-c", code)
        for line in out.splitlines():
            if line.startswith("PRODCHECK "):
                return json.loads(line[len("PRODCHECK ") :])
        raise CheckFailed(f"no answer from parkgate shell:\n{out}")

    def admin(self, sql: str) -> None:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(sql)

    # -- steps --

    def install(self) -> None:
        if self.args.venv:  # development of this script only: an earlier run's installation
            self.venv = Path(self.args.venv)
            say(f"ok  reusing {self.venv} (--venv): the wheel was NOT rebuilt")
            return
        started = time.monotonic()
        dist = self.work / "dist"
        self.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(ROOT)])
        (wheel,) = dist.glob("parkgate-*.whl")
        self.run([sys.executable, "-m", "venv", str(self.venv)])
        pip = [
            str(self.venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",  # quicker; each process compiles what it imports
        ]
        self.run([*pip, "--require-hashes", "-r", str(ROOT / "requirements" / "runtime.lock")])
        self.run([*pip, "--no-deps", str(wheel)])
        self.figures["wheel build and install"] = f"{time.monotonic() - started:.0f} s"
        say(f"ok  {wheel.name} installed with requirements/runtime.lock (hashes) into {self.venv}")

    def database(self) -> None:
        role = DB_NAME
        self.admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        self.admin(f"DROP ROLE IF EXISTS {role}")
        self.admin(f"CREATE ROLE {role} LOGIN PASSWORD '{self.db_password}'")
        self.admin(f"CREATE DATABASE {DB_NAME} OWNER {role}")
        say(f"ok  database {DB_NAME} owned by its own role (not a superuser)")

    def environment(self) -> None:
        p = self.ports
        self.env = {
            "PATH": f"{self.venv / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": str(self.work),
            "LANG": "C.UTF-8",
            "DJANGO_SETTINGS_MODULE": "parkgate.config.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": PUBLIC_HOST,
            "CSRF_TRUSTED_ORIGINS": PUBLIC_ORIGIN,
            "SITE_URL": PUBLIC_ORIGIN,
            "TRUSTED_PROXIES": "127.0.0.1",
            "BEHIND_TLS_PROXY": "true",
            "VAR_DIR": str(self.work / "var"),
            "STATIC_ROOT": str(self.work / "static"),
            "MEDIA_ROOT": str(self.work / "media"),
            "DATABASE_URL": f"postgres://{DB_NAME}:{self.db_password}@127.0.0.1:5432/{DB_NAME}",
            "DATABASE_CONN_MAX_AGE": "60",
            "CACHE_BACKEND": "redis",
            "REDIS_URL": f"redis://127.0.0.1:{p['redis']}/0",
            "TASK_BACKEND": "database",
            "MQTT_URL": f"mqtt://127.0.0.1:{p['mqtt']}",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(p["smtp"]),
            "DEFAULT_FROM_EMAIL": "Parkgate <no-reply@parkgate.example.org>",
            # Not the bundled test server's: production settings. No paid portal is used here.
            "STRIPE_SECRET_KEY": "sk_test_prodcheck_" + secrets.token_hex(12),
            "STRIPE_WEBHOOK_SECRET": "whsec_prodcheck_" + secrets.token_hex(12),
            "LOG_LEVEL": "WARNING",
        }

    def setup_data(self) -> dict[str, Any]:
        out = self.parkgate("check", "--deploy", "--fail-level", "WARNING")
        say(f"ok  parkgate check --deploy: {out.strip().splitlines()[-1]}")
        self.parkgate("migrate", "--noinput", "-v0")
        self.parkgate("collectstatic", "--noinput", "-v0")
        self.parkgate("demo")
        say("ok  migrate, collectstatic, demo data (the project's own commands)")
        # The first visitor, the measured runs, then what each fault books.
        count = 1 + 2 * self.args.measure + sum(self.fault_bookings(fault) for fault in self.faults())
        code = SETUP_CODE.replace("@COUNT@", str(count)).replace("@RELAY@", RELAY_PREFIX)
        data = self.shell(code)
        self.relay_prefix = data["relay"]
        say(f"ok  {len(data['invitations'])} invitations for {data['day']}; relay on {self.relay_prefix}/rpc")
        return data

    def services(self) -> None:
        p, bin_ = self.ports, self.venv / "bin"
        redis_conf = ["--port", str(p["redis"]), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.stack.add("redis", ["redis-server", *redis_conf, "--dir", str(self.work)], self.env, p["redis"])
        conf = self.work / "mosquitto.conf"
        conf.write_text(f"listener {p['mqtt']} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.stack.add("mosquitto", [mosquitto, "-c", str(conf)], self.env, p["mqtt"])
        for name, unit in (
            ("web1", "parkgate-web@.service"),
            ("web2", "parkgate-web@.service"),
            ("devices", "parkgate-devices@.service"),
        ):
            self.stack.add(
                name,
                [
                    str(bin_ / "gunicorn"),
                    "parkgate.config.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{p[name]}",
                    *unit_gunicorn_options(unit),  # workers and threads as the unit ships them
                    "--graceful-timeout",
                    "5",
                ],
                self.env,
                p[name],
            )
        parkgate = str(bin_ / "parkgate")
        # As many task workers as parkgate.target starts, each with its unit's own options.
        self.workers = [f"worker{instance}" for instance in task_worker_instances()]
        worker_options = unit_command("parkgate-worker@.service")[1:]  # after the parkgate command
        for name in self.workers:
            self.stack.add(name, [parkgate, *worker_options, "--no-startup-delay"], self.env)
        self.stack.add("housekeeping", [parkgate, "housekeeping", "--every", "10"], self.env)
        self.stack.add(
            "relay",
            [parkgate, "gate_simulator", "--device-id", RELAY_PREFIX, "--prefix", self.relay_prefix],
            self.env,
        )
        self.stack.add("keypad-listener", [parkgate, "keypad_listener"], self.env)
        self.nginx_config()
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.stack.add(
            "nginx",
            [
                nginx,
                "-p",
                str(self.work),
                "-e",
                str(self.work / "logs" / "nginx-error.log"),
                "-c",
                str(self.work / "nginx.conf"),
            ],
            self.env,
            p["https"],
        )
        self.smtp = Controller(self.sink, hostname="127.0.0.1", port=p["smtp"])
        self.smtp.start()
        for name in ("redis", "mosquitto"):
            self.stack.start(name)
        self.watcher = BrokerWatcher(p["mqtt"])
        services = (
            "web1",
            "web2",
            "devices",
            *self.workers,
            "housekeeping",
            "relay",
            "keypad-listener",
            "nginx",
        )
        for name in services:
            self.stack.start(name)
        time.sleep(1)  # let the simulated relay subscribe before the first command
        dead = [name for name in self.stack.services if not self.stack.alive(name)]
        expect(not dead, "every service is running: " + ", ".join(self.stack.services) + " + SMTP sink")

    def nginx_config(self) -> None:
        """deploy/nginx/parkgate.conf itself, with only its ports, names and paths changed."""
        p, site = self.ports, (ROOT / "deploy" / "nginx" / "parkgate.conf").read_text()
        cert, key = self.work / "tls.crt", self.work / "tls.key"
        self.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                f"/CN={PUBLIC_HOST}",
                "-addext",
                f"subjectAltName=DNS:{PUBLIC_HOST},IP:127.0.0.1",
                "-keyout",
                str(key),
                "-out",
                str(cert),
            ]
        )
        replacements = [
            (r"server 127\.0\.0\.1:8001 ", f"server 127.0.0.1:{p['web1']} "),
            (r"server 127\.0\.0\.1:8002 ", f"server 127.0.0.1:{p['web2']} "),
            (r"server 127\.0\.0\.1:8003 ", f"server 127.0.0.1:{p['devices']} "),
            (r"listen 80;", f"listen 127.0.0.1:{p['http']};"),
            (r"listen 443 ssl http2;", f"listen 127.0.0.1:{p['https']} ssl http2;"),
            (r"\n\s*listen \[::\]:\d+[^;]*;", ""),
            (r"/etc/letsencrypt/live/parkgate\.example\.org/fullchain\.pem", str(cert)),
            (r"/etc/letsencrypt/live/parkgate\.example\.org/privkey\.pem", str(key)),
            (r"alias /var/lib/parkgate/static/;", f"alias {self.work / 'static'}/;"),
        ]
        for pattern, value in replacements:
            site, count = re.subn(pattern, value.replace("\\", "\\\\"), site)
            if not count:
                raise CheckFailed(f"deploy/nginx/parkgate.conf no longer has {pattern!r}")
        (self.work / "site.conf").write_text(site)
        temp = self.work / "nginx-temp"
        temp.mkdir()
        user = "user root;\n" if os.geteuid() == 0 else ""
        (self.work / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {self.work / 'nginx.pid'};\n"
            "events { worker_connections 512; }\nhttp {\n"
            "  include /etc/nginx/mime.types;\n"
            f"  access_log {self.work / 'logs' / 'nginx-access.log'};\n"
            + "".join(
                f"  {kind}_temp_path {temp / kind};\n"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            )
            + f"  include {self.work / 'site.conf'};\n}}\n"
        )

    # -- what a person does --

    def visitor_books(self, invitation: str, day: str) -> None:
        visit = Visit(0, "first.visitor@prodcheck.example")
        started = time.monotonic()
        book(self.base, self.work / "tls.crt", invitation, visit, day)
        expect(
            len(visit.references) == 1, f"a visitor booked through nginx: {visit.references or visit.errors}"
        )
        wait_for(lambda: self.sink.count_to(visit.email), 30, "the confirmation e-mail at the SMTP sink")
        self.figures["booking to e-mail at the sink"] = f"{time.monotonic() - started:.1f} s"
        expect(
            self.sink.count_to(visit.email) == 1, "the confirmation e-mail arrived once, sent by the worker"
        )
        first = browser(self.base, self.work / "tls.crt")
        static = first.get(self.base + "/static/parkgate/favicon.svg", timeout=10)
        expect(
            static.status_code == 200 and "nginx" in static.headers.get("Server", ""), "nginx serves /static/"
        )
        plain = first.get(f"http://127.0.0.1:{self.ports['http']}/", allow_redirects=False, timeout=10)
        expect(
            plain.status_code == 301 and plain.headers["Location"].startswith(PUBLIC_ORIGIN),
            "HTTP goes to HTTPS",
        )

    def served(self, names: tuple[str, ...], path: str) -> int:
        """How many requests for ``path`` these gunicorn instances logged (their access logs)."""
        return sum(self.stack.services[n].log.read_text(errors="replace").count(f" {path} ") for n in names)

    def anpr_opens(self, plate: str, read_id: str, served_by: tuple[str, ...] = ("devices",)) -> None:
        assert self.watcher is not None
        path = f"/access/anpr/{CAMERA_ID}/"
        served_before = self.served(served_by, path)
        before = len(self.watcher.commands)
        started = time.monotonic()
        answer = browser(self.base, self.work / "tls.crt").post(
            f"{self.base}/access/anpr/{CAMERA_ID}/",
            json={"plate": plate, "confidence": 0.95, "read_id": read_id},
            headers={"X-Parkgate-Key": CAMERA_KEY},
            timeout=30,
        )
        elapsed = time.monotonic() - started
        body = answer.json() if answer.headers.get("Content-Type", "").startswith("application/json") else {}
        watcher = self.watcher
        wait_for(
            lambda: len(watcher.commands) > before, 10, f"a relay command on the broker ({answer.text[:300]})"
        )
        command = self.watcher.commands[-1]
        expect(
            answer.status_code == 200 and body.get("granted") is True and body.get("result") == "opened",
            f"ANPR read of {plate} through nginx: gate opened ({answer.status_code} {body.get('result')}, "
            f"{elapsed * 1000:.0f} ms); relay command {command['method']} seen on {command['topic']}",
        )
        self.figures.setdefault("ANPR read to gate opened (relay acknowledged)", f"{elapsed * 1000:.0f} ms")
        expect(
            self.served(served_by, path) == served_before + 1,
            f"nginx sent the camera read to {' or '.join(served_by)}"
            + (" (the threaded instance, not a page worker)" if served_by == ("devices",) else ""),
        )

    def receptionist(self) -> None:
        session = browser(self.base, self.work / "tls.crt")
        login = session.get(self.base + "/control-room/", timeout=10)
        form = next(
            (f for f in re.findall(r"<form.*?</form>", login.text, re.S) if 'name="password"' in f), ""
        )
        token = CSRF.search(form)
        expect(
            login.status_code == 200 and token is not None,
            "the control room asks an anonymous visitor to sign in",
        )
        assert token is not None
        # Django's own form takes the username; the e-mail sign-in (django-allauth) takes the e-mail.
        username_field = "login" if 'name="login"' in form else "username"
        who = "reception@brussels-parking.example" if username_field == "login" else "reception"
        action = re.search(r'<form[^>]*action="([^"]+)"', form)
        target = (self.base + action.group(1)) if action and action.group(1).startswith("/") else login.url
        answer = session.post(
            target,
            data={
                "csrfmiddlewaretoken": token.group(1),
                username_field: who,
                "password": "parkgate-demo",
            },
            headers={"Referer": public(login.url, self.base), "Origin": PUBLIC_ORIGIN},
            timeout=10,
        )
        room = session.get(self.base + "/control-room/", timeout=10)
        expect(
            answer.status_code == 200 and room.status_code == 200 and "Brussels Central Garage" in room.text,
            f"the receptionist signed in ({answer.status_code}), opened the control room ({room.status_code} "
            f"{room.url.removeprefix(self.base)}: Brussels Central Garage)",
        )

    # -- faults --

    def bookings_state(self) -> dict[str, Any]:
        return self.shell(STATE_CODE)

    def complete_and_mailed(self, visits: list[Visit], label: str) -> None:
        state = self.bookings_state()
        by_email: dict[str, list[dict[str, Any]]] = {}
        for item in state["bookings"]:
            by_email.setdefault(item["email"], []).append(item)
        half = [b for b in state["bookings"] if b["status"] != "confirmed" or b["reservations"] != b["spots"]]
        expect(
            not half,
            f"{label}: no half booking ({len(state['bookings'])} bookings in the database, all complete)",
        )
        lost = [
            v.number
            for v in visits
            for ref in v.references
            if ref not in {b["reference"] for b in by_email.get(v.email, [])}
        ]
        expect(not lost, f"{label}: no lost booking (every confirmation a visitor saw is in the database)")
        unbooked = [v.number for v in visits if not by_email.get(v.email)]
        expect(not unbooked, f"{label}: every visitor got a booking ({len(visits)} visitors)")
        wanted = {v.email: len(by_email[v.email]) for v in visits}
        twice_booked = sum(count - 1 for count in wanted.values())
        self.figures[f"{label}: bookings in the database for {len(visits)} visitors"] = (
            f"{sum(wanted.values())} ({twice_booked} booked twice: their first answer was lost)"
        )
        started = time.monotonic()

        def all_mailed() -> bool:
            return all(self.sink.count_to(email) >= count for email, count in wanted.items())

        try:
            # A booking committed by a process killed before it enqueued the e-mail is caught up by
            # the periodic jobs (every 10 s here), after their grace period: allow for it.
            wait_for(all_mailed, self.args.mail_wait, f"{label}: the confirmation e-mails", every=0.5)
        except CheckFailed:
            missing = sorted(e for e, count in wanted.items() if self.sink.count_to(e) < count)
            outbox = self.shell(OUTBOX_CODE.replace("@EMAILS@", json.dumps(missing)))
            detail = [
                f"{e}: {wanted[e]} booking(s), {sum(e in r['to'] for r in outbox['rows'])} outbox e-mail(s) "
                f"{[r['status'] for r in outbox['rows'] if e in r['to']]}, sink: {self.sink.count_to(e)}"
                for e in missing
            ]
            raise CheckFailed(
                f"{label}: confirmation e-mails missing after {self.args.mail_wait:.0f} s: "
                + "; ".join(detail)
            ) from None
        self.figures[f"{label}: last confirmation e-mail at the sink after"] = (
            f"{time.monotonic() - started:.1f} s"
        )
        time.sleep(2)  # a second copy would arrive now
        twice = [email for email, count in wanted.items() if self.sink.count_to(email) != count]
        expect(not twice, f"{label}: each booking's confirmation e-mail arrived exactly once")

    def measure(self, invitations: list[str], day: str) -> None:
        """Bookings per second through nginx on one lot, with one gunicorn instance, then two."""
        n = self.args.measure
        options = unit_gunicorn_options("parkgate-web@.service")
        workers = options[options.index("--workers") + 1]
        for instances in (1, 2):
            if instances == 1:
                self.stack.stop("web2")
            chunk, invitations = invitations[:n], invitations[n:]
            visits = [
                Visit(2000 + instances * 500 + i, f"m{instances}-{i}@prodcheck.example") for i in range(n)
            ]
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=self.args.concurrency) as pool:
                for visit, invitation in zip(visits, chunk, strict=False):
                    pool.submit(book, self.base, self.work / "tls.crt", invitation, visit, day)
            elapsed = time.monotonic() - started
            posts = sorted(t for v in visits for t in v.post_seconds)
            booked = sum(1 for v in visits if v.references)
            label = f"one lot, {instances} page instance(s) x {workers} sync workers"
            self.figures[f"{label}, {self.args.concurrency} visitors"] = (
                f"{booked}/{n} booked in {elapsed:.1f} s = {booked / elapsed:.1f} bookings/s "
                f"(3 requests each); POST p50 {posts[len(posts) // 2] * 1000:.0f} ms, "
                f"p95 {posts[int(len(posts) * 0.95)] * 1000:.0f} ms"
            )
            say(f"    measured: {self.figures[next(reversed(self.figures))]}")
            if instances == 1:
                self.stack.start("web2")

    def kill_one_web_instance(self, invitations: list[str], day: str) -> None:
        n = self.args.bookings
        visits = [Visit(i + 1, f"visitor{i + 1}@prodcheck.example") for i in range(n)]
        killed_at: list[int] = []

        def killer() -> None:
            # A quarter of the visitors through: the rest are in flight or still to come.
            try:
                wait_for(lambda: sum(bool(v.references) for v in visits) >= max(1, n // 4), 120, "bookings")
            except CheckFailed:
                killed_at.append(n)  # reported below: the kill never happened
                return
            self.stack.stop("web1", signal.SIGKILL)
            killed_at.append(sum(bool(v.references) for v in visits))
            say(f"    web1 (gunicorn master and workers) SIGKILLed after {killed_at[0]}/{n} bookings")
            time.sleep(3)
            self.stack.start("web1")
            say("    web1 started again (as systemd would)")

        started = time.monotonic()
        thread = threading.Thread(target=killer)
        thread.start()
        with ThreadPoolExecutor(max_workers=self.args.concurrency) as pool:
            for visit, invitation in zip(visits, invitations, strict=False):
                pool.submit(book, self.base, self.work / "tls.crt", invitation, visit, day)
        thread.join()
        elapsed = time.monotonic() - started
        retried = sum(1 for v in visits if v.attempts > 1)
        errors = Counter(e for v in visits for e in v.errors)
        self.figures[f"{n} bookings, {self.args.concurrency} at a time, one instance killed"] = (
            f"{elapsed:.1f} s, {n / elapsed:.1f} bookings/s; {retried} visitors pressed again "
            f"({dict(errors) or 'no error'})"
        )
        expect(killed_at[0] < n, f"web1 was killed while bookings were in flight ({n - killed_at[0]} to go)")
        expect(all(v.references for v in visits), f"all {n} visitors saw a confirmation (some after a retry)")
        self.complete_and_mailed(visits, "instance killed")

    def kill_one_task_worker(self, invitations: list[str], day: str) -> None:
        """One of the task workers dies (SIGKILL, no clean-up): the others send every confirmation."""
        killed, *others = self.workers
        expect(bool(others), f"parkgate.target starts more than one task worker ({len(self.workers)})")
        self.stack.stop(killed, signal.SIGKILL)
        say(f"    {killed} SIGKILLed; {', '.join(others)} still running")
        visits = [Visit(800 + i, f"alone{i}@prodcheck.example") for i in range(3)]
        started = time.monotonic()
        for visit, invitation in zip(visits, invitations, strict=False):
            book(self.base, self.work / "tls.crt", invitation, visit, day)
        expect(all(v.references for v in visits), f"3 bookings confirmed with {killed} dead")
        wait_for(lambda: all(self.sink.count_to(v.email) for v in visits), 30, "the e-mails of the others")
        self.figures[f"{killed} killed: 3 bookings to their e-mails sent by the others"] = (
            f"{time.monotonic() - started:.1f} s"
        )
        self.complete_and_mailed(visits, f"{killed} killed")
        self.stack.start(killed)
        say(f"    {killed} started again (as systemd would)")

    def stop_the_workers(self, invitations: list[str], day: str) -> None:
        for name in self.workers:
            self.stack.stop(name)
        visits = [Visit(900 + i, f"late{i}@prodcheck.example") for i in range(3)]
        for visit, invitation in zip(visits, invitations, strict=False):
            book(self.base, self.work / "tls.crt", invitation, visit, day)
        expect(all(v.references for v in visits), "3 bookings confirmed while the worker is stopped")
        time.sleep(self.args.worker_pause)  # the worker stays down this long
        waiting = self.shell(OUTBOX_CODE.replace("@EMAILS@", "[]"))
        expect(
            not any(self.sink.count_to(v.email) for v in visits) and waiting["owed"] >= 3,
            f"worker down {self.args.worker_pause:.0f} s: no e-mail sent, {waiting['owed']} owed (outbox)",
        )
        started = time.monotonic()
        for name in self.workers:
            self.stack.start(name)
        wait_for(lambda: all(self.sink.count_to(v.email) for v in visits), 60, "the waiting e-mails")
        self.figures["workers restarted to waiting e-mails sent"] = f"{time.monotonic() - started:.1f} s"
        self.complete_and_mailed(visits, "workers stopped")

    def stop_the_device_instance(self, invitations: list[str], day: str) -> None:
        self.stack.stop("devices")
        say("    parkgate-devices@ stopped: its requests fall back on the page instances")
        # The other plate: the first was read at the start, within the repeat window. The Redis
        # fault that follows (windows gone) reads this one again, through the restarted instance.
        self.anpr_opens(MEMBER_PLATES[1], "prodcheck-devices-down", served_by=("web1", "web2"))
        self.stack.start("devices")
        # nginx tries it again after fail_timeout (10 s): a site agent's call (refused, no token)
        # until one reaches it.
        path, client = "/sites/api/v1/report", browser(self.base, self.work / "tls.crt")
        started = time.monotonic()

        def back() -> bool:
            before = self.served(("devices",), path)
            client.post(self.base + path, json={}, timeout=10)
            return self.served(("devices",), path) > before

        wait_for(back, 30, "nginx sending device requests to the restarted parkgate-devices@")
        say(f"    parkgate-devices@ back in nginx's rotation after {time.monotonic() - started:.1f} s")

    def restart_redis(self, invitations: list[str], day: str) -> None:
        self.stack.stop("redis")
        self.stack.start("redis")
        say("    Redis stopped and started again (its counters are gone)")
        visit = Visit(950, "after.redis@prodcheck.example")
        book(self.base, self.work / "tls.crt", invitations[0], visit, day)
        expect(bool(visit.references), "a booking after the Redis restart (rate limits counted again)")
        self.anpr_opens(MEMBER_PLATES[1], "prodcheck-after-redis")
        # Rate limits still bite: the lost-links form takes 10 requests per address an hour.
        session = browser(self.base, self.work / "tls.crt", "127.0.9.9")
        statuses = []
        for _ in range(11):
            page = session.get(f"{self.base}/visit/acme-visitors/lost/", timeout=10)
            token = CSRF.search(page.text)
            if token is None:
                statuses.append(page.status_code)
                continue
            answer = session.post(
                f"{self.base}/visit/acme-visitors/lost/",
                data={"csrfmiddlewaretoken": token.group(1), "email": "lost@prodcheck.example"},
                headers={"Referer": public(page.url, self.base), "Origin": PUBLIC_ORIGIN},
                allow_redirects=False,
                timeout=10,
            )
            statuses.append(answer.status_code)
        expect(
            statuses[-1] == 429 and 429 not in statuses[:-1],
            f"rate limit counted after the restart: 11th lost-links request from one address 429 {statuses}",
        )

    def refuse_postgres(self, invitations: list[str], day: str) -> None:
        before = self.bookings_state()
        session = browser(self.base, self.work / "tls.crt", "127.0.8.8")
        url = self.base + invitations[0]
        plan = {"date": day, "until": day, "time": "custom", "start": "10:00", "end": "12:00", "spots": "1"}
        page = session.get(url, params={"step": "details", **plan}, timeout=10)
        token = CSRF.search(page.text)
        assert token is not None
        self.admin(f"ALTER DATABASE {DB_NAME} ALLOW_CONNECTIONS false")
        self.admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{DB_NAME}'")
        say("    PostgreSQL refuses the app (connections cut, new ones refused)")
        try:
            answer = session.post(
                url,
                data={
                    "csrfmiddlewaretoken": token.group(1),
                    **plan,
                    "v0-first_name": "Out",
                    "v0-last_name": "Age",
                    "v0-plate": "PC-999",
                    "v0-email": "outage@prodcheck.example",
                },
                headers={"Referer": public(page.url, self.base), "Origin": PUBLIC_ORIGIN},
                allow_redirects=False,
                timeout=30,
            )
            health = session.get(self.base + "/healthz", timeout=30)
            page_again = session.get(url, timeout=30)
        finally:
            self.admin(f"ALTER DATABASE {DB_NAME} ALLOW_CONNECTIONS true")
        say(f"    booking POST {answer.status_code}, /healthz {health.status_code} {health.text[:160]!r}")
        after = wait_for(lambda: self._state_when_back(), 30, "the database back")
        expect(
            after["bookings"] == before["bookings"] and "outage@prodcheck.example" not in after["emails"],
            "database refused: nothing written, no e-mail queued",
        )
        healthy = session.get(self.base + "/healthz", timeout=10)
        expect(healthy.status_code == 200, "database back: /healthz 200")
        again = browser(self.base, self.work / "tls.crt", "127.0.8.9").get(url, timeout=10)
        expect(again.status_code == 200, "database back: the invitation page answers again")
        expect(
            answer.status_code == 503 and page_again.status_code == 503,
            f"database refused: pages answered 503 (booking POST {answer.status_code}, "
            f"page {page_again.status_code})",
        )
        expect(
            health.status_code == 503 and "database" in health.text,
            "database refused: /healthz answered 503 naming the database",
        )

    def _state_when_back(self) -> dict[str, Any] | None:
        try:
            return self.bookings_state()
        except CheckFailed:
            return None

    # -- the whole --

    def faults(self) -> list[Callable[[list[str], str], None]]:
        return [
            self.kill_one_web_instance,
            self.kill_one_task_worker,
            self.stop_the_workers,
            self.stop_the_device_instance,
            self.restart_redis,
            self.refuse_postgres,
        ]

    def fault_bookings(self, fault: Callable[[list[str], str], None]) -> int:
        """The invitations a fault is given: --bookings for the killed instance, 5 for the others."""
        return self.args.bookings if fault == self.kill_one_web_instance else 5

    def main(self) -> int:
        say(f"work folder {self.work} (outside the checkout); ports {self.ports}")
        try:
            self.install()
            self.database()
            self.environment()
            data = self.setup_data()
            self.services()
            invitations, day = data["invitations"], data["day"]
            self.visitor_books(invitations.pop(), day)
            self.anpr_opens(MEMBER_PLATES[0], "prodcheck-1")
            self.receptionist()
            if self.args.measure:
                self.measure(invitations[: 2 * self.args.measure], day)
                del invitations[: 2 * self.args.measure]
            for fault in self.faults():
                say(f"== fault: {fault.__name__.replace('_', ' ')}")
                chunk = self.fault_bookings(fault)
                fault(invitations[:chunk], day)
                del invitations[:chunk]
        except CheckFailed as failure:
            say(f"FAIL {failure}")
            self.tail_logs()
            passed = False
        else:
            passed = True
        finally:
            self.cleanup()
        print("\nprod-check figures:")
        for name, value in self.figures.items():
            print(f"  {name}: {value}")
        print(f"  total: {time.monotonic() - T0:.0f} s")
        print("prod-check: passed" if passed else "prod-check: FAILED (see FAIL above)")
        return 0 if passed else 1

    def tail_logs(self) -> None:
        for log in sorted((self.work / "logs").glob("*.log")):
            lines = log.read_text(errors="replace").splitlines()[-15:]
            if lines:
                print(f"--- {log.name} (last lines)\n" + "\n".join(lines))

    def cleanup(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        self.stack.stop_all()
        if self.smtp is not None:
            self.smtp.stop()
        try:
            self.admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
            self.admin(f"DROP ROLE IF EXISTS {DB_NAME}")
        except psycopg.Error as error:
            say(f"could not drop {DB_NAME}: {error}")
        if self.args.keep:
            say(f"kept {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)
        left = [name for name in self.stack.services if self.stack.alive(name)]
        say("every process it started is stopped" if not left else f"STILL RUNNING: {left}")


# Run inside the installed Parkgate (`parkgate shell -c`): the project's own services only.
SETUP_CODE = """
import json
from datetime import timedelta
from django.utils import timezone
from parkgate.accounts.models import Organisation
from parkgate.parking.models import AccessPolicy, Gate, Lot
from parkgate.accounts.models import User
from parkgate.parking.services import WindowSpec, allocation_set, gate_update, lot_update, policy_save
from parkgate.portal.models import VisitorPortal
from parkgate.portal.services import invitation_create
from parkgate.portal.selectors import invitation_url

lot = Lot.objects.get(name="Brussels Central Garage")
acme = Organisation.objects.get(slug="acme")
every_hour = [WindowSpec(day, 0, 24 * 60) for day in range(7)]
lot_update(lot=lot, actor=None, total_spots=400)
allocation_set(lot=lot, organisation=acme, spots=250, accepts_visitors=True, actor=None)
for name, cap in (("Acme visitors", 250), ("Blue Fin staff", 25)):
    policy = AccessPolicy.objects.get(lot=lot, name=name)
    policy.spot_cap = cap
    policy_save(policy=policy, windows=every_hour, actor=None)
gate = Gate.objects.get(lot=lot, direction="entry")
relay_settings = {"switch_id": 0, "pulse_seconds": 1.0}
if not hasattr(gate, "mqtt_namespace"):  # before per-gate namespaces: the prefix is a setting
    relay_settings["topic_prefix"] = "@RELAY@"
gate_update(gate=gate, actor=None, driver_kind="shelly-gen2-mqtt", driver_settings=relay_settings)
relay = getattr(gate, "mqtt_namespace", "@RELAY@")
portal = VisitorPortal.objects.get(slug="acme-visitors")
admin = User.objects.get(username="admin")
day = timezone.now().astimezone(lot.zone).date() + timedelta(days=1)
paths = []
for number in range(@COUNT@):
    invitation = invitation_create(portal=portal, language="en", date_from=day, date_until=day,
                                   visitor_name=f"Visitor {number}", actor=admin)
    paths.append(invitation_url(invitation).split("://", 1)[1].split("/", 1)[1])
answer = {"day": day.isoformat(), "relay": relay, "invitations": ["/" + p for p in paths]}
print("PRODCHECK " + json.dumps(answer))
"""

STATE_CODE = """
import json
from parkgate.access.models import Reservation
from parkgate.booking.models import Booking
from parkgate.core.models import OutboundEmail
bookings = [
    {"reference": b.reference, "email": b.booker_email, "status": b.status, "spots": b.spots,
     "reservations": Reservation.objects.filter(group_id=b.group_id).count()}
    for b in Booking.objects.order_by("pk")
]
emails = sorted({address for e in OutboundEmail.objects.all() for address in e.to})
print("PRODCHECK " + json.dumps({"bookings": bookings, "emails": emails}))
"""

OUTBOX_CODE = """
import json
from parkgate.core.models import OutboundEmail
rows = [
    {"to": e.to, "status": e.status, "attempts": e.attempts, "created": e.created_at.isoformat()}
    for e in OutboundEmail.objects.order_by("pk") if set(e.to) & set(json.loads('@EMAILS@'))
]
# E-mails owed: rendered and queued, or (with the booking outbox) a notice not rendered yet.
owed = OutboundEmail.objects.filter(status="queued").count()
try:
    from parkgate.booking.models import BookingNotice
except ImportError:
    pass
else:
    owed += BookingNotice.objects.filter(status="pending").count()
print("PRODCHECK " + json.dumps({"owed": owed, "rows": rows}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bookings", type=int, default=100, help="bookings in flight when web1 is killed")
    parser.add_argument("--concurrency", type=int, default=10, help="visitors booking at the same time")
    parser.add_argument("--worker-pause", type=float, default=15.0, help="seconds the worker stays down")
    parser.add_argument(
        "--measure", type=int, default=0, help="also time N bookings with 1, then 2 instances"
    )
    parser.add_argument("--mail-wait", type=float, default=120.0, help="seconds to wait for the e-mails")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs) afterwards")
    parser.add_argument("--venv", help="reuse this installed virtual environment (developing this script)")
    args = parser.parse_args()
    for tool in ("nginx", "redis-server", "openssl"):
        if not (shutil.which(tool) or Path(f"/usr/sbin/{tool}").exists()):
            sys.exit(
                f"prod-check needs {tool} (apt-get install nginx-light redis-server openssl; .ci/run does it)"
            )
    return ProdCheck(args).main()


if __name__ == "__main__":
    sys.exit(main())
