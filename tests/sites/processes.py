"""Real processes for the site agent tests: the agent as a subprocess, the site's internet link."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import requests

from tests.access.gate_support import free_port
from tests.polling import wait_for

LAUNCHER = Path(__file__).with_name("run_agent_without_django.py")
REPO = Path(__file__).resolve().parents[2]


class InternetLink:
    """A TCP relay between the site agent and the server, that the test can cut and restore.

    Down: open connections are closed and new ones are accepted then closed at once, as when the
    site's line or the server is down (the agent sees connection errors, never an answer).
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.up = True
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up = False
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._listener.close()


class AgentProcess:
    """``parkgate-site`` in a subprocess (Django unimportable), with its HTTP port and log."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = state / "agent.log"
        self.http = requests.Session()

    def command(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, str(LAUNCHER), "--state", str(self.state), *args],
            cwd=REPO,
            capture_output=True,
            timeout=60,
            check=False,
        )

    def start(self, *, mqtt_url: str, clock_start: str, sync_wait: float = 2.0) -> AgentProcess:
        handle = open(self.log, "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(LAUNCHER),
                "--state",
                str(self.state),
                "--log-level",
                "INFO",
                "run",
                "--listen",
                f"127.0.0.1:{self.port}",
                "--mqtt",
                mqtt_url,
                "--sync-wait",
                str(sync_wait),
                "--clock-start",
                clock_start,
            ],
            cwd=REPO,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=os.environ | {"PYTHONUNBUFFERED": "1"},
        )
        handle.close()
        wait_for(self._listening, timeout=15, what=f"site agent to listen\n{self.log_text()}")
        return self

    def _listening(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.log_text()
        try:
            return self.http.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def status(self) -> dict[str, Any]:
        return dict(self.http.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5).json())

    def read(self, public_id: str, key: str, plate: str, **extra: Any) -> requests.Response:
        body = {"plate": plate, "confidence": 0.95, **extra}
        return self.http.post(
            f"http://127.0.0.1:{self.port}/access/anpr/{public_id}/",
            data=json.dumps(body),
            headers={"Content-Type": "application/json", "X-Parkgate-Key": key},
            timeout=10,
        )

    def code(self, public_id: str, key: str, code: str) -> requests.Response:
        return self.http.post(
            f"http://127.0.0.1:{self.port}/access/keypad/{public_id}/",
            json={"code": code},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None
        self.http.close()
