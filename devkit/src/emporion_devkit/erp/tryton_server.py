"""Run a real `trytond` server on 127.0.0.1 for a provisioned database, as a context manager."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx

from emporion_devkit.erp.tryton_setup import TrytonDatabase


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TrytonServer:
    """A `trytond` process serving one database on 127.0.0.1; stopped on exit (terminate, then kill)."""

    def __init__(self, db: TrytonDatabase, port: int = 0, startup_timeout: float = 60.0) -> None:
        self.db = db
        self.port = port or free_port()
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._log: Path | None = None

    @property
    def url(self) -> str:
        """Base URL of the server (the JSON-RPC endpoint is URL/DATABASE/rpc/)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def database(self) -> str:
        return self.db.name

    @property
    def user(self) -> str:
        return self.db.user

    @property
    def password(self) -> str:
        return self.db.password

    def _config_text(self) -> str:
        return self.db.database_section() + f"\n[web]\nlisten = 127.0.0.1:{self.port}\n"

    def start(self) -> TrytonServer:
        """Start trytond and wait until it answers JSON-RPC; raise with its log if it does not."""
        self._workdir = tempfile.TemporaryDirectory(prefix="emporion-trytond-")
        workdir = Path(self._workdir.name)
        config = workdir / "trytond.conf"
        config.write_text(self._config_text())
        self._log = workdir / "trytond.log"
        trytond = Path(sys.executable).with_name("trytond")
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(  # noqa: S603
                [str(trytond), "-c", str(config), "-d", self.db.name],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=workdir,
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        body = {"id": 0, "method": "common.server.version", "params": []}
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                log = self.log_text()
                code = self._process.returncode
                self.stop()
                raise RuntimeError(f"trytond exited with {code}:\n{log}")
            try:
                response = httpx.post(f"{self.url}/rpc/", json=body, timeout=2.0)
                if response.status_code == 200:
                    self._check_database()
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        log = self.log_text()
        self.stop()
        raise RuntimeError(f"trytond did not answer within {self.startup_timeout}s:\n{log}")

    def _check_database(self) -> None:
        """Log in once as emporion: proves the database opens and the login works."""
        params = [self.db.user, {"password": self.db.password}, "en"]
        body = {"id": 1, "method": "common.db.login", "params": params}
        response = httpx.post(f"{self.url}/{self.database}/rpc/", json=body, timeout=30.0)
        answer = response.json() if response.status_code == 200 else {}
        if not answer.get("result"):
            log = self.log_text()
            self.stop()
            raise RuntimeError(
                f"trytond runs but database {self.database!r} does not serve "
                f"(HTTP {response.status_code}, {str(answer.get('error'))[:300]}):\n{log[-4000:]}"
            )

    def log_text(self) -> str:
        """What the server wrote so far (for failure messages)."""
        return self._log.read_text(errors="replace") if self._log and self._log.exists() else ""

    def stop(self) -> None:
        """Terminate the server, kill it if it does not stop within 10 s, and remove its files."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    @property
    def running(self) -> bool:
        """Whether the trytond process is up."""
        return self._process is not None and self._process.poll() is None

    def restart(self, port_timeout: float = 30.0) -> TrytonServer:
        """Start again after `stop()`, on the same port and database (an ERP back after an outage)."""
        self.stop()
        deadline = time.monotonic() + port_timeout
        while True:  # the old listener's socket may linger for a moment
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind(("127.0.0.1", self.port))
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"port {self.port} stays busy; cannot restart trytond") from None
            time.sleep(0.2)
        return self.start()

    def __enter__(self) -> TrytonServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
