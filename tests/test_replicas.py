"""
Two app instances (two gunicorns on their own ports) sharing one PostgreSQL
and one S3 bucket, configured only by environment variables, as two replicas
of a deployment are.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

import pytest
from PIL import Image

from tests.browserless import AdminSession, post_photo
from tests.processes import (
    PASSWORD,
    PRODUCTION,
    free_port,
    gunicorn_command,
    manage,
    prepare_deployment,
    running_server,
)
from tests.s3 import MotoServer, environment

pytestmark = pytest.mark.servers

UPLOADS = 40
CREATE_REGISTRANTS = f"""
from webinars.models import Registrant, Webinar
webinar = Webinar.objects.get()
for n in range({UPLOADS}):
    Registrant.objects.create(
        webinar=webinar, name=f"Replica {{n}}", email=f"r{{n}}@example.com"
    )
"""


@pytest.fixture
def s3(tmp_path):
    server = MotoServer(tmp_path)
    server.start()
    yield server
    server.stop()


def noise_png() -> bytes:
    image = Image.frombytes("RGB", (160, 120), os.urandom(160 * 120 * 3))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_two_replicas_share_photos_through_one_bucket_and_one_database(
    postgres_server, s3, tmp_path
):
    bucket = s3.create_bucket("replicas")
    project, upload_dir, env = prepare_deployment(
        tmp_path, database_url=postgres_server.create_database()
    )
    env |= PRODUCTION | environment(s3, bucket)
    for command in (
        ["shell", "--no-imports", "-c", CREATE_REGISTRANTS],
        ["collectstatic", "--no-input"],
    ):
        result = manage(project, *command, env=env)
        assert result.returncode == 0, result.stderr
    ports = [free_port(), free_port()]

    with (
        running_server(
            gunicorn_command(project, ports[0]),
            port=ports[0],
            env=env,
            cwd=tmp_path,
            log=tmp_path / "first.log",
        ) as first,
        running_server(
            gunicorn_command(project, ports[1]),
            port=ports[1],
            env=env | {"MEDIA_PROXY": "true"},
            cwd=tmp_path,
            log=tmp_path / "second.log",
        ) as second,
    ):
        session = AdminSession(first)
        session.log_in("staff", PASSWORD)
        cookies = {cookie.name: cookie.value for cookie in session.cookies}
        ids = [r["id"] for r in json.loads(session.text("/api/registrants?q=replica"))]
        assert len(ids) == UPLOADS
        photos = [noise_png() for _ in range(UPLOADS)]
        instances = [first, second]
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(
                pool.map(
                    lambda n: post_photo(instances[n % 2], cookies, ids[n], photos[n]),
                    range(UPLOADS),
                )
            )
        assert [status for status, _ in answers] == [HTTPStatus.OK] * UPLOADS
        after = json.loads(session.text("/api/registrants?q=replica"))
        by_id = {r["id"]: r["photo_url"] for r in after}
        urls = [by_id[i] for i in ids]
        assert len(set(urls)) == UPLOADS and None not in urls
        for n in range(UPLOADS):
            assert answers[n][1]["registrant"]["photo_url"] == urls[n]
            # Served by the instance that did not store it, byte for byte.
            other = AdminSession(instances[(n + 1) % 2])
            with other.get(urls[n]) as response:
                served = response.read()
            assert hashlib.sha256(served).hexdigest() == sha_of(s3, bucket, urls[n])

    keys = {
        item["Key"]
        for item in s3.client()
        .list_objects_v2(Bucket=bucket, MaxKeys=1000)
        .get("Contents", [])
    }
    expected = set()
    for url in urls:
        name = url.removeprefix("/static/uploads/")
        stem = name.removeprefix("photos/").rsplit(".", 1)[0]
        expected |= {
            name,
            f"photos/thumbs/{stem}-small.webp",
            f"photos/thumbs/{stem}-medium.webp",
        }
    assert keys == expected  # no orphan, nothing missing
    assert not list(upload_dir.rglob("*.png"))  # nothing on the local disk


def sha_of(s3: MotoServer, bucket: str, url: str) -> str:
    key = url.removeprefix("/static/uploads/")
    return s3.client().head_object(Bucket=bucket, Key=key)["Metadata"]["sha256"]
