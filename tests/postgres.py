"""A throwaway PostgreSQL server on a loopback port, for the scale-out tests."""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from tests.processes import free_port


class Unavailable(Exception):
    """No PostgreSQL server can be started here; the message says why."""


class TemporaryServer:
    """PostgreSQL in a temporary directory, trusting local connections."""

    def __init__(self):
        self.binaries = _server_binaries()
        self.user = _server_user()  # PostgreSQL refuses to run as root
        self.directory = Path(tempfile.mkdtemp(prefix="fastopp-postgres-"))
        os.chmod(self.directory, 0o755)
        if self.user:
            shutil.chown(self.directory, self.user.pw_uid, self.user.pw_gid)
        self.port = free_port()
        self.names = (f"fastopp_{n}" for n in itertools.count())

    def start(self) -> None:
        cluster = str(self.directory / "cluster")
        options = (
            f"-p {self.port} -k {self.directory} "
            "-c listen_addresses=127.0.0.1 -c fsync=off"
        )
        self._run("initdb", "-D", cluster, "-U", "app", "--auth=trust")
        log = str(self.directory / "server.log")
        self._run("pg_ctl", "-D", cluster, "-o", options, "-l", log, "-w", "start")

    def create_database(self) -> str:
        """Create an empty database; return its DATABASE_URL."""
        name = next(self.names)
        self._run(
            "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "app", name
        )
        return f"postgres://app@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        cluster = str(self.directory / "cluster")
        if (self.directory / "cluster" / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", cluster, "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.directory, ignore_errors=True)

    def _run(self, program: str, *arguments: str, check: bool = True) -> None:
        prefix = []
        if self.user:
            uid, gid = self.user.pw_uid, self.user.pw_gid
            prefix = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups"]
        result = subprocess.run(
            [*prefix, str(self.binaries / program), *arguments],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=self.directory,
        )
        if check and result.returncode != 0:
            raise Unavailable(f"{program} failed: {result.stderr.strip()}")


@contextmanager
def temporary_server():
    server = TemporaryServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _server_binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise Unavailable(
        "PostgreSQL's server is not installed (apt-get install postgresql; "
        ".ci/run does it)"
    )


def _server_user():
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError as exc:
        raise Unavailable("running as root and there is no 'postgres' user") from exc
