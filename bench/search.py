"""Control room search speed at 1,000,000 parkers (PostgreSQL).

Creates its own database (``parkgate_bench_search``, dropped and recreated on every run), migrates
it, seeds one million parkers with one plate each by COPY, builds the trigram indexes the way the
control room migration does, then times typical desk queries of 3 to 8 characters (parts of
names, organisations and plates, typed with dashes or spaces) through the real selectors.

    .venv/bin/python bench/search.py                 # 1,000,000 parkers, 400 queries
    .venv/bin/python bench/search.py --parkers 100000 --queries 200

BENCH_POSTGRES_URL points at the server (default postgres://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = "parkgate_bench_search"


def _words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = _words(
    "Sophie Lucas Chloé Daan Émilie Sanne Thomas Emma Louis Noah Olivia Liam Léa Arthur Jules Mila Adam "
    "Lina Victor Nina Hugo Zoë Milan Elena Marie Pieter Anouk Bram Femke Joris Lotte Ruben Sem Tess Wout "
    "Yasmine Ahmed Fatima Mohamed Youssef Inès Karim Sara Omar Aïcha Mehdi Nour Björn Søren Åsa Ðorđe "
    "Žofia Łukasz Ivan Olga Giulia Marco Chiara Luca Pablo Lucía Mateo Sofía João Inês Tiago Ana Hélène "
    "François Gaëlle Benoît Cédric Aurélie Jérôme Margaux Théo Maëlle Noémie Raphaël Clément Célia Anaïs "
    "Loïc Mathéo Kevin Jessica Tom Lisa Max Laura Tim Julia Jan Eva Ben Lea Finn Ida Li Wei Yuki Hana "
    "Kenji Min-jun Seo-yeon Arjun Priya Ravi Anika"
)
LAST_NAMES = _words(
    "Martin Peeters Dubois Devries Lefèvre Jansen Janssens Maes Jacobs Mertens Willems Claes Goossens "
    "Wouters Desmet Dumont Lambert Dupont Leroy Laurent Simon Michel Lefebvre Moreau Fontaine Mercier "
    "Girard Bonnet Rousseau Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann "
    "Vandamme Vandenbroeck Vermeulen Verstraete Desmet Coppens Vandyck Hermans Pauwels Smits Nguyen "
    "Tran García Fernández González Rodríguez López Martínez Sánchez Pérez Rossi Russo Ferrari Esposito "
    "Bianchi Romano Colombo Kowalski Nowak Wiśniewski Wójcik Novák Dvořák Horváth Nagy Kovács Elamrani "
    "Benali Haddad Bakker Visser Smit Meijer Deboer Mulder Degroot Bos Vos Peters Hendriks Dijkstra "
    "Ødegaard Järvinen Virtanen Korhonen Andersson Johansson Karlsson Nilsson Eriksson"
)
SYLLABLES_START = _words(
    "Van Ver De Le La Ber Cor Dan Fer Gil Hol Jan Kes Lam Mor Nol Oud Pie Ros Sta Tol Val Wil Zee"
)
SYLLABLES_END = _words(
    "broeck hoven mans aert eyck straete donck velde ghem berghe mont court ville kamp dijk veld huis"
)
ORGANISATIONS = [
    "Acme Consulting",
    "Blue Fin Legal",
    "Delta Logistics",
    "Érable Architectes",
    "Flandria Bank",
    "Garage Léopold",
    "Helix Pharma",
    "Ixelles Dental",
    "Jade Insurance",
    "Kontich Engineering",
    "Louvain Data",
    "Meuse Energy",
    "Nordic Shipping",
    "Orion Media",
    "Parc Hôtel",
    "Quartz Studios",
    "Rivage Notaires",
    "Sablon Gallery",
    "Tervuren Labs",
    "Uccle Clinic",
]
OUTSIDER_ORGANISATIONS = ["Other Garage Ltd", "Faraway Corp", "Elsewhere NV", "Remote SA"]
PLATE_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def _server_url() -> str:
    return os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def _database_url(name: str) -> str:
    parts = urlsplit(_server_url())
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(_server_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def setup_django() -> None:
    os.environ["DATABASE_URL"] = _database_url(BENCH_DB)
    import config.testenv  # noqa: F401  (safe defaults: secret key, no HTTPS redirects)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _plate(rng: random.Random) -> str:
    style = rng.random()
    letters = "".join(rng.choice(PLATE_LETTERS) for _ in range(3))
    digits = f"{rng.randrange(1000):03d}"
    if style < 0.6:  # Belgian 1-ABC-123
        return f"{rng.randrange(1, 10)}-{letters}-{digits}"
    if style < 0.85:  # Dutch/French style AB-123-CD
        return f"{letters[:2]}-{digits}-{''.join(rng.choice(PLATE_LETTERS) for _ in range(2))}"
    return f"{letters}{digits}"  # foreign, no separators


def _last_name(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return rng.choice(LAST_NAMES)
    return rng.choice(SYLLABLES_START) + rng.choice(SYLLABLES_END)


def seed(parkers: int, rng: random.Random) -> dict[str, object]:
    """Organisations, a lot with allocations, then parkers and plates by COPY. Returns the lot."""
    from django.db import connection

    from parkgate.accounts.models import Organisation
    from parkgate.core.text import fold
    from parkgate.parking.models import Allocation, Lot, plate_key

    owner = Organisation.objects.create(name="Bench Parking", slug="bench-parking")
    tenants = [Organisation.objects.create(name=n, slug=f"t{i}") for i, n in enumerate(ORGANISATIONS)]
    outsiders = [
        Organisation.objects.create(name=n, slug=f"o{i}") for i, n in enumerate(OUTSIDER_ORGANISATIONS)
    ]
    lot = Lot.objects.create(owner=owner, name="Bench Garage", address="Bench", total_spots=5000)
    for tenant in tenants:
        Allocation.objects.create(lot=lot, organisation=tenant, spots=200, accepts_visitors=True)

    migration = importlib.import_module("parkgate.controlroom.migrations.0001_search_indexes")
    with connection.cursor() as cursor:
        # Build the indexes once, after the load (as a restore would), not row by row.
        for name, _table, _column in migration.INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")

    created_at = datetime.now(UTC)
    started = time.perf_counter()
    plates: list[tuple[str, str]] = []
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor, for COPY
        with raw.copy(
            "COPY parking_parker (managed_by_id, organisation_id, first_name, last_name, email, phone,"
            " search_text, created_at) FROM STDIN"
        ) as copy:
            for _ in range(parkers):
                in_scope = rng.random() < 0.95
                org = rng.choice(tenants) if in_scope else rng.choice(outsiders)
                visitor = rng.random() < 0.1
                first, last = rng.choice(FIRST_NAMES), _last_name(rng)
                employer = None if visitor else org
                text = fold(" ".join([first, last] + ([employer.name] if employer else [])))
                copy.write_row(
                    (org.pk, employer.pk if employer else None, first, last, "", "", text, created_at)
                )
                plate = _plate(rng)
                plates.append((plate, plate_key(plate)))
        cursor.execute("SELECT min(id) FROM parking_parker")
        first_id = cursor.fetchone()[0]
        with raw.copy("COPY parking_plate (parker_id, text, key) FROM STDIN") as copy:
            for offset, (text, key) in enumerate(plates):
                copy.write_row((first_id + offset, text, key))
    loaded = time.perf_counter() - started

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, column in migration.INDEXES:
            cursor.execute(f"CREATE INDEX {name} ON {table} USING gin ({column} gin_trgm_ops)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE parking_parker")
        cursor.execute("ANALYZE parking_plate")
    indexed = time.perf_counter() - started
    return {"lot": lot, "loaded_s": loaded, "indexed_s": indexed, "first_id": first_id}


def typical_queries(count: int, first_id: int, parkers: int, rng: random.Random) -> list[tuple[str, str]]:
    """What a receptionist types: 3 to 8 characters of a real parker's name, organisation or plate."""
    from parkgate.parking.models import Parker

    picked = list(
        Parker.objects.filter(pk__in=[first_id + rng.randrange(parkers) for _ in range(count)])
        .select_related("organisation")
        .prefetch_related("plates")
    )
    queries = []
    for index in range(count):
        parker = picked[index % len(picked)]
        kind = ("last name", "last name", "first name", "organisation", "plate", "plate")[index % 6]
        if kind == "organisation" and parker.organisation is None:
            kind = "last name"
        source = {
            "last name": parker.last_name,
            "first name": parker.first_name,
            "organisation": parker.organisation.name if parker.organisation else "",
            "plate": parker.plates.all()[0].text if kind == "plate" else "",
        }[kind]
        length = rng.randint(3, 8)
        if len(source) <= length:
            text = source
        else:
            start = 0 if rng.random() < 0.6 else rng.randrange(len(source) - length + 1)
            text = source[start : start + length]
        if kind == "plate":
            text = text.lower() if rng.random() < 0.5 else text
        else:
            text = text.lower() if rng.random() < 0.7 else text.upper()
        if len(text.strip(" -")) < 3:
            text = source[:8]
        queries.append((kind, text))
    return queries


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parkers", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    recreate_database()
    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from parkgate.controlroom.selectors import parker_search, search_results

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"database {BENCH_DB}: migrated in {time.perf_counter() - started:.1f} s")
    seeded = seed(args.parkers, rng)
    lot = seeded["lot"]
    print(
        f"seeded {args.parkers:,} parkers and {args.parkers:,} plates by COPY in {seeded['loaded_s']:.1f} s;"
        f" trigram indexes built in {seeded['indexed_s']:.1f} s"
    )
    queries = typical_queries(args.queries, int(seeded["first_id"]), args.parkers, rng)  # type: ignore[call-overload]

    for _kind, text in queries[:50]:  # warm the caches as a desk in use would be
        parker_search(lot, text)  # type: ignore[arg-type]

    select_ms: list[float] = []
    page_ms: list[float] = []
    by_kind: dict[str, list[float]] = {}
    found = 0
    for kind, text in queries:
        t0 = time.perf_counter()
        parkers, _more = parker_search(lot, text)  # type: ignore[arg-type]
        t1 = time.perf_counter()
        search_results(lot, parkers, now=timezone.now())  # type: ignore[arg-type]
        t2 = time.perf_counter()
        select_ms.append((t1 - t0) * 1000)
        page_ms.append((t2 - t0) * 1000)
        by_kind.setdefault(kind, []).append((t1 - t0) * 1000)
        found += bool(parkers)

    sample = next(text for kind, text in queries if kind == "last name")
    with CaptureQueriesContext(connection) as captured:
        parker_search(lot, sample)  # type: ignore[arg-type]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {captured.captured_queries[0]['sql']}")
        plan = "\n    ".join(row[0] for row in cursor.fetchall())
    slowest = sorted(zip(select_ms, queries, strict=True), reverse=True)[:5]

    print(f"\nqueries: {len(queries)} typical desk queries of 3 to 8 characters ({found} found someone)")
    print(f"examples: {', '.join(repr(t) for _k, t in queries[:10])}")
    print("parker_search (the selector):")
    print(
        f"  p50 {statistics.median(select_ms):.1f} ms   p95 {percentile(select_ms, 95):.1f} ms"
        f"   p99 {percentile(select_ms, 99):.1f} ms   max {max(select_ms):.1f} ms"
    )
    for kind, values in sorted(by_kind.items()):
        print(
            f"    {kind:<13} n={len(values):<4} p50 {statistics.median(values):.1f} ms"
            f"   p95 {percentile(values, 95):.1f} ms"
        )
    print("search + access states now (what the search endpoint computes):")
    print(f"  p50 {statistics.median(page_ms):.1f} ms   p95 {percentile(page_ms, 95):.1f} ms")
    print("slowest: " + ", ".join(f"{text!r} ({kind}) {ms:.0f} ms" for ms, (kind, text) in slowest))
    print(f"plan of the search statement for {sample!r}:\n    {plan}")
    print(f"machine: {os.cpu_count()} CPU cores, PostgreSQL {connection.pg_version // 10000}")  # type: ignore[attr-defined]

    connection.close()
    if not args.keep:
        import psycopg

        with psycopg.connect(_server_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
