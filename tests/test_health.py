"""/healthz and /readyz: what the platforms' probes see."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from http import HTTPStatus

import pytest

from tests.processes import (
    clean_env,
    copy_project,
    free_port,
    gunicorn_command,
    manage,
    running_server,
)


def test_healthz_answers_without_touching_the_database(client):
    response = client.get("/healthz")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_answers_200_when_database_and_upload_dir_work(client, upload_dir):
    response = client.get("/readyz")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "uploads": "ok", "static": "ok"},
    }
    assert [p.name for p in upload_dir.iterdir()] == []


@pytest.mark.django_db
def test_readyz_turns_503_when_upload_dir_becomes_unwritable(
    client, settings, upload_dir, make_unwritable
):
    assert client.get("/readyz").status_code == HTTPStatus.OK

    make_unwritable(upload_dir)
    response = client.get("/readyz")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "uploads": "not_writable", "static": "ok"},
    }
    assert str(upload_dir) not in response.content.decode()


def test_probes_answer_any_host_over_plain_http(client, settings):
    settings.ALLOWED_HOSTS = ["fastopp.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    probe = client.get("/healthz", HTTP_HOST="10.0.3.7:8000")
    page = client.get("/", HTTP_HOST="10.0.3.7:8000")

    assert probe.status_code == HTTPStatus.OK
    assert page.status_code == HTTPStatus.BAD_REQUEST


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_head_and_refuse_post(client, path):
    assert client.head(path).status_code == HTTPStatus.OK
    assert client.post(path).status_code == HTTPStatus.METHOD_NOT_ALLOWED


@pytest.mark.servers
def test_readyz_turns_503_when_the_database_is_unreachable(tmp_path):
    project = copy_project(tmp_path / "app")
    closed_port = free_port()
    env = clean_env(
        DEBUG="false",
        SECRET_KEY="a-long-random-secret-for-this-test-only",
        ALLOWED_HOSTS="fastopp.example.com",
        UPLOAD_DIR=str(tmp_path / "uploads"),
        DATABASE_URL=f"postgres://fastopp:hunter2-secret@127.0.0.1:{closed_port}/db",
    )
    collected = manage(project, "collectstatic", "--no-input", env=env)
    assert collected.returncode == 0, collected.stderr
    port = free_port()
    command = gunicorn_command(project, port, "--workers", "1")

    with running_server(
        command, port=port, env=env, cwd=tmp_path, log=tmp_path / "log"
    ) as base_url:
        with urllib.request.urlopen(f"{base_url}/healthz", timeout=10) as response:
            assert response.status == HTTPStatus.OK
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(f"{base_url}/readyz", timeout=10)

    assert answer.value.code == HTTPStatus.SERVICE_UNAVAILABLE
    body = answer.value.read().decode()
    assert json.loads(body)["checks"] == {
        "database": "unavailable",
        "uploads": "ok",
        "static": "ok",
    }
    assert "hunter2" not in body
    assert str(closed_port) not in body


@pytest.mark.django_db
def test_readyz_is_503_after_upload_dir_is_deleted_and_does_not_recreate_it(
    client, settings, upload_dir
):
    upload_dir.rmdir()

    response = client.get("/readyz")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["checks"]["uploads"] == "missing"
    assert not upload_dir.exists()


@pytest.mark.django_db
def test_readyz_runs_its_checks_at_most_once_per_interval(client, settings, upload_dir):
    settings.READINESS_CACHE_SECONDS = 60
    assert client.get("/readyz").status_code == HTTPStatus.OK

    upload_dir.rmdir()
    kept = client.get("/readyz")
    settings.READINESS_CACHE_SECONDS = 0
    rechecked = client.get("/readyz")

    assert kept.status_code == HTTPStatus.OK
    assert rechecked.status_code == HTTPStatus.SERVICE_UNAVAILABLE
