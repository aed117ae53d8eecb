#!/usr/bin/env python3
"""Gate latency: a number-plate read POSTed to Parkgate until the relay command is on the broker.

Starts a real server (gunicorn) on loopback against a fresh database, a simulated Shelly Gen2 relay
and a subscriber on the local Mosquitto, then POSTs generic plate reads (each a different member
car, so none is a repeat) at a sustained rate, open loop. For every read it measures:

* POST -> command seen on the broker (the subscriber receives ``<prefix>/rpc``), the figure the
  goal is about (p99 <= 20 ms on the 2-core machine);
* POST -> HTTP answer (the relay has acknowledged, the access event is complete).

Bounded: ``--count`` reads (default 400) at ``--rate`` per second (default 20), and never more than
``--max-seconds`` (default 60). Loopback only. Everything it starts, it stops.

    .venv/bin/python bench/gate_latency.py           # PostgreSQL + Redis when they answer (production)
    .venv/bin/python bench/gate_latency.py --database sqlite --cache database   # the `make run` setup
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU of every live process in a process group (Linux /proc)."""
    total = 0
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5 of stat: the process group
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    one, five, fifteen = os.getloadavg()
    load = f", load average {one:.2f} {five:.2f} {fifteen:.2f}"
    return (
        f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}{load}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--rate", type=float, default=20.0, help="reads per second")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument(
        "--database",
        choices=["auto", "postgres", "sqlite"],
        default="auto",
        help="postgres: a temporary database on 127.0.0.1:5432 (auto: when it answers)",
    )
    parser.add_argument(
        "--cache",
        choices=["auto", "redis", "database"],
        default="auto",
        help="redis: 127.0.0.1:6379/15 (auto: when it answers)",
    )
    parser.add_argument("--mqtt-url", default="mqtt://127.0.0.1:1883")
    args = parser.parse_args()
    args.postgres = args.database == "postgres" or (args.database == "auto" and listening(5432))
    args.redis = args.cache == "redis" or (args.cache == "auto" and listening(6379))
    if args.count < 1 or args.count > 5000 or args.rate <= 0 or args.rate > 500:
        parser.error("--count must be 1..5000 and --rate 0..500")

    workdir = Path(tempfile.mkdtemp(prefix="parkgate-bench-"))
    pg_name = f"parkgate_bench_{secrets.token_hex(4)}"
    database_url = (
        f"postgres://postgres@127.0.0.1:5432/{pg_name}"
        if args.postgres
        else f"sqlite:///{workdir / 'bench.sqlite3'}"
    )
    env = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SITE_URL": "http://127.0.0.1",
        "STATIC_MANIFEST": "false",
        "DATABASE_URL": database_url,
        "CACHE_BACKEND": "redis" if args.redis else "database",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "MQTT_URL": args.mqtt_url,
        "LOG_LEVEL": "WARNING",
        "ANPR_REPEAT_WINDOW_SECONDS": "30",
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    server: subprocess.Popen[bytes] | None = None
    simulator: subprocess.Popen[bytes] | None = None
    spy = None
    try:
        if args.postgres:
            import psycopg

            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{pg_name}"')
        import django

        django.setup()
        from django.core.cache import cache
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        call_command("createcachetable", verbosity=0)
        if args.redis:
            cache.clear()

        from parkgate.access.models import Camera
        from parkgate.accounts.models import Organisation
        from parkgate.parking.models import (
            AccessPolicy,
            Gate,
            Lot,
            Parker,
            Plate,
            PolicyKind,
            TimetableWindow,
        )

        prefix = f"pgbench-{uuid.uuid4().hex[:10]}"
        total = args.count + args.warmup
        owner = Organisation.objects.create(name="Bench owner", slug="bench-owner", email="o@bench.example")
        lot = Lot.objects.create(owner=owner, name="Bench lot", address="Loopback 1", total_spots=total)
        gate = Gate.objects.create(
            lot=lot,
            name="Entry",
            direction="both",
            driver_kind="shelly-gen2-mqtt",
            driver_settings={"topic_prefix": prefix, "pulse_seconds": 1},
        )
        key = secrets.token_urlsafe(32)
        camera = Camera.objects.create(gate=gate, name="Bench camera", public_id="bench-cam", secret_key=key)
        policy = AccessPolicy.objects.create(
            organisation=owner, lot=lot, name="Always", kind=PolicyKind.MEMBER, spot_cap=total
        )
        TimetableWindow.objects.bulk_create(
            TimetableWindow(policy=policy, weekday=d, start_minute=0, end_minute=1440) for d in range(7)
        )
        parkers = Parker.objects.bulk_create(
            Parker(managed_by=owner, organisation=owner, first_name="Car", last_name=str(i))
            for i in range(total)
        )
        plates = [f"BN{i:06d}" for i in range(total)]
        Plate.objects.bulk_create(
            Plate(parker=p, text=t, key=t) for p, t in zip(parkers, plates, strict=True)
        )
        policy.members.add(*parkers)
        from django.db import connections

        connections.close_all()

        # The relay runs in its own process, as a real one would: it does not compete with the
        # measuring subscriber for this process's interpreter lock.
        simulator = subprocess.Popen(
            [sys.executable, "manage.py", "gate_simulator", "--device-id", prefix, "--url", args.mqtt_url],
            cwd=ROOT,
            env={**os.environ},
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        seen: dict[str, float] = {}
        online = threading.Event()
        import paho.mqtt.client as mqtt

        ready = threading.Event()
        spy = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-spy", protocol=mqtt.MQTTv5)
        spy.on_connect = lambda c, *a: c.subscribe([(f"{prefix}/rpc", 0), (f"{prefix}/online", 0)])
        spy.on_subscribe = lambda *a: ready.set()

        def on_message(client, userdata, message) -> None:  # type: ignore[no-untyped-def]
            now = time.perf_counter()
            if message.topic.endswith("/online"):
                if message.payload == b"true":
                    online.set()
                return
            seen.setdefault(json.loads(message.payload)["id"], now)

        spy.on_message = on_message
        spy.on_socket_open = lambda c, u, sock: sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        host, port_text = args.mqtt_url.split("://", 1)[1].split(":")
        spy.connect(host, int(port_text))
        spy.loop_start()
        if not ready.wait(5):
            raise SystemExit("could not subscribe to the broker")
        if not online.wait(30):
            raise SystemExit("the simulated relay did not come online")

        port = free_port()
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
        server = subprocess.Popen(
            [
                gunicorn,
                "config.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                str(args.workers),
                "-k",
                "gthread",
                "--threads",
                "4",
                "--log-level",
                "warning",
                "--keep-alive",
                "30",
            ],
            cwd=ROOT,
            env={**os.environ},
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.05)

        local = threading.local()
        path = f"/access/anpr/{camera.public_id}/"

        def post(index: int) -> tuple[int, float, float, int]:
            conn = getattr(local, "conn", None)
            if conn is None:
                conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            body = json.dumps({"plate": plates[index], "confidence": 0.95})
            started = time.perf_counter()
            conn.request("POST", path, body, {"Content-Type": "application/json", "X-Parkgate-Key": key})
            response = conn.getresponse()
            answer = json.loads(response.read())
            finished = time.perf_counter()
            return (
                index,
                started,
                finished,
                int(answer.get("event_id", 0))
                if response.status == 200 and answer.get("result") == "opened"
                else 0,
            )

        results: list[tuple[int, float, float, int]] = []
        cpu_at_start: float | None = None
        interval = 1 / args.rate
        run_deadline = time.monotonic() + args.max_seconds
        with ThreadPoolExecutor(max_workers=8) as pool:
            futures = []
            start = time.perf_counter()
            for index in range(total):
                target = start + index * interval
                delay = target - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)  # pacing the open-loop schedule, not waiting for a result
                if time.monotonic() > run_deadline:
                    break
                if index == args.warmup:
                    cpu_at_start = group_cpu_seconds(server.pid)
                futures.append(pool.submit(post, index))
            results = [future.result() for future in futures]
        elapsed = time.perf_counter() - start
        server_cpu = group_cpu_seconds(server.pid) - (cpu_at_start or 0.0)
        # Let the last commands reach the subscriber (bounded).
        wait_until = time.monotonic() + 3
        from parkgate.access.models import AccessEvent

        events = dict(AccessEvent.objects.filter(result="opened").values_list("pk", "command_id"))
        while time.monotonic() < wait_until and len(seen) < len(events):
            time.sleep(0.01)
        to_broker, to_answer, failures = [], [], 0
        for index, started, finished, event_id in results:
            if index < args.warmup:
                continue
            command_id = events.get(event_id)
            if not event_id or command_id is None or str(command_id) not in seen:
                failures += 1
                continue
            to_broker.append((seen[str(command_id)] - started) * 1000)
            to_answer.append((finished - started) * 1000)
        measured = len(to_broker)
        print(f"machine: {machine()}")
        print(
            f"setup: gunicorn {args.workers} workers x 4 threads, "
            f"{'PostgreSQL' if args.postgres else 'SQLite'} + {'Redis' if args.redis else 'database'} cache, "
            f"Mosquitto at {args.mqtt_url}, simulated Shelly Gen2 relay"
        )
        print(
            f"load: {len(results)} reads in {elapsed:.1f} s "
            f"({len(results) / elapsed:.1f}/s, target {args.rate:g}/s), "
            f"{args.warmup} warm-up reads not counted, {failures} failed"
        )
        if measured:
            for label, values in (
                ("POST -> command on broker", to_broker),
                ("POST -> answer (relay acked)", to_answer),
            ):
                print(
                    f"{label:30s} p50 {statistics.median(values):6.2f} ms   "
                    f"p90 {percentile(values, 90):6.2f} ms   "
                    f"p99 {percentile(values, 99):6.2f} ms   max {max(values):6.2f} ms   (n={len(values)})"
                )
            print(
                f"server CPU per read (gunicorn, user + system): {server_cpu / measured * 1000:.1f} ms "
                "(what the latency would approach on an idle machine)"
            )
        return 0 if failures == 0 and measured else 1
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=10)
        if spy is not None:
            spy.disconnect()
            spy.loop_stop()
        if simulator is not None:
            os.killpg(simulator.pid, signal.SIGTERM)
            simulator.wait(timeout=10)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # best effort on the way out
            pass
        if args.postgres:
            import psycopg

            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
