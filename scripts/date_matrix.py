#!/usr/bin/env python3
"""`make test-dates`: run the date-sensitive tests with the clock pinned at each awkward instant.

Every test runs at one pinned instant (tests/clock.py); PARKGATE_TEST_NOW moves it. This script runs
the date-sensitive selection (SELECTION below: no browser test but the visitor booking one, no
benchmark-like test) once per instant of MATRIX, through scripts/test.py (same database choice,
parallel workers), and prints one table row per instant. Exit 1 when any instant fails.

    .venv/bin/python scripts/date_matrix.py                  # the whole matrix
    .venv/bin/python scripts/date_matrix.py --only leap-day  # one instant (several --only allowed)
    .venv/bin/python scripts/date_matrix.py -- -x -k reservations   # extra pytest arguments
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import zoneinfo
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BRUSSELS = zoneinfo.ZoneInfo("Europe/Brussels")

# (label, instant with its UTC offset). Lots are in Europe/Brussels; the server runs in UTC.
MATRIX = [
    ("saturday", "2026-11-28T10:00:00+01:00"),
    ("sunday-evening", "2026-11-29T20:00:00+01:00"),
    ("monday-00:30-brussels", "2026-11-30T00:30:00+01:00"),  # still Sunday 23:30 in UTC
    ("friday-evening", "2026-11-27T20:00:00+01:00"),  # the next open day is Monday
    ("spring-forward", "2026-03-29T01:30:00+01:00"),  # 30 min before 02:00 CET -> 03:00 CEST
    ("fall-back", "2026-10-25T02:30:00+02:00"),  # the first 02:30; 03:00 CEST -> 02:00 CET
    ("new-years-eve", "2026-12-31T23:30:00+01:00"),
    ("leap-day", "2028-02-29T12:00:00+01:00"),
]

# Modules whose tests build data from "now" or judge dates (days, windows, validity, holds, expiry).
# Not here: tests that pass their own fixed instant (``now=``/``at=``) to pure code, e.g.
# tests/access/test_capacity.py, test_decisions.py, test_timetable.py: the pinned clock cannot move them.
SELECTION = [
    "tests/access/test_anpr_endpoint.py",
    "tests/access/test_keypad.py",
    "tests/access/test_remote_control.py",
    "tests/access/test_selectors.py",
    "tests/backoffice/test_housekeeping.py",
    "tests/backoffice/test_management.py",
    "tests/backoffice/test_reservations.py",
    "tests/backoffice/test_timetable.py",
    "tests/booking/test_concurrency.py",
    "tests/booking/test_emails.py",
    "tests/booking/test_flow.py",
    "tests/booking/test_office.py",
    "tests/controlroom/test_views.py",
    "tests/core/test_mail.py",
    "tests/payments/test_checkout_flow.py",
    "tests/payments/test_checkout_units.py",
    "tests/payments/test_office.py",
    "tests/payments/test_refund_flow.py",
    "tests/payments/test_services.py",
    "tests/payments/test_webhook.py",
    "tests/portal/test_invitations.py",
    # The browser test whose page chooses the first open day itself (live server, pinned clock).
    "tests/booking/test_browser.py::test_visitor_books_reads_the_emails_and_cancels[page-fr]",
]
MARKERS = "not bench"

SUMMARY = re.compile(r"^=*\s*(\d+ (?:passed|failed|error|deselected|skipped)[^\n]*?) in [\d.]+s", re.M)
FAILED = re.compile(r"^(FAILED|ERROR) (\S+)", re.M)


def run(instant: str, extra: list[str], *, first: bool) -> tuple[bool, str, list[str], float]:
    env = {**os.environ, "PARKGATE_TEST_NOW": instant}
    args = [sys.executable, str(ROOT / "scripts" / "test.py"), "-q", "-p", "no:cacheprovider"]
    # The test databases are built once (first instant) and kept for the next ones.
    args += ["--reuse-db", *(["--create-db"] if first else []), "-m", MARKERS, *SELECTION, *extra]
    started = time.monotonic()
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    output = result.stdout + result.stderr
    found = SUMMARY.findall(output)
    summary = found[-1] if found else f"no summary (exit {result.returncode})"
    failures = [f"{kind} {test}" for kind, test in FAILED.findall(output)]
    if result.returncode != 0 and not failures:
        failures = output.strip().splitlines()[-15:]
    elif failures:
        # What pytest said went wrong ("E " lines), so a failure seen only in CI can be read there.
        failures += [line for line in output.splitlines() if line.startswith("E ")][:40]
    return result.returncode == 0, summary, failures, seconds


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", action="append", choices=[label for label, _ in MATRIX])
    parser.add_argument("pytest_args", nargs="*", help="after --: passed to pytest")
    options = parser.parse_args()
    rows = [(label, instant) for label, instant in MATRIX if not options.only or label in options.only]
    print(f"{'instant':<24} {'Brussels':<22} {'UTC':<17} {'result':<6} {'seconds':>7}  pytest")
    failed: list[tuple[str, list[str]]] = []
    for index, (label, instant) in enumerate(rows):
        moment = datetime.fromisoformat(instant)
        local = moment.astimezone(BRUSSELS).strftime("%a %Y-%m-%d %H:%M %Z")
        utc = moment.astimezone(zoneinfo.ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M")
        ok, summary, failures, seconds = run(instant, options.pytest_args, first=index == 0)
        print(f"{label:<24} {local:<22} {utc:<17} {'pass' if ok else 'FAIL':<6} {seconds:>7.1f}  {summary}")
        sys.stdout.flush()
        if not ok:
            failed.append((label, failures))
    for label, failures in failed:
        print(f"\n{label}:")
        for line in failures:
            print(f"  {line}")
    if failed:
        print(f"\ndate matrix: {len(failed)} of {len(rows)} instants failed", file=sys.stderr)
        return 1
    print(f"\ndate matrix: all {len(rows)} instants pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
