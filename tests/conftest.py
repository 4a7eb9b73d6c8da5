from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import environ
import pytest

from tests import postgres, unprivileged
from tests.unprivileged import shared_directory


def pytest_addoption(parser):
    parser.addoption(
        "--postgres",
        action="store_true",
        help="Run the tests on a throwaway PostgreSQL server instead of SQLite.",
    )


@pytest.fixture(scope="session")
def django_db_modify_db_settings(request, django_db_modify_db_settings_parallel_suffix):
    """With --postgres, point the test database at a throwaway PostgreSQL."""
    if not request.config.getoption("--postgres"):
        return
    from django.conf import settings
    from django.db import connections

    try:
        server = postgres.TemporaryServer()
        server.start()
    except postgres.Unavailable as reason:
        pytest.skip(f"--postgres: no PostgreSQL here: {reason}")
    request.addfinalizer(server.stop)
    url = environ.Env.db_url_config(server.create_database())
    # Both the setting and the connection handler's copy, with its defaults.
    for database in (settings.DATABASES["default"], connections.settings["default"]):
        database["OPTIONS"] = {}  # SQLite's transaction mode and pragmas
        database.update(url)
    connections["default"].close()
    del connections["default"]  # made again from the new settings


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server for the scale-out tests (skips without one)."""
    try:
        with postgres.temporary_server() as server:
            yield server
    except postgres.Unavailable as reason:
        pytest.skip(f"no PostgreSQL here: {reason}")


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    """Point UPLOAD_DIR at a fresh directory, so no test writes into the checkout."""
    root = tmp_path / "uploads"
    root.mkdir()
    settings.UPLOAD_DIR = str(root)
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture(autouse=True)
def static_root(settings, tmp_path):
    """Collect static files, if a test does, outside the checkout."""
    root = tmp_path / "staticfiles"
    root.mkdir()
    settings.STATIC_ROOT = str(root)
    return root


@pytest.fixture(autouse=True)
def fresh_readiness(settings):
    """Let every /readyz in a test run its checks, unless the test says otherwise."""
    from webinars import readiness

    settings.READINESS_CACHE_SECONDS = 0
    readiness.forget()


@pytest.fixture
def root_client(client):
    """The test client, logged in as a superuser."""
    from tests.factories import make_user

    client.force_login(make_user("root", is_superuser=True))
    return client


@pytest.fixture(autouse=True)
def upload_temp_dir(settings, tmp_path):
    """Where Django would spool large uploads; tests check it stays empty."""
    root = tmp_path / "upload-tmp"
    root.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(root)
    return root


@pytest.fixture
def mount_tmpfs():
    """Mount small tmpfs filesystems (as root only), unmounted after the test."""
    mounted = []

    def mount(path: Path, *, read_only: bool = False) -> Path:
        if os.geteuid() != 0:
            pytest.skip("only root can mount a filesystem here")
        path.mkdir(parents=True, exist_ok=True)
        options = "ro,size=64k" if read_only else "size=64k"
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            pytest.skip(f"root cannot mount a tmpfs here: {result.stderr.strip()}")
        mounted.append(path)
        return path

    yield mount
    for path in reversed(mounted):
        # Lazily: the app may still hold a directory open there (the media
        # middleware keeps a handle on UPLOAD_DIR) until the settings reset.
        subprocess.run(["umount", "--lazy", str(path)], check=True)


@pytest.fixture
def make_unwritable(mount_tmpfs):
    """Make a directory this process really cannot write: read-only mount or 0500."""
    restore = []

    def make(path: Path) -> Path:
        if os.geteuid() == 0:  # root writes through any mode bits
            return mount_tmpfs(path, read_only=True)
        path.chmod(0o500)
        restore.append(path)
        return path

    yield make
    for path in restore:
        path.chmod(0o700)


@pytest.fixture
def unwritable_dir(tmp_path, make_unwritable):
    """An empty directory this process cannot write."""
    path = tmp_path / "readonly"
    path.mkdir()
    return make_unwritable(path)


@pytest.fixture(scope="session")
def unprivileged_user():
    """A user other than root who can run the project (skips when there is none)."""
    workdir = shared_directory()
    try:
        user = unprivileged.unprivileged_user(workdir)
    except unprivileged.Unavailable as reason:
        shutil.rmtree(workdir)
        pytest.skip(f"no non-root user can run the project here: {reason}")
    yield user
    shutil.rmtree(workdir)


@pytest.fixture
def shared_tmp_path():
    """A temporary directory that the unprivileged user can enter too."""
    path = shared_directory()
    yield path
    shutil.rmtree(path)
