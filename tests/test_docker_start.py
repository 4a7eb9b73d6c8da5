"""
The Dockerfile's own start command, run outside a container: the build
context, its collectstatic step, its ENV with each VOLUME on a directory of
its own, its CMD run as a user other than root, and its HEALTHCHECK.
"""

from __future__ import annotations

import os
import subprocess
import urllib.request
from http import HTTPStatus
from pathlib import Path

import pytest

from tests.browserless import upload_photo_through_the_admin
from tests.dockerfile import Dockerfile, build_context
from tests.factories import decode, make_image_bytes
from tests.processes import CREATE_DEMO_PEOPLE, PLAIN_HTTP, free_port, running_server
from tests.unprivileged import share

pytestmark = pytest.mark.servers

DOCKERFILE = Dockerfile.read()
UPLOAD_DIR = DOCKERFILE.env["UPLOAD_DIR"]
DATABASE_DIR = str(
    Path(DOCKERFILE.env["DATABASE_URL"].removeprefix("sqlite:///")).parent
)


class Container:
    """The image's files and settings, with its volumes on directories here."""

    def __init__(self, root: Path, user):
        self.user = user
        self.app = build_context(root / "app")
        self.volumes = {
            path: root / "volumes" / Path(path).name for path in DOCKERFILE.volumes
        }
        self.port = free_port()
        self.log = root / "log"
        self.build()

    def build(self) -> None:
        """Run the Dockerfile's collectstatic step, as `docker build` does."""
        step = DOCKERFILE.run_step("collectstatic")
        result = subprocess.run(
            ["sh", "-c", step],
            cwd=self.app,
            env=self.user.env(self.app),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        share(self.app)
        for volume in self.volumes.values():
            volume.mkdir(parents=True)

    def inside(self, value: str) -> str:
        """Translate a path in the image to the directory that stands for it."""
        for path, directory in self.volumes.items():
            value = value.replace(path, str(directory))
        return value.replace(DOCKERFILE.workdir, str(self.app))

    def env(self, **variables: str) -> dict[str, str]:
        image = {name: self.inside(value) for name, value in DOCKERFILE.env.items()}
        return (
            self.user.env(self.app)
            | image
            | PLAIN_HTTP
            | {
                "SECRET_KEY": "a-long-random-secret-for-this-test-only",
                "ALLOWED_HOSTS": "127.0.0.1",
                "PORT": str(self.port),
                # Loopback only: the image binds 0.0.0.0:$PORT.
                "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{self.port}",
                "MIGRATE_ON_START": "true",
                "APP_UID": str(self.user.uid),
                "APP_GID": str(self.user.gid),
            }
            | variables
        )

    def start(self, *, as_user: bool = True, **variables: str):
        command = [self.inside(part) for part in DOCKERFILE.cmd]
        if as_user:
            command = self.user.command(*command)
        return running_server(
            command,
            port=self.port,
            env=self.env(**variables),
            cwd=self.app,
            log=self.log,
        )

    def run(self, *argv: str, **variables: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.user.command(*argv),
            cwd=self.app,
            env=self.env(**variables),
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture
def container(shared_tmp_path, unprivileged_user):
    return Container(shared_tmp_path, unprivileged_user)


def fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def give_volumes_to_the_user(container: Container) -> None:
    # As the image does: its VOLUME directories belong to the app's user.
    for volume in container.volumes.values():
        container.user.give(volume)


def test_the_start_command_serves_an_upload_that_survives_a_restart(container):
    give_volumes_to_the_user(container)
    photo = make_image_bytes("JPEG", size=(64, 48))

    with container.start() as base_url:
        created = container.run(
            "python", "manage.py", "shell", "-c", CREATE_DEMO_PEOPLE
        )
        assert created.returncode == 0, created.stderr
        upload_photo_through_the_admin(base_url, photo)
        healthcheck = container.run(*DOCKERFILE.healthcheck)
        readiness, _ = fetch(base_url + "/readyz")

    assert healthcheck.returncode == 0, healthcheck.stderr
    assert readiness == HTTPStatus.OK
    assert "[ERROR]" not in container.log.read_text()
    [stored] = (container.volumes[UPLOAD_DIR] / "photos").glob("*.jpg")
    assert decode(stored.read_bytes()).size == (64, 48)
    assert stored.stat().st_uid == container.user.uid

    with container.start() as base_url:
        served_after_restart = fetch(f"{base_url}/static/uploads/photos/{stored.name}")

    assert served_after_restart == (HTTPStatus.OK, stored.read_bytes())


def test_the_start_command_refuses_a_volume_its_user_cannot_write(container):
    uploads = container.volumes[UPLOAD_DIR]
    uploads.chmod(0o555)  # and root's, as Docker makes a missing bind mount

    result = container.run(*(container.inside(part) for part in DOCKERFILE.cmd))

    assert result.returncode == 1
    assert (
        f"uid {container.user.uid} (gid {container.user.gid}) needs write and search "
        f"permission (w and x) on {uploads}" in result.stderr
    )
    assert f"Not starting (uid {container.user.uid}): fix the error above" in (
        result.stderr
    )
    assert "Listening at" not in result.stdout + result.stderr
    assert not list(container.volumes[DATABASE_DIR].iterdir())  # no migration ran


@pytest.mark.parametrize(
    ("variables", "sentence"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY is empty while DEBUG is off"),
        ({"ALLOWED_HOSTS": None}, "Set the ALLOWED_HOSTS environment variable"),
    ],
)
def test_the_start_command_prints_the_failing_check_s_own_sentence(
    container, variables, sentence
):
    give_volumes_to_the_user(container)
    env = container.env(**{k: v for k, v in variables.items() if v is not None})
    for name in [k for k, v in variables.items() if v is None]:
        del env[name]

    result = subprocess.run(
        container.user.command(*(container.inside(part) for part in DOCKERFILE.cmd)),
        cwd=container.app,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert f"Configuration error: {sentence}" in result.stderr
    assert "cannot write" not in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(container.volumes[DATABASE_DIR].iterdir())  # no migration ran


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can start as root")
def test_started_as_root_it_gives_the_volumes_to_the_app_user_and_steps_down(
    container,
):
    with container.start(as_user=False) as base_url:
        readiness, _ = fetch(base_url + "/readyz")

    assert readiness == HTTPStatus.OK
    uploads, data = container.volumes[UPLOAD_DIR], container.volumes[DATABASE_DIR]
    assert uploads.stat().st_uid == container.user.uid
    assert (data / "db.sqlite3").stat().st_uid == container.user.uid
