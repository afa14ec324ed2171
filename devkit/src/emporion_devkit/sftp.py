"""A private OpenSSH SFTP server on 127.0.0.1, for the file-drop demo and the tests.

Debian's `openssh-server` runs with its own configuration in a work folder: a fresh host key, one
client key in `authorized_keys`, key authentication only, `internal-sftp` only, a free port on
loopback. The known_hosts file it writes holds the server's host key, so clients check it as they
would in production. `scripts/sshd.sh` installs openssh-server where `/usr/sbin/sshd` is missing.

It is the one launcher: the demo, the end-to-end tests and the file connector's test fixture
(`tests/fixtures/sftp.py`) all start sshd through it. Any folder of the machine is served under its
absolute path (no chroot), so `location_of` names folders other than `root` as well.
"""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

SSHD = Path("/usr/sbin/sshd")
KEYGEN = "/usr/bin/ssh-keygen"
START_SECONDS = 15.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _keygen(path: Path, comment: str) -> None:
    """An ed25519 key pair without passphrase at `path` (and `path.pub`), made once."""
    if not path.exists():
        subprocess.run(  # noqa: S603 (fixed arguments)
            [KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
            check=True,
            capture_output=True,
        )


class SftpServer:
    """sshd serving SFTP for the current user on 127.0.0.1: start it, use `location`, stop it."""

    def __init__(self, workdir: Path, root: Path, port: int = 0) -> None:
        self.workdir = workdir
        self.root = root
        self.port = port or free_port()
        self.user = getpass.getuser()
        self.host_key = workdir / "ssh_host_ed25519_key"
        self.client_key = workdir / "client_ed25519_key"
        self.known_hosts = workdir / "known_hosts"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def location(self) -> str:
        """The drop as an `sftp://` location (the served folder by its absolute path)."""
        return self.location_of(self.root)

    def location_of(self, folder: Path) -> str:
        """Any local folder as an `sftp://` location of this server (by its absolute path)."""
        return f"sftp://{self.user}@127.0.0.1:{self.port}{folder}"

    @property
    def running(self) -> bool:
        """Whether the sshd this launcher started is still running."""
        return self._process is not None and self._process.poll() is None

    def _configure(self) -> Path:
        """Keys, authorized_keys, known_hosts and sshd_config in the work folder."""
        self.workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.root.mkdir(parents=True, exist_ok=True)
        _keygen(self.host_key, "emporion-sftp-host")
        _keygen(self.client_key, "emporion-sftp-client")
        authorized = self.workdir / "authorized_keys"
        authorized.write_text(self.client_key.with_suffix(".pub").read_text(), encoding="utf-8")
        authorized.chmod(0o600)
        host_public = self.host_key.with_suffix(".pub").read_text().split()
        self.known_hosts.write_text(
            f"[127.0.0.1]:{self.port} {host_public[0]} {host_public[1]}\n", encoding="utf-8"
        )
        config = self.workdir / "sshd_config"
        config.write_text(
            "\n".join(
                (
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.host_key}",
                    f"PidFile {self.workdir / 'sshd.pid'}",
                    f"AuthorizedKeysFile {authorized}",
                    f"AllowUsers {self.user}",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "StrictModes no",
                    "PermitRootLogin prohibit-password",
                    "AllowTcpForwarding no",
                    "X11Forwarding no",
                    "Subsystem sftp internal-sftp",
                    "ForceCommand internal-sftp",
                    "LogLevel ERROR",
                    "",
                )
            ),
            encoding="utf-8",
        )
        return config

    def start(self) -> None:
        """Start sshd in the foreground of a child process and wait until it accepts connections."""
        if not SSHD.exists():
            raise RuntimeError(f"{SSHD} is missing: run scripts/sshd.sh (installs Debian's openssh-server)")
        config = self._configure()
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
        self._process = subprocess.Popen(  # noqa: S603 (fixed arguments)
            [str(SSHD), "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                error = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise RuntimeError(f"sshd did not start on 127.0.0.1:{self.port}: {error.strip()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                    if connection.recv(4).startswith(b"SSH-"):  # sshd itself answers, not another
                        return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"sshd did not listen on 127.0.0.1:{self.port} within {START_SECONDS:g} s")

    def stop(self) -> None:
        """Stop the server (the process it started, by its id)."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stderr is not None:
                self._process.stderr.close()
            self._process = None

    def __enter__(self) -> SftpServer:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
