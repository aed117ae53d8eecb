"""CPU instructions per public booking (callgrind): a figure that does not depend on the machine's load.

    .venv/bin/python bench/booking_instructions.py [--few 5] [--many 25]

Seeds its own database `parkgate_bench_instructions` the way bench/booking_http.py does (a lot, a
free portal with one slot, one open invitation per booking), then runs the Proceed POST in one
process under `valgrind --tool=callgrind`, through Django's real WSGI handler with every
middleware and the benchmark's production settings (DEBUG off, Redis cache, database task queue,
CSRF and rate limits on): once for --few bookings and once for --many, both after the same form
load and 5 warm-up bookings. (total(many) - total(few)) / (many - few) is the cost of one booking,
start-up and warm-up cancelling out. Needs valgrind; takes a few minutes (callgrind runs Python
about 50 times slower).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench.booking_http as http_bench  # noqa: E402

DATABASE = "parkgate_bench_instructions"
WARM_UP = 5


def _use_own_database() -> None:
    http_bench.BENCH_DB = DATABASE
    http_bench.BENCH_URL = http_bench.BENCH_URL.rsplit("/", 1)[0] + "/" + DATABASE
    http_bench.SERVER_ENV["DATABASE_URL"] = http_bench.BENCH_URL


def seed(state: Path, bookings: int) -> None:
    _use_own_database()
    http_bench.recreate_database()
    http_bench.setup_django()
    made = http_bench.seed(invitations=bookings, race_places=1, existing=0)
    main: dict[str, Any] = made["main"]  # type: ignore[assignment]
    state.write_text(
        json.dumps(
            {
                "slug": main["portal"].slug,
                "slot": main["slot"].pk,
                "tokens": main["tokens"],
                "env": http_bench.SERVER_ENV,
            }
        )
    )


def book(state: Path, offset: int, count: int) -> None:
    """In this process: load the form once, then WARM_UP + count Proceed POSTs through WSGI."""
    seeded = json.loads(state.read_text())
    os.environ.update(seeded["env"])
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()

    def call(
        method: str,
        path: str,
        query: str = "",
        body: bytes = b"",
        cookie: str = "",
        address: str = "10.0.0.1",
    ):  # type: ignore[no-untyped-def]
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_COOKIE": cookie,
            "HTTP_REFERER": "http://127.0.0.1/",
            "HTTP_X_FORWARDED_FOR": address,
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
        }
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            answer.update(status=status, headers=headers)

        content = b"".join(application(environ, start_response))
        return answer["status"], answer["headers"], content

    tokens, slug = seeded["tokens"], seeded["slug"]
    query = urlencode(
        {"step": "details", "date": http_bench.DAY.isoformat(), "time": str(seeded["slot"]), "spots": "1"}
    )
    _status, headers, page = call("GET", f"/visit/{slug}/{tokens[offset]}/", query)
    form = re.search(r'<form method="post"[^>]*>(.*?)</form>', page.decode(), re.S)
    if form is None:
        raise SystemExit("the visitor details form did not load")
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1)))
    cookie = "; ".join(value.split(";")[0] for name, value in headers if name.lower() == "set-cookie")
    for index in range(offset + 1, offset + 1 + WARM_UP + count):
        data = {
            **hidden,
            "v0-first_name": "Bench",
            "v0-last_name": f"Count {index}",
            "v0-plate": f"C{index:06d}",
            "v0-email": f"count{index}@bench.example",
        }
        status, _headers, content = call(
            "POST",
            f"/visit/{slug}/{tokens[index]}/",
            body=urlencode(data).encode(),
            cookie=cookie,
            address=f"10.2.{(index >> 8) & 255}.{index & 255}",
        )
        if not status.startswith("302"):
            raise SystemExit(f"booking {index} was not made: {status}\n{content[:2000]!r}")


def _instructions(out: Path) -> int:
    for line in out.read_text(errors="replace").splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise SystemExit(f"no totals in {out}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--few", type=int, default=5)
    parser.add_argument("--many", type=int, default=25)
    parser.add_argument("--book", nargs=3, metavar=("STATE", "OFFSET", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.book:
        book(Path(args.book[0]), int(args.book[1]), int(args.book[2]))
        return
    if args.many <= args.few:
        raise SystemExit("--many must be more than --few")
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: no instruction count (apt-get install valgrind)")
        return
    with tempfile.TemporaryDirectory() as work:
        state = Path(work) / "state.json"
        seed(state, bookings=2 * (1 + WARM_UP + args.many))
        runs = []
        for offset, count in ((0, args.few), (1 + WARM_UP + args.many, args.many)):
            out = Path(work) / f"callgrind.{count}.out"
            command = [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                __file__,
                "--book",
                str(state),
                str(offset),
                str(count),
            ]
            runs.append((out, subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL)))
        for _out, process in runs:
            if process.wait() != 0:
                raise SystemExit("a callgrind run failed")
        few, many = (_instructions(out) for out, _process in runs)
    per_booking = (many - few) / (args.many - args.few)
    print(
        f"Public booking (Proceed POST, WSGI, production settings): {per_booking / 1e6:.1f} M instructions "
        f"per booking (callgrind; {few:,} for {args.few} bookings, {many:,} for {args.many})"
    )


if __name__ == "__main__":
    main()
