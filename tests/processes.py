"""Run the project for real: copies of it, manage.py commands and servers."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Generated or local files a copy of the project must not carry along.
NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".env",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    "staticfiles",
    "db.sqlite3*",
    "node_modules",
)


# DEBUG off over plain http:// on loopback, as docker-compose.yml runs it: no
# HTTPS redirect, and cookies that are sent without TLS.
PLAIN_HTTP = {
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
}
# DEBUG off with a real secret, answering on loopback over plain http://.
PRODUCTION = PLAIN_HTTP | {
    "DEBUG": "false",
    "SECRET_KEY": "a-long-random-secret-for-this-test-only",
    "ALLOWED_HOSTS": "127.0.0.1",
}


def copy_project(destination: Path) -> Path:
    """Copy the project's files, without uploads, databases or a .env."""
    shutil.copytree(PROJECT_DIR, destination, ignore=NOT_COPIED)
    uploads = destination / "static" / "uploads"
    for entry in uploads.iterdir():
        if entry.name != ".gitkeep":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    return destination


def clean_env(**variables: str) -> dict[str, str]:
    """Return an environment with nothing of this process's Django configuration."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env | variables


def manage(
    project: Path, *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(project / "manage.py"), *args],
        cwd=cwd or project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def gunicorn_command(project: Path, port: int, *options: str) -> list[str]:
    """Return gunicorn with the project's configuration, bound to 127.0.0.1:port."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        str(project / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        *options,
        "fastopp.wsgi",
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(command: list[str], *, port: int, env: dict, cwd: Path, log: Path):
    """Start a server, wait until it answers on 127.0.0.1:port, stop it after."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_listening(port, process, log)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def _wait_until_listening(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not answer within 30 s:\n{log.read_text()}")


PASSWORD = "correct-horse-battery-staple"
CREATE_DEMO_PEOPLE = f"""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from webinars.models import Registrant, Webinar
User = get_user_model()
User.objects.create_superuser("staff", "staff@example.com", "{PASSWORD}")
mia = User.objects.create_user("mia", password="{PASSWORD}", is_staff=True)
mia.groups.add(Group.objects.get(name="marketing"))
webinar = Webinar.objects.create(title="Uploads everywhere", starts_at=timezone.now())
Registrant.objects.create(
    webinar=webinar, name="Ada Lovelace", email="ada@example.com", is_public=True
)
"""


def prepare_deployment(
    root: Path, layout: str = "absolute", database_url: str | None = None
) -> tuple[Path, Path, dict[str, str]]:
    """
    Copy the project to root/app, migrated, with its database in root/volume
    (or at database_url), a superuser "staff", a marketing user "mia" (both
    with PASSWORD) and a public registrant, Ada Lovelace. UPLOAD_DIR is
    root/volume/uploads for the "absolute" layout, var/uploads for "relative"
    and unset for "default".
    """
    project = copy_project(root / "app")
    volume = root / "volume"
    volume.mkdir()
    upload_dir, variables = {
        "absolute": (volume / "uploads", {"UPLOAD_DIR": str(volume / "uploads")}),
        "relative": (project / "var" / "uploads", {"UPLOAD_DIR": "var/uploads"}),
        "default": (project / "static" / "uploads", {}),
    }[layout]
    env = clean_env(
        DATABASE_URL=database_url or f"sqlite:///{volume / 'db.sqlite3'}",
        STATIC_ROOT=str(root / "staticfiles"),
        **variables,
    )
    for command in (
        ["migrate", "--no-input"],
        ["shell", "--no-imports", "-c", CREATE_DEMO_PEOPLE],
    ):
        result = manage(project, *command, env=env)
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {command[0]} failed:\n{result.stderr}")
    return project, upload_dir, env


def runserver_command(project: Path, port: int) -> list[str]:
    return [
        sys.executable,
        str(project / "manage.py"),
        "runserver",
        f"127.0.0.1:{port}",
        "--noreload",
    ]
