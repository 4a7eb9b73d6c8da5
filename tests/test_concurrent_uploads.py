"""
Sixteen uploads of over 2.5 MB, all named photo.jpg, sent at once to a real
gunicorn: every one is kept, under its own name.
"""

from __future__ import annotations

import io
import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

import pytest
from PIL import Image

from tests.browserless import AdminSession, post_photo
from tests.factories import decode
from tests.processes import (
    PASSWORD,
    PRODUCTION,
    free_port,
    gunicorn_command,
    manage,
    prepare_deployment,
    running_server,
)

pytestmark = pytest.mark.servers

UPLOADS = 16
CREATE_REGISTRANTS = f"""
from webinars.models import Registrant, Webinar
webinar = Webinar.objects.get()
for n in range({UPLOADS}):
    Registrant.objects.create(
        webinar=webinar, name=f"Person {{n}}", email=f"p{{n}}@example.com"
    )
"""


def large_jpeg() -> bytes:
    """About 3 MB of noise: past the 2.5 MB that Django keeps in memory."""
    noise = Image.frombytes("RGB", (1000, 1000), os.urandom(3_000_000))
    buffer = io.BytesIO()
    noise.save(buffer, "JPEG", quality=98, subsampling=0)
    return buffer.getvalue()


def test_sixteen_concurrent_large_uploads_with_one_name_are_all_kept(tmp_path):
    project, upload_dir, env = prepare_deployment(tmp_path)
    env |= PRODUCTION
    for command in (
        ["shell", "--no-imports", "-c", CREATE_REGISTRANTS],
        ["collectstatic", "--no-input"],
    ):
        result = manage(project, *command, env=env)
        assert result.returncode == 0, result.stderr
    photos = [large_jpeg() for _ in range(UPLOADS)]
    assert all(2.5 * 2**20 < len(photo) < 5 * 2**20 for photo in photos)
    port = free_port()
    command = gunicorn_command(
        project, port, "--workers", "2", "--threads", "8", "--worker-class", "gthread"
    )

    with running_server(
        command, port=port, env=env, cwd=tmp_path, log=tmp_path / "log"
    ) as url:
        session = AdminSession(url)
        session.log_in("staff", PASSWORD)
        cookies = {cookie.name: cookie.value for cookie in session.cookies}
        registrants = json.loads(session.text("/api/registrants?q=person"))
        ids = [r["id"] for r in registrants]
        assert len(ids) == UPLOADS
        with ThreadPoolExecutor(max_workers=UPLOADS) as pool:
            answers = list(
                pool.map(
                    lambda i: post_photo(url, cookies, ids[i], photos[i]),
                    range(UPLOADS),
                )
            )
        after = json.loads(session.text("/api/registrants?q=person"))

    assert [status for status, _ in answers] == [HTTPStatus.OK] * UPLOADS, answers
    names = {r["photo_url"] for r in after}
    assert len(names) == UPLOADS and None not in names
    stored = sorted((upload_dir / "photos").glob("*.jpg"))
    assert len(stored) == UPLOADS
    assert len(list((upload_dir / "photos" / "thumbs").glob("*.webp"))) == 2 * UPLOADS
    assert not list(upload_dir.rglob(".partial-*"))
    for path in stored:
        # Private registrants' photos: <uuid>-private.jpg (webinars.files).
        uuid.UUID(path.stem.removesuffix("-private"))
        assert decode(path.read_bytes()).size == (1000, 1000)
    assert {r["photo_original_name"] for r in after} == {"photo.jpg"}
