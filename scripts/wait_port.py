"""Wait until something listens on HOST PORT (at most 15 s): `python scripts/wait_port.py 127.0.0.1 8111`."""

from __future__ import annotations

import socket
import sys
import time


def main(host: str, port: int, timeout: float = 15.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return 0
        except OSError:
            time.sleep(0.1)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
