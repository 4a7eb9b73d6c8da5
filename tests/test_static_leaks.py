"""
Nothing reaches the public by a path the media view would refuse: symlinked
files and directories, hard links and files left in static/uploads/ are never
served by runserver (DEBUG on) or gunicorn (DEBUG off), nor collected.
"""

from __future__ import annotations

import os
import time
from http import HTTPStatus

import pytest

from tests.browserless import raw_request
from tests.factories import make_image_bytes
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

SECRET = b"a file outside the upload directory"
REFUSED = [
    "/static/uploads/photos/link.png",
    "/static/uploads/photos/escape/secret.txt",
    "/static/uploads/escape/secret.txt",
    "/static/uploads/photos/hard.png",
    "/static/uploads/photos/thumbs/hard-small.webp",
]
LEFT_OVER = "/static/uploads/photos/left-over.png"


def plant_leaks(root, project, upload_dir) -> None:
    """Symlinks and hard links out of the upload trees, and a left-over file."""
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    for tree in {project / "static" / "uploads", upload_dir}:
        (tree / "photos" / "thumbs").mkdir(parents=True, exist_ok=True)
        (tree / "photos" / "link.png").symlink_to(outside / "secret.txt")
        (tree / "photos" / "escape").symlink_to(outside, target_is_directory=True)
        (tree / "escape").symlink_to(outside, target_is_directory=True)
        (tree / "photos" / "loop").symlink_to(tree, target_is_directory=True)
    os.link(outside / "secret.txt", upload_dir / "photos" / "hard.png")
    os.link(outside / "secret.txt", upload_dir / "photos/thumbs/hard-small.webp")
    if upload_dir != project / "static" / "uploads":
        (project / "static/uploads/photos/left-over.png").write_bytes(
            make_image_bytes()
        )


def assert_nothing_leaks(base_url, layout):
    paths = REFUSED + ([LEFT_OVER] if layout == "absolute" else [])
    for path in paths:
        status, _, body = raw_request(base_url, path)
        assert status == HTTPStatus.NOT_FOUND, path
        assert SECRET not in body, path
    # The real static files are still there.
    assert raw_request(base_url, "/static/js/registrants.js")[0] == HTTPStatus.OK


@pytest.fixture(params=["default", "absolute"])
def leaky(request, tmp_path):
    project, upload_dir, env = prepare_deployment(tmp_path, request.param)
    plant_leaks(tmp_path, project, upload_dir)
    return request.param, project, env


def test_runserver_serves_no_symlink_hard_link_or_left_over_file(leaky, tmp_path):
    layout, project, env = leaky
    port = free_port()

    with running_server(
        runserver_command(project, port),
        port=port,
        env=env | {"DEBUG": "true"},
        cwd=tmp_path,
        log=tmp_path / "log",
    ) as base_url:
        assert_nothing_leaks(base_url, layout)


def test_gunicorn_collects_and_serves_none_of_them(leaky, tmp_path):
    layout, project, env = leaky
    env |= PRODUCTION
    started = time.monotonic()
    collected = manage(project, "collectstatic", "--no-input", env=env)
    assert collected.returncode == 0, collected.stderr
    assert time.monotonic() - started < 60
    static_root = tmp_path / "staticfiles"
    assert (static_root / "js").is_dir()
    assert not (static_root / "uploads").exists()
    assert not [
        p for p in static_root.rglob("*") if p.is_file() and SECRET in p.read_bytes()
    ]
    port = free_port()
    log = tmp_path / "log"

    with running_server(
        gunicorn_command(project, port), port=port, env=env, cwd=tmp_path, log=log
    ) as base_url:
        assert_nothing_leaks(base_url, layout)

    if layout == "absolute":
        assert "(webinars.W004) Files are left in" in log.read_text()
