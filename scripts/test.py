#!/usr/bin/env python3
"""`make test`: pick the database, say which, run the whole suite in parallel.

DATABASE_URL when set; else PostgreSQL at 127.0.0.1:5432 when it answers; else SQLite.
Tests run in TEST_WORKERS pytest-xdist workers (default `auto`: one per CPU core; `0` runs them in
this process), each with its own test database (test_<name>_gw0, test_<name>_gw1, ...). Arguments
are passed to pytest; one that already chooses workers (`-n ...`, `-p no:xdist`) wins.
pytest's exit code 5 (no test collected) is a failure, not a pass.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/parkgate"


def postgres_reachable(host: str = "127.0.0.1", port: int = 5432) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def worker_args(args: list[str], env: dict[str, str]) -> list[str]:
    """``-n <TEST_WORKERS or auto>`` unless the arguments choose the workers themselves."""
    chosen = any(a == "-n" or a.startswith(("-n", "--numprocesses")) for a in args)
    if chosen or "no:xdist" in args or "-pno:xdist" in args:
        return []
    workers = env.get("TEST_WORKERS", "auto")
    return [] if workers == "0" else ["-n", workers]


def main() -> int:
    env = dict(os.environ)
    if env.get("DATABASE_URL"):
        source = "DATABASE_URL"
    elif postgres_reachable():
        env["DATABASE_URL"] = POSTGRES_URL
        source = "PostgreSQL at 127.0.0.1:5432"
    else:
        env.pop("DATABASE_URL", None)
        source = "SQLite (no DATABASE_URL, PostgreSQL not reachable)"
    shown = env.get("DATABASE_URL", "sqlite (var/test-parkgate.sqlite3, one file per worker)")
    print(f"make test: database = {shown}  [{source}]", flush=True)
    env.setdefault("DEBUG", "false")
    subprocess.run(
        [sys.executable, "manage.py", "compile_translations", "--quiet"],
        check=True,
        env={**env, "DEBUG": "true"},
    )
    args = sys.argv[1:]
    result = subprocess.run([sys.executable, "-m", "pytest", *worker_args(args, env), *args], env=env)
    if result.returncode == 5:
        print("make test: pytest collected no test; that is a failure.", file=sys.stderr)
        return 1
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
