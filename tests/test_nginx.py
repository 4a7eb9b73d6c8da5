"""
deploy/nginx/fastopp.conf with Debian's nginx in front of a real gunicorn:
the app checks a photo request and answers X-Accel-Redirect; nginx sends the
file with the app's headers, answers ranges, and keeps its internal location
and oversized bodies away from the app.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from http import HTTPStatus

import pytest

from tests.nginx import MISSING, running_nginx
from tests.processes import (
    PRODUCTION,
    free_port,
    gunicorn_command,
    manage,
    prepare_deployment,
    running_server,
)

pytestmark = [
    pytest.mark.servers,
    pytest.mark.skipif(bool(MISSING), reason=MISSING or ""),
]

NAME = "photos/" + "5e" * 16 + ".jpg"
CONTENT = bytes(range(256)) * 400


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """nginx on one loopback port, gunicorn (MEDIA_ACCEL_REDIRECT) behind it."""
    root = tmp_path_factory.mktemp("nginx")
    project, upload_dir, env = prepare_deployment(root)
    env |= PRODUCTION | {
        "MEDIA_ACCEL_REDIRECT": "/internal-uploads/",
    }
    collected = manage(project, "collectstatic", "--no-input", env=env)
    assert collected.returncode == 0, collected.stderr
    (upload_dir / NAME).parent.mkdir(parents=True, exist_ok=True)
    (upload_dir / NAME).write_bytes(CONTENT)
    app_port = free_port()
    with (
        running_server(
            gunicorn_command(project, app_port),
            port=app_port,
            env=env,
            cwd=root,
            log=root / "gunicorn.log",
        ) as app_url,
        running_nginx(root / "nginx", app_port=app_port, upload_dir=upload_dir) as url,
    ):
        yield url, app_url


def fetch(url: str, headers: dict | None = None, data: bytes | None = None):
    request = urllib.request.Request(url, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_nginx_sends_the_photo_with_the_apps_headers(proxied):
    url, app_url = proxied

    status, headers, body = fetch(f"{url}/static/uploads/{NAME}")
    _, app_headers, app_body = fetch(f"{app_url}/static/uploads/{NAME}")

    assert status == HTTPStatus.OK
    assert body == CONTENT
    assert app_body == b""  # the app itself sent no bytes, only the header
    assert app_headers["X-Accel-Redirect"] == f"/internal-uploads/{NAME}"
    assert "X-Accel-Redirect" not in headers
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cross-Origin-Resource-Policy"] == "same-site"
    assert headers["ETag"] == app_headers["ETag"]
    assert headers["Last-Modified"] == app_headers["Last-Modified"]


def test_nginx_answers_a_range_and_a_revalidation(proxied):
    url, _ = proxied
    _, headers, _ = fetch(f"{url}/static/uploads/{NAME}")

    status, ranged, body = fetch(
        f"{url}/static/uploads/{NAME}", headers={"Range": "bytes=10-19"}
    )
    revalidated, _, _ = fetch(
        f"{url}/static/uploads/{NAME}", headers={"If-None-Match": headers["ETag"]}
    )

    assert status == HTTPStatus.PARTIAL_CONTENT
    assert body == CONTENT[10:20]
    assert ranged["Content-Range"] == f"bytes 10-19/{len(CONTENT)}"
    assert revalidated == HTTPStatus.NOT_MODIFIED


def test_the_internal_location_and_missing_photos_are_404(proxied):
    url, _ = proxied

    internal, _, _ = fetch(f"{url}/internal-uploads/{NAME}")
    missing, _, _ = fetch(f"{url}/static/uploads/photos/{'0' * 32}.jpg")

    assert internal == HTTPStatus.NOT_FOUND
    assert missing == HTTPStatus.NOT_FOUND


def test_nginx_refuses_a_body_past_client_max_body_size(proxied):
    url, _ = proxied

    status, _, _ = fetch(
        f"{url}/admin/login/",
        data=b"x" * (7 * 1024 * 1024),
        headers={"Content-Type": "application/octet-stream"},
    )

    assert status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
