"""
The contract under real servers: a photo uploaded through the admin is served
at /static/uploads/photos/<name> by runserver (DEBUG on) and by gunicorn
(DEBUG off), with UPLOAD_DIR outside the project, and so is the admin's CSS.
"""

from __future__ import annotations

import os
import re
import subprocess
from http import HTTPStatus

import pytest

from tests.browserless import raw_request, upload_photo_through_the_admin
from tests.factories import decode, make_image_bytes
from tests.processes import (
    PRODUCTION,
    free_port,
    gunicorn_command,
    manage,
    prepare_deployment,
    running_server,
    runserver_command,
)

pytestmark = pytest.mark.servers


@pytest.fixture(params=["default", "relative", "absolute"])
def deployment(request, tmp_path):
    """A copy of the project with UPLOAD_DIR unset, relative or absolute."""
    return prepare_deployment(tmp_path, request.param)


def assert_serves_photo_and_admin_css(base_url, upload_dir):
    photo = make_image_bytes("JPEG", size=(120, 80))

    session, thumbnail_url = upload_photo_through_the_admin(base_url, photo)

    [stored] = (upload_dir / "photos").glob("*.jpg")
    assert decode(stored.read_bytes()).size == (120, 80)
    photo_url = f"/static/uploads/photos/{stored.name}"
    with session.get(thumbnail_url) as response:
        assert response.headers["Content-Type"] == "image/webp"
        assert decode(response.read()).size == (128, 128)
    with session.get(photo_url) as response:
        assert response.status == HTTPStatus.OK
        assert response.headers["Content-Type"] == "image/jpeg"
        # Served by webinars.views.media, not as a static file:
        assert (
            response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
        )
        # The registrant is not public: no shared cache may keep the photo.
        assert stored.name.endswith("-private.jpg")
        assert response.headers["Cache-Control"] == "private, max-age=60"
        assert response.read() == stored.read_bytes()
        etag = response.headers["ETag"]
    assert_conditional_and_head(base_url, photo_url, etag, stored.stat().st_size)
    page = session.text("/admin/")
    css_url = re.search(r'href="(/static/admin/css/base[.\w]*\.css)"', page).group(1)
    with session.get(css_url) as response:
        assert response.status == HTTPStatus.OK
        assert response.headers["Content-Type"].startswith("text/css")
    return css_url


def assert_conditional_and_head(base_url, photo_url, etag, size):
    status, _, _ = raw_request(base_url, photo_url, {"If-None-Match": etag})
    assert status == HTTPStatus.NOT_MODIFIED
    status, headers, body = raw_request(base_url, photo_url, method="HEAD")
    assert (status, body) == (HTTPStatus.OK, b"")
    assert headers["Content-Length"] == str(size)


def assert_no_traversal(base_url, project, upload_dir):
    """Every spelling of the way from UPLOAD_DIR/photos to manage.py is refused."""
    up = os.path.relpath(project / "manage.py", upload_dir / "photos").split("/")
    for path in (
        "photos/" + "/".join(up),
        "photos/" + "/".join("%2e%2e" if part == ".." else part for part in up),
        "photos%2f" + "%2f".join(up),
        "photos/" + "/".join(".%2E" if part == ".." else part for part in up),
    ):
        status, _, body = raw_request(base_url, f"/static/uploads/{path}")
        assert status in (HTTPStatus.NOT_FOUND, HTTPStatus.BAD_REQUEST), path
        assert b"execute_from_command_line" not in body


def test_runserver_with_debug_on_serves_uploads_and_static(deployment, tmp_path):
    project, upload_dir, env = deployment
    port = free_port()

    with running_server(
        runserver_command(project, port),
        port=port,
        env=env | {"DEBUG": "true"},
        cwd=tmp_path,
        log=tmp_path / "log",
    ) as base_url:
        css_url = assert_serves_photo_and_admin_css(base_url, upload_dir)
        assert_no_traversal(base_url, project, upload_dir)

    assert css_url == "/static/admin/css/base.css"


def test_gunicorn_with_debug_off_serves_uploads_and_hashed_static(deployment, tmp_path):
    project, upload_dir, env = deployment
    env |= PRODUCTION
    collected = manage(project, "collectstatic", "--no-input", env=env)
    assert collected.returncode == 0, collected.stderr
    port = free_port()
    command = gunicorn_command(project, port, "--workers", "2")

    with running_server(
        command, port=port, env=env, cwd=tmp_path, log=tmp_path / "log"
    ) as base_url:
        css_url = assert_serves_photo_and_admin_css(base_url, upload_dir)
        assert_no_traversal(base_url, project, upload_dir)

    assert re.fullmatch(r"/static/admin/css/base\.[0-9a-f]{12}\.css", css_url)
    # Collecting again, with the photo now stored, copies no upload.
    assert list(upload_dir.glob("photos/*"))
    again = manage(project, "collectstatic", "--no-input", env=env)
    assert again.returncode == 0, again.stderr
    assert not list((tmp_path / "staticfiles").rglob("*.jpg"))
    assert not (tmp_path / "staticfiles" / "uploads").exists()


def test_gunicorn_refuses_to_start_when_upload_dir_is_unusable(tmp_path):
    project, _, env = prepare_deployment(tmp_path)
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
