#!/usr/bin/env python3
"""Site agent: snapshot size and build time, and camera read at the site -> relay command.

1. Snapshot: a lot with ``--reservations`` (10,000) reservations in the next 48 hours and
   ``--parkers`` (5,000) parkers with a plate each (half of them members of a member policy), on a
   temporary PostgreSQL database (SQLite when PostgreSQL does not answer). Builds the signed
   snapshot ``--builds`` times and prints the median build time (facts from the database + Ed25519
   signature) and the size of the envelope (raw and gzipped).
2. Latency: the agent (``parkgate-site run --no-sync``, a subprocess without the server) holds that
   snapshot; a Mosquitto of its own on a free loopback port; a Shelly simulator in another process;
   a subscriber timestamps each ``<namespace>/rpc``. ``--count`` generic plate reads (each a
   different member car, so none is a repeat) are POSTed at ``--rate`` per second, open loop.
   Measured: POST -> Switch.Set on the site broker (the goal: p99 <= 5 ms), and POST -> answer
   (after the relay's acknowledgement and the local record).

Loopback only; bounded (``--max-seconds``); everything it starts, it stops.

    .venv/bin/python bench/site_latency.py
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import pwd
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gate_latency import free_port, listening, machine, percentile  # noqa: E402


def critical_path(  # type: ignore[no-untyped-def]
    args: argparse.Namespace, workdir: Path, state: Path, mqtt_url: str, plates: list[str], agent_process
) -> None:
    """The CPU a read costs until its command is handed to MQTT, in this thread: the agent's own
    code on the critical path (parse, match, decide, record, command), whatever the machine's load."""
    from parkgate.access.anpr import parse_read
    from parkgate.sites.agent import Agent, Clock

    agent_process.terminate()  # the same MQTT client id: one agent at a time
    agent_process.wait(10)
    copy = workdir / "state-in-process"
    copy.mkdir()
    for name in ("agent.json", "snapshot.json"):
        shutil.copy(state / name, copy / name)
    agent = Agent(state=copy, mqtt_url=mqtt_url, clock=Clock())
    assert agent.link is not None and agent.facts is not None
    agent.link.start()
    camera = agent.facts.cameras["bench-cam"]
    marks: dict[str, float] = {}
    publish = agent.link.publish

    def marked(topic: str, payload: bytes | str, **kwargs) -> None:  # type: ignore[no-untyped-def]
        marks["cpu"], marks["wall"] = time.thread_time(), time.perf_counter()
        publish(topic, payload, **kwargs)

    agent.link.publish = marked  # type: ignore[method-assign]
    cpu_us, wall_us = [], []
    for plate in plates:
        body = json.dumps({"plate": plate, "confidence": 0.95}).encode()
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        read = parse_read(camera.format, content_type="application/json", body=body, parts=None)
        outcome = agent.handle_read(camera, read)
        assert outcome.body["result"] == "opened", outcome.body
        cpu_us.append((marks["cpu"] - cpu0) * 1e6)
        wall_us.append((marks["wall"] - wall0) * 1e6)
    agent.stop()
    agent.store.close()
    print(
        f"critical path in the agent's code (parse, match, decide, record in SQLite, command to MQTT), "
        f"{len(cpu_us)} reads one after the other: CPU p50 {percentile(cpu_us, 50):.0f} us, "
        f"p99 {percentile(cpu_us, 99):.0f} us (load-independent); wall p50 {percentile(wall_us, 50):.0f} us, "
        f"p99 {percentile(wall_us, 99):.0f} us"
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def build_lot(args: argparse.Namespace, now: datetime):  # type: ignore[no-untyped-def]
    from parkgate.access.models import Camera, Reservation
    from parkgate.accounts.models import Organisation
    from parkgate.parking.models import AccessPolicy, Gate, Lot, Parker, Plate, PolicyKind, TimetableWindow

    owner = Organisation.objects.create(name="Bench owner", slug="bench-owner", email="o@bench.example")
    lot = Lot.objects.create(owner=owner, name="Bench lot", address="Loopback 1", total_spots=20000)
    gate = Gate.objects.create(
        lot=lot,
        name="Entry",
        direction="both",
        driver_kind="shelly-gen2-mqtt",
        driver_settings={"pulse_seconds": 1},
    )  # its MQTT namespace is the one Parkgate assigns (pg/g<24 hex>)
    key = secrets.token_urlsafe(32)
    Camera.objects.create(
        gate=gate, name="Bench camera", public_id="bench-cam", secret_key=key, format="generic"
    )
    members = AccessPolicy.objects.create(
        organisation=owner, lot=lot, name="Staff", kind=PolicyKind.MEMBER, spot_cap=20000
    )
    visitors = AccessPolicy.objects.create(
        organisation=owner, lot=lot, name="Visitors", kind=PolicyKind.VISITOR, spot_cap=20000
    )
    for policy in (members, visitors):
        TimetableWindow.objects.bulk_create(
            TimetableWindow(policy=policy, weekday=d, start_minute=0, end_minute=1440) for d in range(7)
        )
    parkers = Parker.objects.bulk_create(
        Parker(managed_by=owner, organisation=owner, first_name="Car", last_name=str(i))
        for i in range(args.parkers)
    )
    plates = [f"BN{i:06d}" for i in range(args.parkers)]
    Plate.objects.bulk_create(Plate(parker=p, text=t, key=t) for p, t in zip(parkers, plates, strict=True))
    half = args.parkers // 2
    members.members.add(*parkers[:half])
    step = timedelta(hours=48) / args.reservations
    Reservation.objects.bulk_create(
        Reservation(
            parker=parkers[half + i % (args.parkers - half)],
            lot=lot,
            policy=visitors,
            organisation=owner,
            start=now + step * i,
            end=now + step * i + timedelta(hours=3),
            status="confirmed",
            source="back_office",
            plate_text=f"VS{i:06d}",
            plate_key=f"VS{i:06d}",
            remote_control_token=secrets.token_urlsafe(24),
            cancel_token=secrets.token_urlsafe(24),
            keypad_code=f"{i:06d}",
        )
        for i in range(args.reservations)
    )
    return lot, gate, key, plates[:half]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reservations", type=int, default=10_000)
    parser.add_argument("--parkers", type=int, default=5_000)
    parser.add_argument("--builds", type=int, default=5)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--rate", type=float, default=100.0, help="reads per second")
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness of the site's processes (agent, Mosquitto, relay); the systemd unit gives the "
        "agent -10 so that nothing else on the box delays a gate (negative values need root)",
    )
    args = parser.parse_args()

    def site_priority() -> None:
        if args.nice:
            os.nice(args.nice)

    if args.count + args.warmup > args.parkers // 2:
        parser.error("--count + --warmup must not exceed the members (--parkers / 2)")

    from parkgate.sites.signing import new_private_key_text

    workdir = Path(tempfile.mkdtemp(prefix="parkgate-site-bench-"))
    postgres = listening(5432)
    pg_name = f"parkgate_bench_{secrets.token_hex(4)}"
    os.environ.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": "http://127.0.0.1",
            "STATIC_MANIFEST": "false",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{pg_name}"
            if postgres
            else f"sqlite:///{workdir / 'bench.sqlite3'}",
            "CACHE_BACKEND": "database",
            "LOG_LEVEL": "WARNING",
            "SITE_SIGNING_KEY": new_private_key_text(),
            # With DEBUG off Django's checks refuse to start without Stripe keys (the gate simulator
            # runs through manage.py); placeholders, as in bench/booking_http.py: Stripe is never called.
            "STRIPE_SECRET_KEY": "sk_test_bench_not_used",
            "STRIPE_WEBHOOK_SECRET": "whsec_bench_not_used",
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    processes: list[subprocess.Popen[bytes]] = []
    spy = None
    try:
        if postgres:
            import psycopg

            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{pg_name}"')
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        call_command("createcachetable", verbosity=0)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from parkgate.access.broker import (
            BrokerAccount,
            acl_file_text,
            device_credentials_rotate,
            mosquitto_hash,
            password_file_text,
        )
        from parkgate.sites.services import site_agent_create
        from parkgate.sites.snapshot import server_public_key, snapshot_facts, snapshot_if_newer

        now = datetime.now(UTC).replace(microsecond=0)
        started = time.perf_counter()
        lot, gate_row, key, member_plates = build_lot(args, now)
        prefix = gate_row.mqtt_namespace
        print(
            f"lot built in {time.perf_counter() - started:.1f} s "
            f"({args.reservations} reservations, {args.parkers} parkers)"
        )
        agent, _code = site_agent_create(lot=lot, name="Bench box", actor=None)
        times, facts_times = [], []
        envelope = None
        for n in range(args.builds):
            t0 = time.perf_counter()
            facts = snapshot_facts(agent, now=now)
            facts_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            envelope = snapshot_if_newer(agent, have_version=-1, now=now + timedelta(seconds=n))
            times.append(time.perf_counter() - t0)
        assert envelope is not None and len(facts["reservations"]) == args.reservations
        # Change detection while nothing changes: what each check of a waiting agent costs.
        agent.refresh_from_db()
        checks = 200
        with CaptureQueriesContext(connection) as idle:
            t0, cpu0 = time.perf_counter(), time.process_time()
            for _n in range(checks):
                assert (
                    snapshot_if_newer(
                        agent, have_version=agent.snapshot_version, now=now + timedelta(seconds=10)
                    )
                    is None
                )
            idle_ms = (time.perf_counter() - t0) * 1000 / checks
            idle_cpu_ms = (time.process_time() - cpu0) * 1000 / checks
        print(
            f"sync check while nothing changes: {len(idle.captured_queries) / checks:g} query, "
            f"{idle_ms:.2f} ms ({idle_cpu_ms:.2f} ms CPU) per check; a change rebuilds the facts "
            f"({statistics.median(facts_times) * 1000:.0f} ms)"
        )
        raw = json.dumps(envelope).encode()
        print(
            f"snapshot: {len(raw) / 1e6:.2f} MB raw, {len(gzip.compress(raw)) / 1e6:.2f} MB gzipped; "
            f"build (facts + hash + sign) median {statistics.median(times) * 1000:.0f} ms "
            f"(facts alone {statistics.median(facts_times) * 1000:.0f} ms), {args.builds} builds"
        )
        # The decision alone, in this process: parse the read, match, decide (no HTTP, no relay).
        from parkgate.access.anpr import parse_read
        from parkgate.access.matching import plate_decision
        from parkgate.parking.plates import usable_keys
        from parkgate.sites.facts import SiteFacts
        from parkgate.sites.signing import verify

        t0 = time.perf_counter()
        site_facts = SiteFacts(json.loads(verify(envelope, server_public_key())))
        load_ms = (time.perf_counter() - t0) * 1000
        gate = next(iter(site_facts.gates.values()))
        decide_us = []
        cpu0 = time.process_time()
        for plate in member_plates[: args.count]:
            t0 = time.perf_counter()
            read = parse_read(
                "generic",
                content_type="application/json",
                body=json.dumps({"plate": plate, "confidence": 0.95}).encode(),
                parts=None,
            )
            keys = usable_keys(read.candidates, min_confidence=0.7)
            decision, _match, _how = plate_decision(
                keys,
                lookup=lambda k: site_facts.plate_matches(k, at=now),
                decide_for=lambda a: site_facts.decide(gate, a, at=now, travel=None),
            )
            decide_us.append((time.perf_counter() - t0) * 1e6)
            assert decision.granted
        decide_cpu_us = (time.process_time() - cpu0) * 1e6 / len(decide_us)
        print(
            f"agent: verify + index the snapshot {load_ms:.0f} ms; parse + match + decide per read "
            f"p50 {percentile(decide_us, 50):.0f} us, p99 {percentile(decide_us, 99):.0f} us, "
            f"CPU {decide_cpu_us:.0f} us per read (load-independent)"
        )
        state = workdir / "state"
        state.mkdir()
        (state / "agent.json").write_text(
            json.dumps(
                {
                    "server": "http://127.0.0.1:9",
                    "agent_id": agent.pk,
                    "lot_id": lot.pk,
                    "token": "unused",
                    "server_public_key": server_public_key(),
                }
            )
        )
        (state / "snapshot.json").write_bytes(raw)
        from django.db import connections

        connections.close_all()

        # The site as deployed (deploy/site-agent/mosquitto-site.conf): its own Mosquitto with an
        # account and ACL per device, the relay signed in as its gate's account under its namespace,
        # the agent as parkgate-site (every namespace); a Shelly simulator in another process, the
        # agent, a subscriber that timestamps the commands.
        relay_password = device_credentials_rotate(device=gate_row, actor=None)
        gate_row.refresh_from_db()
        agent_password = secrets.token_urlsafe(24)
        accounts = [
            BrokerAccount("parkgate-site", mosquitto_hash(agent_password), None),
            BrokerAccount(gate_row.mqtt_username, gate_row.mqtt_password_hash, gate_row.mqtt_namespace),
        ]
        (workdir / "passwords").write_text(password_file_text(accounts))
        (workdir / "acl").write_text(acl_file_text(accounts))
        mqtt_port = free_port()
        (workdir / "mosquitto.conf").write_text(
            # Started as root, Mosquitto would become the "mosquitto" user, who cannot read workdir.
            f"user {pwd.getpwuid(os.getuid()).pw_name}\n"
            "per_listener_settings false\nallow_anonymous false\nset_tcp_nodelay true\n"
            f"password_file {workdir / 'passwords'}\nacl_file {workdir / 'acl'}\n"
            f"listener {mqtt_port} 127.0.0.1\n"
        )
        mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        processes.append(
            subprocess.Popen(
                [mosquitto, "-c", str(workdir / "mosquitto.conf")],
                stdout=subprocess.DEVNULL,
                stderr=open(workdir / "mosquitto.log", "wb"),  # noqa: SIM115
                preexec_fn=site_priority,
            )
        )
        deadline = time.monotonic() + 10
        while not listening(mqtt_port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not start: {(workdir / 'mosquitto.log').read_text()}")
            time.sleep(0.05)
        mqtt_url = f"mqtt://parkgate-site:{agent_password}@127.0.0.1:{mqtt_port}"
        relay_url = f"mqtt://{gate_row.mqtt_username}:{relay_password}@127.0.0.1:{mqtt_port}"
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "gate_simulator",
                    "--device-id",
                    "bench-relay",
                    "--prefix",
                    prefix,
                    "--url",
                    relay_url,
                ],
                cwd=ROOT,
                env={**os.environ},
                stdout=subprocess.DEVNULL,
                preexec_fn=site_priority,
            )
        )
        agent_port = free_port()
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    # AGENT_PROFILE=<file>: the agent under cProfile (CPU time, every thread).
                    *(
                        [str(ROOT / "bench" / "support" / "site_agent_profiled.py")]
                        if os.environ.get("AGENT_PROFILE")
                        else ["-m", "parkgate.sites.agent"]
                    ),
                    "--state",
                    str(state),
                    "--log-level",
                    "WARNING",
                    "run",
                    "--no-sync",
                    "--listen",
                    f"127.0.0.1:{agent_port}",
                    "--mqtt",
                    mqtt_url,
                ],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                preexec_fn=site_priority,
            )
        )
        agent_process = processes[-1]
        import paho.mqtt.client as mqtt

        seen: dict[str, float] = {}
        ready = threading.Event()
        spy = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="site-bench-spy", protocol=mqtt.MQTTv5)
        spy.username_pw_set("parkgate-site", agent_password)
        spy.on_connect = lambda c, *a: c.subscribe([(f"{prefix}/rpc", 0), (f"{prefix}/online", 0)])
        spy.on_subscribe = lambda *a: ready.set()

        def on_message(client, userdata, message) -> None:  # type: ignore[no-untyped-def]
            at = time.perf_counter()
            if message.topic.endswith("/rpc"):
                seen[json.loads(message.payload)["id"]] = at

        spy.on_message = on_message
        spy.connect("127.0.0.1", mqtt_port)
        spy.loop_start()
        if not ready.wait(10):
            raise RuntimeError("subscriber could not subscribe")
        deadline = time.monotonic() + 20
        while not listening(agent_port):
            if time.monotonic() > deadline:
                raise RuntimeError("the agent did not start")
            time.sleep(0.05)

        def post(plate: str) -> tuple[float, float, dict]:  # type: ignore[type-arg]
            conn = http.client.HTTPConnection("127.0.0.1", agent_port, timeout=10)
            body = json.dumps({"plate": plate, "confidence": 0.95})
            t0 = time.perf_counter()
            conn.request(
                "POST",
                "/access/anpr/bench-cam/",
                body,
                {"Content-Type": "application/json", "X-Parkgate-Key": key},
            )
            answer = json.loads(conn.getresponse().read())
            t1 = time.perf_counter()
            conn.close()
            return t0, t1, answer

        results: list[tuple[str, float, float, dict]] = []  # type: ignore[type-arg]
        lock = threading.Lock()

        def one(plate: str) -> None:
            try:
                t0, t1, answer = post(plate)
            except OSError as error:
                t0 = t1 = time.perf_counter()
                answer = {"error": str(error)}
            with lock:
                results.append((plate, t0, t1, answer))

        plates = member_plates[: args.warmup + args.count]
        for plate in plates[: args.warmup]:
            one(plate)
        if not results[-1][3].get("granted"):
            raise RuntimeError(f"the agent refused a member: {results[-1][3]}")
        results.clear()
        if args.nice:
            os.nice(args.nice)  # the camera and the observer too, as on a box where they are devices
        load_before = os.getloadavg()
        agent_cpu_before = cpu_seconds(agent_process.pid)
        threads = []
        begin = time.perf_counter()
        for i, plate in enumerate(plates[args.warmup :]):
            due = begin + i / args.rate
            if time.perf_counter() - begin > args.max_seconds:
                break
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            thread = threading.Thread(target=one, args=(plate,))
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join(15)
        time.sleep(0.5)  # the last commands reach the subscriber
        agent_cpu_ms = (cpu_seconds(agent_process.pid) - agent_cpu_before) * 1000
        to_broker, to_answer, refused = [], [], 0
        for _plate, t0, t1, answer in results:
            if not answer.get("granted") or answer.get("result") != "opened":
                refused += 1
                continue
            to_answer.append((t1 - t0) * 1000)
        to_broker = [
            (seen[answer["command_id"]] - t0) * 1000
            for _plate, t0, _t1, answer in results
            if answer.get("command_id") in seen
        ]
        missing = sum(
            1 for *_r, answer in results if answer.get("granted") and answer.get("command_id") not in seen
        )
        if missing:
            print(f"warning: {missing} granted reads whose command the subscriber did not see")
        not_opened = [a for *_r, a in results if not a.get("granted") or a.get("result") != "opened"]
        if not_opened:
            print(f"first read not opened: {not_opened[0]}")
        if not to_answer:
            raise RuntimeError(f"no read opened ({len(results)} answers)")
        print(machine())
        print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
        print(f"site processes (agent, Mosquitto, relay) at niceness {args.nice:+d}")
        print(
            f"{len(results)} reads at {args.rate:g}/s, {refused} not opened; "
            f"read -> Switch.Set on the site broker: p50 {percentile(to_broker, 50):.2f} ms, "
            f"p99 {percentile(to_broker, 99):.2f} ms, max {max(to_broker):.2f} ms; "
            f"read -> answer (relay ack, recorded): p50 {percentile(to_answer, 50):.2f} ms, "
            f"p99 {percentile(to_answer, 99):.2f} ms"
        )
        print(
            f"agent process CPU per read (HTTP, decide, record, command, relay answer): "
            f"{agent_cpu_ms / len(results):.2f} ms (load-independent)"
        )
        critical_path(args, workdir, state, mqtt_url, member_plates[: args.count], agent_process)
        return 0
    finally:
        if spy is not None:
            spy.loop_stop()
            spy.disconnect()
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        if postgres:
            from django.db import connections

            connections.close_all()
            import psycopg

            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}"')
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
