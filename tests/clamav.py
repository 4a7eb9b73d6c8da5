"""
A real clamd for the malware-scanning tests: Debian's clamav-daemon, started
in the foreground on a free loopback port with a signature database written
here (the EICAR test file, by hash and by content), stopped by its PID.
"""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

from tests.processes import free_port

CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"
# The anti-malware test file every scanner detects (eicar.org); harmless.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
HASH_SIGNATURE = "Eicar-Test-File.Hash"  # the whole file (.hdb)
BODY_SIGNATURE = "Eicar-Test-File.Body"  # anywhere in a file (.ndb)
# clamd names signatures outside the official database so.
UNOFFICIAL = ".UNOFFICIAL"


def is_installed() -> bool:
    return Path(CLAMD).is_file()


def write_database(directory: Path) -> None:
    """EICAR as an MD5 hash signature and as a body (content) signature."""
    md5 = hashlib.md5(EICAR).hexdigest()  # noqa: S324 (ClamAV's .hdb format)
    (directory / "eicar.hdb").write_text(f"{md5}:{len(EICAR)}:{HASH_SIGNATURE}\n")
    (directory / "eicar.ndb").write_text(f"{BODY_SIGNATURE}:0:*:{EICAR.hex()}\n")


@contextmanager
def running_clamd(directory: Path, *, stream_max: str = "30M"):
    """Start clamd on 127.0.0.1:<free port>; yield its CLAMD_ADDRESS.

    It listens on directory/clamd.sock too (CLAMD_ADDRESS=unix://...).
    """
    database = directory / "db"
    database.mkdir(parents=True)
    write_database(database)
    port = free_port()
    config = directory / "clamd.conf"
    config.write_text(
        "\n".join(
            [
                "Foreground yes",
                f"TCPSocket {port}",
                "TCPAddr 127.0.0.1",
                f"LocalSocket {directory / 'clamd.sock'}",
                f"DatabaseDirectory {database}",
                f"TemporaryDirectory {directory}",
                f"LogFile {directory / 'clamd.log'}",
                f"StreamMaxLength {stream_max}",
                "ReadTimeout 10",
                "",
            ]
        )
    )
    log = (directory / "clamd.out").open("wb")
    process = subprocess.Popen(
        [CLAMD, f"--config-file={config}"], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        _wait_for_pong(port, process, directory)
        yield f"tcp://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        log.close()


def _wait_for_pong(port: int, process: subprocess.Popen, directory: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"clamd exited early:\n{(directory / 'clamd.out').read_text()}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.sendall(b"zPING\0")
                if sock.recv(16).startswith(b"PONG"):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("clamd did not answer PING within 30 s")
