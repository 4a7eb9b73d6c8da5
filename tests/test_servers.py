"""
The contract under real servers: a photo uploaded through the admin is served
at /static/uploads/photos/<name> by runserver (DEBUG on) and by gunicorn
(DEBUG off), with UPLOAD_DIR outside the project, and so is the admin's CSS.
"""

from __future__ import annotations

import re
import subprocess
import sys
from http import HTTPStatus

import pytest

from tests.browserless import (
    CREATE_STAFF,
    raw_get,
    upload_photo_through_the_admin,
)
from tests.factories import make_image_bytes
from tests.processes import (
    PLAIN_HTTP,
    clean_env,
    copy_project,
    free_port,
    gunicorn_command,
    manage,
    running_server,
)

pytestmark = pytest.mark.servers


@pytest.fixture
def deployment(tmp_path):
    """A copy of the project with its database and UPLOAD_DIR outside of it."""
    project = copy_project(tmp_path / "app")
    upload_dir = tmp_path / "volume" / "uploads"
    env = clean_env(
        UPLOAD_DIR=str(upload_dir),
        DATABASE_URL=f"sqlite:///{tmp_path / 'volume' / 'db.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "staticfiles"),
    )
    (tmp_path / "volume").mkdir()
    for command in (
        ["migrate", "--no-input"],
        ["shell", "--no-imports", "-c", CREATE_STAFF],
    ):
        result = manage(project, *command, env=env)
        assert result.returncode == 0, result.stderr
    return project, upload_dir, env


def assert_serves_photo_and_admin_css(base_url, upload_dir):
    photo = make_image_bytes("JPEG", size=(120, 80))

    session, photo_url = upload_photo_through_the_admin(base_url, photo)

    stored = upload_dir / photo_url.removeprefix("/static/uploads/")
    assert stored.parent == upload_dir / "photos"
    assert stored.read_bytes() == photo
    with session.get(photo_url) as response:
        assert response.status == HTTPStatus.OK
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.read() == photo
    page = session.text("/admin/")
    css_url = re.search(r'href="(/static/admin/css/base[.\w]*\.css)"', page).group(1)
    with session.get(css_url) as response:
        assert response.status == HTTPStatus.OK
        assert response.headers["Content-Type"].startswith("text/css")
    return css_url


def assert_no_traversal(base_url):
    for path in (
        "/static/uploads/../../app/manage.py",
        "/static/uploads/%2e%2e/%2e%2e/app/manage.py",
        "/static/uploads/..%2f..%2fapp%2fmanage.py",
        "/static/uploads/photos/..%5c..%5cmanage.py",
    ):
        status, body = raw_get(base_url, path)
        assert status in (HTTPStatus.NOT_FOUND, HTTPStatus.BAD_REQUEST), path
        assert b"execute_from_command_line" not in body


def test_runserver_with_debug_on_serves_uploads_and_static(deployment, tmp_path):
    project, upload_dir, env = deployment
    port = free_port()
    command = [
        sys.executable,
        str(project / "manage.py"),
        "runserver",
        f"127.0.0.1:{port}",
        "--noreload",
    ]

    with running_server(
        command,
        port=port,
        env=env | {"DEBUG": "true"},
        cwd=tmp_path,
        log=tmp_path / "log",
    ) as base_url:
        css_url = assert_serves_photo_and_admin_css(base_url, upload_dir)
        assert_no_traversal(base_url)

    assert css_url == "/static/admin/css/base.css"


def test_gunicorn_with_debug_off_serves_uploads_and_hashed_static(deployment, tmp_path):
    project, upload_dir, env = deployment
    env |= PLAIN_HTTP | {
        "DEBUG": "false",
        "SECRET_KEY": "a-long-random-secret-for-this-test-only",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    collected = manage(project, "collectstatic", "--no-input", env=env)
    assert collected.returncode == 0, collected.stderr
    port = free_port()
    command = gunicorn_command(project, port, "--workers", "2")

    with running_server(
        command, port=port, env=env, cwd=tmp_path, log=tmp_path / "log"
    ) as base_url:
        css_url = assert_serves_photo_and_admin_css(base_url, upload_dir)
        assert_no_traversal(base_url)

    assert re.fullmatch(r"/static/admin/css/base\.[0-9a-f]{12}\.css", css_url)
    assert not (tmp_path / "staticfiles" / "uploads").exists()


def test_gunicorn_refuses_to_start_when_upload_dir_is_unusable(deployment, tmp_path):
    project, _, env = deployment
    (tmp_path / "taken").write_text("a file, not a directory")
    env |= {
        "DEBUG": "false",
        "SECRET_KEY": "a-long-random-secret-for-this-test-only",
        "ALLOWED_HOSTS": "127.0.0.1",
        "UPLOAD_DIR": str(tmp_path / "taken" / "uploads"),
    }
    port = free_port()

    result = subprocess.run(
        gunicorn_command(project, port),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "UPLOAD_DIR cannot be created: Not a directory" in result.stderr
    assert "Traceback" not in result.stderr
