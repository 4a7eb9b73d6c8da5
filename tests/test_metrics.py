"""
Prometheus metrics at /metrics (docs/metrics.md): off by default, then only
with the token or from an allowed address; the uploads, refusals, media
responses and bytes stored they show; and the counts of several gunicorn
workers added up with PROMETHEUS_MULTIPROC_DIR.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import json
import re
import urllib.error
import urllib.request
from http import HTTPStatus
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import make_registrant, make_upload, make_user
from tests.processes import (
    PRODUCTION,
    clean_env,
    free_port,
    gunicorn_command,
    manage,
    prepare_deployment,
    running_server,
)

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "a-metrics-token-for-this-test-only"
BEARER = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture(autouse=True)
def role_groups():
    """Make the role groups again: a transactional test starts from an empty db."""
    migration = importlib.import_module("webinars.migrations.0002_roles")
    migration.create_roles(apps, None)


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOW = []
    settings.METRICS_USAGE_SECONDS = 0  # measure at every scrape


def scrape(client: Client, **headers) -> dict[tuple[str, tuple], float]:
    """Read /metrics: every sample by (name, sorted labels)."""
    response = client.get("/metrics", **(BEARER | headers))
    assert response.status_code == HTTPStatus.OK, response.content
    assert response["Content-Type"].startswith("text/plain")
    return samples(response.content.decode())


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def on_disk(root: Path) -> tuple[int, int]:
    """Files and bytes below the upload directory (no hidden files)."""
    stored = [
        path
        for path in root.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    ]
    return len(stored), sum(path.stat().st_size for path in stored)


def test_metrics_are_off_by_default(client):
    response = client.get("/metrics", **BEARER)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert b"fastopp_" not in response.content


def test_an_upload_through_the_staff_endpoint_is_counted_and_its_bytes_measured(
    client, metrics_on, upload_dir
):
    registrant = make_registrant()
    client.force_login(make_user("mia", role="marketing"))
    before = scrape(client)

    response = client.post(
        f"/upload-photo/{registrant.pk}", {"photo": make_upload("me.png")}, **JSON
    )
    assert response.status_code == HTTPStatus.OK
    after = scrape(client)

    uploads = "fastopp_photo_uploads_total"
    assert value(after, uploads) == value(before, uploads) + 1
    files, size = on_disk(upload_dir)
    assert files == 3  # the photo and its two thumbnails
    assert value(after, "fastopp_upload_bytes", backend="local", kind="all") == size
    assert value(after, "fastopp_upload_files", backend="local", kind="all") == files
    registrant.refresh_from_db()
    photo = (upload_dir / registrant.photo.name).stat().st_size
    assert value(after, "fastopp_upload_bytes", backend="local", kind="photos") == (
        photo
    )
    assert value(after, "fastopp_upload_bytes", backend="local", kind="thumbnails") == (
        size - photo
    )


def test_a_refused_upload_is_counted_by_its_reason(client, metrics_on):
    registrant = make_registrant()
    client.force_login(make_user("mia", role="marketing"))
    before = scrape(client)
    not_a_photo = SimpleUploadedFile("notes.png", b"just some text\n", "image/png")

    response = client.post(
        f"/upload-photo/{registrant.pk}", {"photo": not_a_photo}, **JSON
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    after = scrape(client)

    refusals = "fastopp_photo_upload_refusals_total"
    assert value(after, refusals, reason="format") == (
        value(before, refusals, reason="format") + 1
    )
    assert value(after, "fastopp_photo_uploads_total") == value(
        before, "fastopp_photo_uploads_total"
    )


def test_media_responses_are_counted_by_status(client, metrics_on):
    registrant = make_registrant(is_public=True, photo=make_upload())
    before = scrape(client)

    assert client.get(registrant.photo.url).status_code == HTTPStatus.OK
    assert client.get(registrant.photo.url).status_code == HTTPStatus.OK
    missing = "/static/uploads/photos/" + "0" * 32 + ".jpg"
    assert client.get(missing).status_code == HTTPStatus.NOT_FOUND
    assert client.get("/healthz").status_code == HTTPStatus.OK  # not media
    after = scrape(client)

    media = "fastopp_media_responses_total"
    assert value(after, media, status="200") == value(before, media, status="200") + 2
    assert value(after, media, status="404") == value(before, media, status="404") + 1


def test_media_answered_by_the_view_are_counted_too(client, metrics_on, settings):
    # A POST goes past the disk middleware to webinars.views.media (405).
    before = scrape(client)

    response = client.post("/static/uploads/photos/" + "0" * 32 + ".jpg")
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    after = scrape(client)

    media = "fastopp_media_responses_total"
    assert value(after, media, status="405") == value(before, media, status="405") + 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer not-the-token"},
        {"HTTP_AUTHORIZATION": f"Basic {TOKEN}"},
        {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}x"},
    ],
    ids=["missing", "wrong", "not-bearer", "longer"],
)
def test_without_the_token_the_answer_is_401_with_a_sentence(
    client, metrics_on, headers
):
    response = client.get("/metrics", **headers)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.content.decode().startswith("Send the metrics token as")
    assert b"fastopp_" not in response.content
    assert response["Cache-Control"] == "no-store"


def test_the_allow_list_admits_its_networks_only(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOW = ["10.0.0.0/8", "192.0.2.7"]

    inside = client.get("/metrics", REMOTE_ADDR="10.20.30.40")
    single = client.get("/metrics", REMOTE_ADDR="192.0.2.7")
    outside = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    # A proxy's forwarded address is never believed: REMOTE_ADDR only.
    forwarded = client.get(
        "/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.1.1.1"
    )

    assert inside.status_code == single.status_code == HTTPStatus.OK
    assert b"fastopp_photo_uploads_total" in inside.content
    for refused in (outside, forwarded):
        assert refused.status_code == HTTPStatus.FORBIDDEN
        assert b"METRICS_ALLOW" in refused.content
        assert b"fastopp_" not in refused.content


def test_with_a_token_and_an_allow_list_a_scrape_needs_both(client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOW = ["10.0.0.0/8"]

    both = client.get("/metrics", REMOTE_ADDR="10.0.0.1", **BEARER)
    no_token = client.get("/metrics", REMOTE_ADDR="10.0.0.1")
    wrong_place = client.get("/metrics", REMOTE_ADDR="127.0.0.1", **BEARER)

    assert both.status_code == HTTPStatus.OK
    assert no_token.status_code == HTTPStatus.UNAUTHORIZED
    assert wrong_place.status_code == HTTPStatus.FORBIDDEN


def test_metrics_skip_host_validation_and_the_https_redirect(client, settings):
    # A scraper asks the pod at its own address over plain HTTP.
    settings.METRICS_TOKEN = TOKEN
    settings.ALLOWED_HOSTS = ["fastopp.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/metrics", HTTP_HOST="10.1.2.3:8000", **BEARER)

    assert response.status_code == HTTPStatus.OK


def test_the_bytes_stored_are_measured_again_only_after_metrics_usage_seconds(
    client, metrics_on, settings, upload_dir
):
    settings.METRICS_USAGE_SECONDS = 3600
    make_registrant(photo=make_upload())
    first = scrape(client)
    make_registrant(email="grace@example.com", photo=make_upload(color="red"))

    cached = scrape(client)
    settings.METRICS_USAGE_SECONDS = 0
    fresh = scrape(client)

    all_bytes = {"backend": "local", "kind": "all"}
    assert value(cached, "fastopp_upload_bytes", **all_bytes) == value(
        first, "fastopp_upload_bytes", **all_bytes
    )
    assert value(fresh, "fastopp_upload_bytes", **all_bytes) == on_disk(upload_dir)[1]
    assert value(fresh, "fastopp_upload_files", **all_bytes) == 6


def test_a_post_to_metrics_is_405(client, metrics_on):
    response = client.post("/metrics", **BEARER)

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert b"fastopp_" not in response.content


# The settings, as a deployment reads them


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN is too short"),
        ({"METRICS_ALLOW": "10.0.0.0/8,intranet"}, "METRICS_ALLOW holds 'intranet'"),
    ],
)
def test_a_weak_token_or_a_bad_network_stops_start_up_with_a_sentence(
    tmp_path, variables, message
):
    from tests.processes import PROJECT_DIR

    result = manage(PROJECT_DIR, "check", env=clean_env(**variables), cwd=tmp_path)

    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


# Several gunicorn workers


def media_counts_per_process(directory: Path) -> dict[int, float]:
    """Each process's count of media answers, read from its file."""
    counts = {}
    for path in directory.glob("counter_*.db"):
        pid = int(path.stem.rpartition("_")[2])
        total = 0.0
        for key, count, *_ in MmapedDict.read_all_values_from_file(str(path)):
            name = json.loads(key)[0]
            if name == "fastopp_media_responses":
                total += count
        if total:
            counts[pid] = total
    return counts


def get(url: str, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.servers
def test_two_gunicorn_workers_add_up_their_counts_in_multiprocess_mode(tmp_path):
    project, _, env = prepare_deployment(tmp_path)
    result = manage(project, "collectstatic", "--no-input", env=env | PRODUCTION)
    assert result.returncode == 0, result.stderr
    directory = tmp_path / "prometheus"
    port = free_port()
    env = (
        env
        | PRODUCTION
        | {
            "METRICS_TOKEN": TOKEN,
            "PROMETHEUS_MULTIPROC_DIR": str(directory),
            "WEB_CONCURRENCY": "2",
        }
    )
    (directory).mkdir()
    (directory / "counter_1.db").write_bytes(b"a previous run's")  # emptied at start
    (directory / "keep.txt").write_text("not prometheus-client's")
    missing = f"http://127.0.0.1:{port}/static/uploads/photos/{'0' * 32}.jpg"
    bearer = {"Authorization": f"Bearer {TOKEN}"}

    with running_server(
        gunicorn_command(project, port),
        port=port,
        env=env,
        cwd=project,
        log=tmp_path / "gunicorn.log",
    ):
        assert not (directory / "counter_1.db").exists()
        assert (directory / "keep.txt").exists()
        sent = 0
        # New connections, several at a time, until both workers answered some.
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            while sent < 400 and len(media_counts_per_process(directory)) < 2:
                statuses = list(pool.map(lambda _: get(missing)[0], range(40)))
                assert set(statuses) == {HTTPStatus.NOT_FOUND}
                sent += len(statuses)
        per_process = media_counts_per_process(directory)
        scrapes = [get(f"http://127.0.0.1:{port}/metrics", bearer) for _ in range(8)]

    assert len(per_process) == 2, per_process  # both workers answered
    assert sum(per_process.values()) == sent
    for status, body in scrapes:  # whichever worker answered the scrape
        assert status == HTTPStatus.OK
        found = samples(body.decode())
        assert value(found, "fastopp_media_responses_total", status="404") == sent
    assert re.search(rb"fastopp_upload_bytes\{", scrapes[0][1])
