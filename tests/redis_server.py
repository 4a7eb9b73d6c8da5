"""
A throwaway Redis for the TASKS_BACKEND=rq tests: Debian's redis-server on a
free loopback port, nothing written to disk, stopped by its PID.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

from tests.processes import free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def is_installed() -> bool:
    return Path(REDIS_SERVER).exists()


@contextmanager
def running_redis(directory: Path):
    """Start redis-server on 127.0.0.1:<free port>; yield its REDIS_URL."""
    port = free_port()
    log = directory / "redis.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(directory),
                "--daemonize",
                "no",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_pong(port, process, log)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()  # its PID only: never a name
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def _wait_for_pong(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited early:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(
        f"redis-server did not answer PING within 30 s:\n{log.read_text()}"
    )
