"""Benchmark the capacity engine: confirmed bookings per second and latency, on PostgreSQL.

    .venv/bin/python bench/capacity.py [--clients 8] [--bookings 2000] [--skip-http]

Four runs, each with N concurrent clients:
  service / one lot   every client books on the same lot (all contend for the lot lock)
  service / many lots each client books on its own lot (no contention)
  http / one lot      the same through the back office over HTTP (gunicorn, 4 workers)
  http / many lots

It creates (and drops first) its own database `parkgate_bench_capacity` on the local PostgreSQL,
never touching another one. Bookings are spread over 60 days x 12 hours so that each check reads a
realistic number of overlapping reservations. Bounded in count and time; loopback only.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = "parkgate_bench_capacity"
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
BENCH_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"
TIME_LIMIT_SECONDS = 120


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def setup_django() -> None:
    os.environ["DATABASE_URL"] = BENCH_URL
    import config.testenv  # noqa: F401  (test-style settings: no HTTPS redirect, a throwaway key)

    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


def seed(lots: int) -> dict[str, object]:
    from allauth.account.models import EmailAddress

    from parkgate.accounts.models import Membership, Organisation, Role, User
    from parkgate.parking.models import AccessPolicy, Allocation, Lot, Parker, PolicyKind, TimetableWindow

    owner = Organisation.objects.create(name="Bench Owner", slug="bench-owner")
    tenant = Organisation.objects.create(name="Bench Tenant", slug="bench-tenant")
    user = User.objects.create_user(
        username="bench", email="bench@example.com", password="bench-password-123"
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    Membership.objects.create(user=user, organisation=tenant, role=Role.ADMIN)
    policies = []
    for index in range(lots):
        lot = Lot.objects.create(
            owner=owner,
            name=f"Bench lot {index}",
            address="Bench street 1",
            timezone="Europe/Brussels",
            total_spots=1_000_000,
        )
        Allocation.objects.create(lot=lot, organisation=tenant, spots=1_000_000, accepts_visitors=True)
        policy = AccessPolicy.objects.create(
            organisation=tenant,
            lot=lot,
            name=f"Bench policy {index}",
            kind=PolicyKind.VISITOR,
            spot_cap=1_000_000,
            hourly_booking=True,
        )
        TimetableWindow.objects.bulk_create(
            TimetableWindow(policy=policy, weekday=d, start_minute=0, end_minute=1440) for d in range(7)
        )
        policies.append(policy)
    parker = Parker.objects.create(
        managed_by=tenant,
        first_name="Bench",
        last_name="Parker",
        email="parker@example.com",
        search_text="bench parker",
    )
    return {"policies": policies, "parker": parker, "user": user}


def slot(index: int, zone_name: str = "Europe/Brussels") -> tuple[datetime, datetime]:
    import zoneinfo

    zone = zoneinfo.ZoneInfo(zone_name)
    day = datetime(2031, 1, 6, tzinfo=zone) + timedelta(days=index % 60)
    start = day + timedelta(hours=7 + (index // 60) % 12)
    return start, start + timedelta(hours=1)


def _summary(latencies: list[float], failures: int, wall: float) -> dict[str, float]:
    latencies.sort()
    return {
        "confirmed": len(latencies),
        "failed": failures,
        "seconds": wall,
        "per_second": len(latencies) / wall if wall else 0.0,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
        "p95_ms": latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000 if latencies else 0.0,
    }


def _client_loop(
    number: int, per_client: int, book: Callable[[int, int], bool], start_at: float
) -> tuple[list[float], int]:
    latencies: list[float] = []
    failures = 0
    deadline = start_at + TIME_LIMIT_SECONDS
    while time.time() < start_at:
        time.sleep(0.001)  # line the clients up on a common start instant
    for i in range(per_client):
        if time.time() > deadline:
            break
        began = time.perf_counter()
        ok = book(number, number * per_client + i)
        elapsed = time.perf_counter() - began
        if ok:
            latencies.append(elapsed)
        else:
            failures += 1
    return latencies, failures


def run_processes(
    clients: int, bookings: int, make_book: Callable[[], Callable[[int, int], bool]]
) -> dict[str, float]:
    """Each client is a forked process with its own database connection (one Python process
    cannot use both cores, the server side can)."""
    import multiprocessing

    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    per_client = bookings // clients
    start_at = time.time() + 1.0

    def child(number: int) -> None:
        book = make_book()
        queue.put(_client_loop(number, per_client, book, start_at))
        connections.close_all()

    processes = [context.Process(target=child, args=(n,)) for n in range(clients)]
    for process in processes:
        process.start()
    results = [queue.get(timeout=TIME_LIMIT_SECONDS + 30) for _ in processes]
    wall = time.time() - start_at
    for process in processes:
        process.join(timeout=10)
    latencies = [value for chunk, _failed in results for value in chunk]
    return _summary(latencies, sum(failed for _chunk, failed in results), wall)


def run_threads(clients: int, bookings: int, book: Callable[[int, int], bool]) -> dict[str, float]:
    """HTTP clients: threads are enough, the work happens in the server's processes."""
    per_client = bookings // clients
    start_at = time.time() + 0.5
    results: list[tuple[list[float], int]] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        outcome = _client_loop(number, per_client, book, start_at)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.time() - start_at
    latencies = [value for chunk, _failed in results for value in chunk]
    return _summary(latencies, sum(failed for _chunk, failed in results), wall)


def service_booker(policies: list[object], parker: object, many_lots: bool) -> Callable[[int, int], bool]:
    from django.db import connection

    from parkgate.access.capacity import ReservationRequest, reservations_create
    from parkgate.access.models import ReservationSource

    def book(client: int, index: int) -> bool:
        policy = policies[client] if many_lots else policies[0]
        start, end = slot(index)
        try:
            reservations_create(
                requests=[ReservationRequest(parker=parker, policy=policy, start=start, end=end)],  # type: ignore[arg-type]
                source=ReservationSource.BACK_OFFICE,
            )
            return True
        except Exception as error:
            print("  booking failed:", type(error).__name__, error, file=sys.stderr)
            connection.close()
            return False

    return book


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": BENCH_URL,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # gunicorn refuses the test server's public Stripe values with DEBUG off; free portals only here.
        "STRIPE_SECRET_KEY": "sk_test_bench_not_used",
        "STRIPE_WEBHOOK_SECRET": "whsec_bench_not_used",
    }
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi",
            "-w",
            "4",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    import requests

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except requests.ConnectionError:
            pass
        if process.poll() is not None:
            raise SystemExit("gunicorn exited before answering")
        time.sleep(0.1)  # polling a starting server; not a test
    process.kill()
    raise SystemExit("gunicorn did not answer within 30 s")


def http_booker(
    base: str, policies: list[object], parker: object, clients: int, many_lots: bool
) -> Callable[[int, int], bool]:
    import requests

    sessions = []
    for _ in range(clients):
        session = requests.Session()
        page = session.get(f"{base}/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, "no CSRF token on the login page"
        response = session.post(
            f"{base}/accounts/login/",
            data={
                "login": "bench@example.com",
                "password": "bench-password-123",
                "csrfmiddlewaretoken": token.group(1),
            },
            allow_redirects=False,
        )
        assert response.status_code == 302, f"login failed: {response.status_code}"
        sessions.append(session)

    def book(client: int, index: int) -> bool:
        import zoneinfo

        session = sessions[client]
        policy = policies[client] if many_lots else policies[0]
        start, end = slot(index)
        local = start.astimezone(zoneinfo.ZoneInfo("Europe/Brussels"))
        response = session.post(
            f"{base}/office/reservations/new/",
            data={
                "parker": parker.pk,  # type: ignore[attr-defined]
                "policy": policy.pk,  # type: ignore[attr-defined]
                "date": local.date().isoformat(),
                "start": local.strftime("%H:%M"),
                "end": end.astimezone(local.tzinfo).strftime("%H:%M"),
            },
            headers={"X-CSRFToken": session.cookies.get("csrftoken", ""), "Referer": base + "/"},
            allow_redirects=False,
        )
        return response.status_code == 302

    return book


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--bookings", type=int, default=2000)
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()

    recreate_database()
    setup_django()
    data = seed(lots=args.clients)
    policies, parker = data["policies"], data["parker"]
    rows = []
    for label, many in (("service / one lot", False), ("service / many lots", True)):
        rows.append(
            (
                label,
                run_processes(
                    args.clients,
                    args.bookings,
                    lambda many=many: service_booker(policies, parker, many),  # type: ignore[arg-type,misc]
                ),
            )
        )
    if not args.skip_http:
        from django.db import connections

        connections.close_all()
        port = free_port()
        server = start_server(port)
        try:
            base = f"http://127.0.0.1:{port}"
            for label, many in (("http / one lot", False), ("http / many lots", True)):
                book = http_booker(base, policies, parker, args.clients, many)  # type: ignore[arg-type]
                rows.append((label, run_threads(args.clients, args.bookings // 2, book)))
        finally:
            server.terminate()
            server.wait(timeout=10)

    print(f"\nCapacity engine on PostgreSQL, {args.clients} concurrent clients, {os.cpu_count()} CPU cores")
    print(f"{'run':<22}{'confirmed':>10}{'failed':>8}{'per s':>10}{'p50 ms':>10}{'p95 ms':>10}")
    for label, result in rows:
        print(
            f"{label:<22}{result['confirmed']:>10.0f}{result['failed']:>8.0f}{result['per_second']:>10.1f}"
            f"{result['p50_ms']:>10.2f}{result['p95_ms']:>10.2f}"
        )


if __name__ == "__main__":
    main()
