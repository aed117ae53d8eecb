"""Benchmark the public booking form over HTTP as deployed: confirmed bookings per second on one lot.

    .venv/bin/python bench/booking_http.py [--clients 16] [--bookings 1600] [--existing 10000]
                                           [--workers 4] [--threads 1] [--race 100] [--with-worker]

gunicorn (4 sync workers, as deploy/systemd/parkgate-web@.service runs the pages; --threads N
for the gthread worker) with production settings (DEBUG off, Redis cache, task backend `database`,
CSRF and rate limits on) on its own PostgreSQL database `parkgate_bench_booking` and Redis database 11.
Setup goes through the services: a lot, a free visitor portal with one slot, one open invitation per
booking. The form is fetched once (CSRF cookie and token), then the clients (plain http.client
connections with keep-alive, spread over --client-processes processes so that the clients' Python
does not take a core of its own) post the "Proceed" step: one visitor, one spot, a unique name,
plate and e-mail, from its own client address (X-Forwarded-For, with TRUSTED_PROXIES set to the
loopback), so no rate limit is hit.

Prints bookings/s, p50/p95/p99, server CPU milliseconds per booking (gunicorn's processes, from
/proc), the workers' memory at the end, the oldest pending confirmation e-mail when --with-worker
runs the task worker alongside, and a last-spot race (--race N places, 3N requests) checked in the
database. --existing adds that many confirmed reservations on the benchmark day first.
Bounded in count and time; loopback only.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.capacity import free_port  # noqa: E402

BENCH_DB = "parkgate_bench_booking"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"
REDIS_URL = "redis://127.0.0.1:6379/11"
# Inside the invitations' booking window (a year ahead at most), in winter time: no clock change near.
DAY = date.today() + timedelta(days=10)
TIME_LIMIT_SECONDS = 180
SERVER_ENV = {
    "DEBUG": "false",
    "DATABASE_URL": BENCH_URL,
    "SECRET_KEY": secrets.token_urlsafe(48),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SITE_URL": "http://127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "STATIC_MANIFEST": "false",
    "CACHE_BACKEND": "redis",
    "REDIS_URL": REDIS_URL,
    "TASK_BACKEND": "database",
    "TRUSTED_PROXIES": "127.0.0.1",
    "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "config.settings",
    # With DEBUG off the web process refuses to start without Stripe keys (parkgate/payments/checks.py);
    # placeholders, as in bench/capacity.py: the benchmark's portals are free, Stripe is never called.
    "STRIPE_SECRET_KEY": "sk_test_bench_not_used",
    "STRIPE_WEBHOOK_SECRET": "whsec_bench_not_used",
}


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def setup_django() -> None:
    os.environ.update(SERVER_ENV)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


def seed(*, invitations: int, race_places: int, existing: int) -> dict[str, object]:
    """A lot with room for everything, and a second lot with exactly ``race_places`` spots."""
    from parkgate.access.models import ReservationSource
    from parkgate.accounts.models import Organisation
    from parkgate.parking.models import AccessPolicy, Allocation, Lot, Parker, PolicyKind, TimetableWindow
    from parkgate.portal.models import Invitation, PortalSlot, VisitorPortal

    owner = Organisation.objects.create(name="Bench Owner", slug="bench-owner", email="owner@bench.example")
    tenant = Organisation.objects.create(
        name="Bench Tenant", slug="bench-tenant", email="hello@bench.example"
    )
    made: dict[str, object] = {}
    for key, spots in (("main", 1_000_000), ("race", race_places)):
        lot = Lot.objects.create(
            owner=owner,
            name=f"Bench {key}",
            address="Bench street 1",
            timezone="Europe/Brussels",
            total_spots=spots,
        )
        Allocation.objects.create(lot=lot, organisation=tenant, spots=spots, accepts_visitors=True)
        policy = AccessPolicy.objects.create(
            organisation=tenant, lot=lot, name=f"Visitors {key}", kind=PolicyKind.VISITOR, spot_cap=spots
        )
        TimetableWindow.objects.bulk_create(
            TimetableWindow(policy=policy, weekday=d, start_minute=0, end_minute=1440) for d in range(7)
        )
        portal = VisitorPortal.objects.create(
            organisation=tenant,
            lot=lot,
            name=f"Bench {key}",
            slug=f"bench-{key}",
            languages=["en", "fr", "nl"],
            default_language="en",
            max_spots_per_booking=1,
            allow_slots=True,
            allow_custom_time=False,
        )
        portal.policies.set([policy])
        slot = PortalSlot.objects.create(portal=portal, start_minute=9 * 60, duration_minutes=8 * 60)
        count = invitations if key == "main" else 3 * race_places
        tokens = [secrets.token_urlsafe(24) for _ in range(count)]
        Invitation.objects.bulk_create(Invitation(portal=portal, token=t, language="en") for t in tokens)
        made[key] = {"portal": portal, "slot": slot, "tokens": tokens, "policy": policy}
    if existing:
        import zoneinfo
        from datetime import datetime

        begin = datetime(DAY.year, DAY.month, DAY.day, 9, tzinfo=zoneinfo.ZoneInfo("Europe/Brussels"))
        policy = made["main"]["policy"]  # type: ignore[index]
        parkers = Parker.objects.bulk_create(
            Parker(
                managed_by=tenant, first_name="Old", last_name=f"Visitor {i}", email=f"old{i}@bench.example"
            )
            for i in range(existing)
        )
        # The day's history written directly (one bulk insert): through reservations_create it
        # would re-check the lot 10,000 times, which is what the benchmark measures, not its setup.
        from parkgate.access.models import Reservation, ReservationStatus
        from parkgate.parking.plates import plate_key

        lot_id = policy.lot_id  # type: ignore[attr-defined]
        codes = secrets.SystemRandom().sample(range(1_000_000), existing)
        Reservation.objects.bulk_create(
            (
                Reservation(
                    parker=p,
                    lot_id=lot_id,
                    policy=policy,
                    organisation_id=tenant.pk,
                    start=begin,
                    end=begin + timedelta(hours=8),
                    status=ReservationStatus.CONFIRMED,
                    source=ReservationSource.BACK_OFFICE,
                    group_id=uuid.uuid4(),
                    plate_text=f"O{i:06d}",
                    plate_key=plate_key(f"O{i:06d}"),
                    remote_control_token=secrets.token_urlsafe(24),
                    cancel_token=secrets.token_urlsafe(24),
                    keypad_code=f"{codes[i]:06d}",
                )
                for i, p in enumerate(parkers)
            ),
            batch_size=1000,
        )
    return made


def start_server(port: int, workers: int, threads: int) -> subprocess.Popen[bytes]:
    import requests

    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi",
            "-w",
            str(workers),
            "--threads",
            str(threads),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, **SERVER_ENV},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code in (200, 503):
                return process
        except requests.RequestException:  # not listening yet, or slow to answer on a busy machine
            pass
        if process.poll() is not None:
            raise SystemExit("gunicorn exited before answering")
        time.sleep(0.1)  # polling a starting server; not a test
    process.kill()
    raise SystemExit("gunicorn did not answer within 30 s")


def process_tree(pid: int) -> list[int]:
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [pid, *(int(c) for c in children)]


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def rss_megabytes(pids: list[int]) -> list[float]:
    sizes = []
    for pid in pids[1:]:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


def details_form(base: str, portal_slug: str, token: str, slot_pk: int):  # type: ignore[no-untyped-def]
    """The visitor's second step ("Who is coming?") as a browser gets it: CSRF cookie, hidden fields."""
    import requests

    session = requests.Session()
    page = session.get(
        f"{base}/visit/{portal_slug}/{token}/",
        params={"step": "details", "date": DAY.isoformat(), "time": str(slot_pk), "spots": "1"},
    )
    form = re.search(r'<form method="post"[^>]*>(.*?)</form>', page.text, re.S)
    if page.status_code != 200 or not form:
        raise SystemExit(f"the visitor details form did not load ({page.status_code})")
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1)))
    names = set(re.findall(r'name="([^"]+)"', form.group(1)))
    expected = {
        "csrfmiddlewaretoken",
        "date",
        "time",
        "v0-first_name",
        "v0-last_name",
        "v0-plate",
        "v0-email",
    }
    if not expected <= names or "csrfmiddlewaretoken" not in hidden:
        raise SystemExit(f"the details form changed: fields {sorted(names)}")
    return session, hidden


def _client_process(
    port: int,
    path_prefix: str,
    jobs: list[tuple[int, str]],
    cookie_header: str,
    hidden: dict[str, str],
    tag: str,
    threads: int,
    deadline: float,
    ready: Any,
    results: Any,
) -> None:
    """One client process: ``threads`` connections, each posting Proceed in a closed loop.

    Plain http.client with keep-alive (reconnecting when the server closes, as gunicorn's sync
    worker does after every answer): the client's own CPU stays small next to the server's on the
    same cores. Each POST is a new visitor: the CSRF cookie and token of the form loaded once, no
    session cookie, its own invitation, name, plate, e-mail and client address.
    """
    import http.client
    from urllib.parse import urlencode

    pending = iter(jobs)
    lock = threading.Lock()
    outcomes: list[tuple[int, float]] = []

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.time() < deadline:
            with lock:
                job = next(pending, None)
            if job is None:
                break
            index, token = job
            body = urlencode(
                {
                    **hidden,  # csrfmiddlewaretoken, date, time, spots as the form carries them
                    "v0-first_name": "Bench",
                    "v0-last_name": f"{tag} {index}",
                    "v0-plate": f"B{index:06d}",
                    "v0-email": f"{tag.lower()}{index}@bench.example",
                }
            )
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": cookie_header,
                "X-Forwarded-For": f"10.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}",
                "Referer": f"http://127.0.0.1:{port}/",
            }
            began = time.perf_counter()
            try:
                connection.request("POST", f"{path_prefix}{token}/", body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
                closing = response.will_close
            except (OSError, http.client.HTTPException):
                status, closing = 0, True
            elapsed = time.perf_counter() - began
            if closing:
                connection.close()  # the next request opens a new one
            with lock:
                outcomes.append((status, elapsed))
        connection.close()

    workers = [threading.Thread(target=client) for _ in range(threads)]
    ready.wait()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put(outcomes)


def drive(
    base: str, lot: dict[str, object], count: int, clients: int, tag: str, processes: int
) -> dict[str, float]:
    """``count`` Proceed POSTs from ``clients`` connections spread over ``processes`` client processes."""
    import multiprocessing

    tokens: list[str] = lot["tokens"]  # type: ignore[assignment]
    portal = lot["portal"]
    slot = lot["slot"]
    session, hidden = details_form(base, portal.slug, tokens[0], slot.pk)  # type: ignore[attr-defined]
    cookie_header = "; ".join(f"{k}={v}" for k, v in session.cookies.get_dict().items())
    processes = max(1, min(processes, clients))
    context = multiprocessing.get_context("spawn")  # no inherited database connections
    ready = context.Barrier(processes + 1)
    results = context.Queue()
    deadline = time.time() + TIME_LIMIT_SECONDS
    port = int(base.rsplit(":", 1)[1])
    jobs = list(enumerate(tokens[:count]))
    children = [
        context.Process(
            target=_client_process,
            args=(
                port,
                f"/visit/{portal.slug}/",  # type: ignore[attr-defined]
                jobs[n::processes],
                cookie_header,
                hidden,
                tag,
                clients // processes + (1 if n < clients % processes else 0),
                deadline,
                ready,
                results,
            ),
        )
        for n in range(processes)
    ]
    for child in children:
        child.start()
    ready.wait()
    started = time.perf_counter()
    outcomes = [item for _ in children for item in results.get()]
    wall = time.perf_counter() - started
    for child in children:
        child.join()
    latencies = sorted(elapsed for status, elapsed in outcomes if status == 302)
    other: dict[str, int] = {}
    for status, _elapsed in outcomes:
        if status != 302:
            key = f"HTTP {status}" if status else "connection error"
            other[key] = other.get(key, 0) + 1

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1000 if latencies else 0.0

    return {
        "booked": len(latencies),
        "other": other,  # type: ignore[dict-item]
        "wall": wall,
        "per_second": len(latencies) / wall if wall else 0.0,
        "p50": statistics.median(latencies) * 1000 if latencies else 0.0,
        "p95": pct(0.95),
        "p99": pct(0.99),
    }


def start_task_workers(count: int, nice: int) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(
            [
                *(["nice", "-n", str(nice)] if nice else []),
                sys.executable,
                "manage.py",
                "db_worker",
                "--interval",
                "0.2",
                "--worker-id",
                f"bench-{n}",
            ],
            cwd=ROOT,
            env={**os.environ, **SERVER_ENV},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in range(count)
    ]


def oldest_pending_email_seconds() -> float:
    """Age of the oldest confirmation not yet sent: a notice not yet written, or an e-mail not yet sent."""
    from django.db.models import Min
    from django.utils import timezone

    from parkgate.booking.models import BookingNotice, BookingNoticeStatus
    from parkgate.core.models import OutboundEmail, OutboundEmailStatus

    oldest = [
        BookingNotice.objects.filter(status=BookingNoticeStatus.PENDING).aggregate(at=Min("created_at"))[
            "at"
        ],
        OutboundEmail.objects.filter(status=OutboundEmailStatus.QUEUED).aggregate(at=Min("created_at"))["at"],
    ]
    now = timezone.now()
    return max(((now - at).total_seconds() for at in oldest if at is not None), default=0.0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=16, help="concurrent connections posting Proceed")
    parser.add_argument(
        "--client-processes", type=int, default=4, help="processes the clients are spread over"
    )
    parser.add_argument("--bookings", type=int, default=1600)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads per gunicorn worker (1: the sync worker, as deployed; more: the gthread worker)",
    )
    parser.add_argument("--task-workers", type=int, default=1, help="db_worker processes with --with-worker")
    parser.add_argument(
        "--task-nice",
        type=int,
        default=0,
        help="the task workers' niceness (as the worker's systemd unit sets Nice=; negative needs root)",
    )
    parser.add_argument("--existing", type=int, default=0, help="confirmed reservations already on the day")
    parser.add_argument("--race", type=int, default=100, help="places in the last-spot race (0: no race)")
    parser.add_argument("--with-worker", action="store_true", help="run the task worker alongside")
    parser.add_argument(
        "--drain",
        action="store_true",
        help="after the run (no worker during it), time --task-workers workers sending every confirmation",
    )
    parser.add_argument(
        "--profile",
        metavar="PREFIX",
        help=(
            "sample each gunicorn worker and task worker with py-spy during the main run, while they hold "
            "the GIL (PREFIX.<pid>.txt; .venv/bin/pip install py-spy first)"
        ),
    )
    args = parser.parse_args()

    recreate_database()
    setup_django()
    lots = seed(invitations=args.bookings, race_places=args.race, existing=args.existing)
    from django.db import connections

    connections.close_all()
    port = free_port()
    server = start_server(port, args.workers, args.threads)
    task_workers = start_task_workers(args.task_workers if args.with_worker else 0, args.task_nice)
    worker = task_workers[0] if task_workers else None
    email_ages: list[float] = []
    watching = threading.Event()

    def watch_emails() -> None:
        while not watching.wait(0.5):
            email_ages.append(oldest_pending_email_seconds())

    try:
        base = f"http://127.0.0.1:{port}"
        pids = process_tree(server.pid)
        watcher = threading.Thread(target=watch_emails)
        if worker is not None:
            watcher.start()
        profilers = []
        if args.profile:
            profilers = [
                subprocess.Popen(
                    [
                        str(ROOT / ".venv/bin/py-spy"),
                        "record",
                        "--pid",
                        str(pid),
                        "--format",
                        "raw",
                        "--rate",
                        "200",
                        "--nonblocking",
                        "--gil",  # only while holding the GIL: the Python CPU, not the waits
                        "--output",
                        f"{args.profile}.{pid}.txt",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for pid in [*pids[1:], *(t.pid for t in task_workers)]
            ]
        task_pids = [t.pid for t in task_workers]
        task_cpu_before = cpu_seconds(task_pids)
        cpu_before = cpu_seconds(pids)
        result = drive(base, lots["main"], args.bookings, args.clients, "Run", args.client_processes)  # type: ignore[arg-type]
        cpu_used = cpu_seconds(pids) - cpu_before
        for profiler in profilers:
            profiler.send_signal(signal.SIGINT)
        for profiler in profilers:
            profiler.wait(timeout=30)
        drained_after = None
        if worker is not None:  # how long the task workers need to catch up, and their CPU per booking
            began = time.monotonic()
            while time.monotonic() - began < 120 and oldest_pending_email_seconds() > 0:
                time.sleep(0.2)  # polling the outbox; not a test
            drained_after = time.monotonic() - began
        task_cpu = cpu_seconds(task_pids) - task_cpu_before
        drained = None
        if args.drain:  # the confirmations of the whole run waiting, then the task workers alone
            task_workers = start_task_workers(args.task_workers, args.task_nice)
            began = time.monotonic()
            while time.monotonic() - began < 300 and oldest_pending_email_seconds() > 0:
                time.sleep(0.1)  # polling the outbox; not a test
            drained = (time.monotonic() - began, cpu_seconds([t.pid for t in task_workers]))
        watching.set()
        if worker is not None:
            watcher.join()
        rss = rss_megabytes(pids)
        race = None
        if args.race:
            race = drive(base, lots["race"], 3 * args.race, args.clients, "Race", args.client_processes)  # type: ignore[arg-type]
        from parkgate.access.models import Reservation, ReservationStatus

        race_sold = Reservation.objects.filter(
            policy=lots["race"]["policy"],
            status=ReservationStatus.CONFIRMED,  # type: ignore[index]
        ).count()
        main_sold = (
            Reservation.objects.filter(
                policy=lots["main"]["policy"],
                status=ReservationStatus.CONFIRMED,  # type: ignore[index]
            ).count()
            - args.existing
        )
    finally:
        server.terminate()
        server.wait(timeout=15)
        for task_worker in task_workers:
            task_worker.terminate()
        for task_worker in task_workers:
            task_worker.wait(timeout=15)
        connections.close_all()

    load = os.getloadavg()
    print(
        f"\nPublic booking over HTTP: gunicorn {args.workers} workers x {args.threads} threads, "
        f"{args.clients} clients in {args.client_processes} processes, {len(task_workers)} task workers, "
        f"{os.cpu_count()} cores, load before/after {load[2]:.2f}/{load[0]:.2f} (15/1 min)"
    )
    print(f"existing reservations that day: {args.existing}")
    print(
        f"booked {result['booked']} in {result['wall']:.1f} s: {result['per_second']:.1f} bookings/s; "
        f"p50 {result['p50']:.0f} ms, p95 {result['p95']:.0f} ms, p99 {result['p99']:.0f} ms; "
        f"other answers {result['other'] or 'none'}"
    )
    print(f"confirmed in the database: {main_sold} (expected {result['booked']})")
    print(
        f"server CPU per booking: {cpu_used * 1000 / max(1, result['booked']):.1f} ms; "
        f"worker RSS at the end: {', '.join(f'{m:.0f}' for m in rss)} MB"
    )
    if worker is not None:
        print(f"oldest pending confirmation e-mail during the run: {max(email_ages, default=0):.1f} s")
        print(
            f"all confirmations sent {drained_after:.1f} s after the last booking; task workers' CPU "
            f"per booking: {task_cpu * 1000 / max(1, result['booked']):.1f} ms"
        )
    if drained is not None:
        seconds, cpu = drained
        print(
            f"{args.task_workers} task workers alone sent the {result['booked']} confirmations in "
            f"{seconds:.1f} s: {result['booked'] / seconds:.1f} per second (start-up included), "
            f"{cpu * 1000 / max(1, result['booked']):.1f} ms of CPU each"
        )
    if race is not None:
        print(
            f"last-spot race: {race['booked']} booked of {3 * args.race} requests for {args.race} places; "
            f"{race_sold} confirmed in the database; other answers {race['other'] or 'none'}"
        )
        if race_sold != args.race or race["booked"] != args.race:
            raise SystemExit("the race did not sell exactly the places there were")


if __name__ == "__main__":
    main()
