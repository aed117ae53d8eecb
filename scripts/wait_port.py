"""Wait until something listens on HOST PORT: `python scripts/wait_port.py 127.0.0.1 8111 [SECONDS]`.

Exit 0 as soon as a connection succeeds, 1 after SECONDS (default 15; 0 checks once).
"""

from __future__ import annotations

import socket
import sys
import time


def main(host: str, port: int, timeout: float = 15.0) -> int:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return 0
        except OSError:
            if time.monotonic() >= deadline:
                return 1
            time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) > 3 else 15.0))
