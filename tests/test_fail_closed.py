"""
Production fails closed, under a real gunicorn: no debug pages when DEBUG is
forgotten, and no start (or no readiness) with a weak secret, a missing
static manifest or an unmigrated database, each with the sentence that says
what to fix.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from http import HTTPStatus

import pytest

from tests.processes import (
    PLAIN_HTTP,
    clean_env,
    copy_project,
    free_port,
    gunicorn_command,
    manage,
    prepare_deployment,
    running_server,
)

pytestmark = pytest.mark.servers

SECRET_KEY = "a-long-random-secret-for-this-test-only"


def production_env(env: dict[str, str], **variables: str) -> dict[str, str]:
    """DEBUG unset: what a deployment that forgets it runs with."""
    env = env | PLAIN_HTTP | {"SECRET_KEY": SECRET_KEY, "ALLOWED_HOSTS": "127.0.0.1"}
    env.pop("DEBUG", None)
    return env | variables


def collect_static(project, env) -> None:
    collected = manage(
        project, "collectstatic", "--no-input", env=env | {"DEBUG": "false"}
    )
    assert collected.returncode == 0, collected.stderr


def start_gunicorn(project, env, cwd) -> subprocess.CompletedProcess:
    """Run gunicorn and return once it exits (it should refuse to start)."""
    return subprocess.run(
        gunicorn_command(project, free_port()),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_gunicorn_with_debug_unset_shows_no_technical_page(tmp_path):
    project, _, env = prepare_deployment(tmp_path)
    env = production_env(env)
    collect_static(project, env)
    port = free_port()

    with running_server(
        gunicorn_command(project, port),
        port=port,
        env=env,
        cwd=tmp_path,
        log=tmp_path / "log",
    ) as base_url:
        status, body = get(f"{base_url}/no-such-page/")

    assert status == HTTPStatus.NOT_FOUND
    assert b"URLconf" not in body
    assert b"DEBUG = True" not in body


@pytest.mark.parametrize(
    ("secret_key", "sentence"),
    [
        ("", "SECRET_KEY is empty while DEBUG is off"),
        ("change-me-to-a-long-random-string", "SECRET_KEY is too weak"),
        ("short", "SECRET_KEY is too weak"),
    ],
)
def test_gunicorn_refuses_to_start_with_an_empty_or_weak_secret_key(
    tmp_path, secret_key, sentence
):
    project, _, env = prepare_deployment(tmp_path)
    collect_static(project, production_env(env))

    result = start_gunicorn(
        project, production_env(env, SECRET_KEY=secret_key), tmp_path
    )

    assert result.returncode != 0
    assert sentence in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Listening at" not in result.stderr


def test_gunicorn_refuses_to_start_without_a_static_manifest(tmp_path):
    project, _, env = prepare_deployment(tmp_path)
    # What the README's environment gives: DEBUG on, so no manifest is written.
    assert manage(project, "collectstatic", "--no-input", env=env).returncode == 0

    result = start_gunicorn(project, production_env(env), tmp_path)

    assert result.returncode != 0
    assert "The static files manifest" in result.stderr
    assert "is missing" in result.stderr
    assert "Run: DEBUG=false python manage.py collectstatic --no-input" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_gunicorn_refuses_to_start_with_a_manifest_from_another_release(tmp_path):
    project, _, env = prepare_deployment(tmp_path)
    collect_static(project, production_env(env))
    (project / "static" / "added-after-collectstatic.css").write_text("a {}")

    result = start_gunicorn(project, production_env(env), tmp_path)

    assert result.returncode != 0
    assert "lacks 1 static files, such as added-after-collectstatic.css" in (
        result.stderr
    )
    assert "Run: DEBUG=false python manage.py collectstatic --no-input" in (
        result.stderr
    )


def test_readyz_is_503_with_a_reason_while_migrations_are_unapplied(tmp_path):
    project = copy_project(tmp_path / "app")
    env = production_env(
        clean_env(
            DATABASE_URL=f"sqlite:///{tmp_path / 'never-migrated.sqlite3'}",
            UPLOAD_DIR=str(tmp_path / "uploads"),
        )
    )
    collect_static(project, env)
    port = free_port()

    with running_server(
        gunicorn_command(project, port),
        port=port,
        env=env,
        cwd=tmp_path,
        log=tmp_path / "log",
    ) as base_url:
        status, body = get(f"{base_url}/readyz")

    assert status == HTTPStatus.SERVICE_UNAVAILABLE
    assert json.loads(body)["checks"]["database"] == "unmigrated"
    log = (tmp_path / "log").read_text()
    assert "migrations are not applied, such as" in log
    assert "Run: python manage.py migrate" in log


@pytest.mark.parametrize("entry_point", ["fastopp.wsgi", "fastopp.asgi"])
def test_any_server_entry_point_runs_with_debug_off_unless_told(tmp_path, entry_point):
    project = copy_project(tmp_path / "app")  # no .env of this checkout
    read_debug = (
        f"import {entry_point}; from django.conf import settings; print(settings.DEBUG)"
    )
    production = clean_env(SECRET_KEY=SECRET_KEY, ALLOWED_HOSTS="example.com")

    def debug(env):
        return subprocess.run(
            [sys.executable, "-c", read_debug],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert debug(production).stdout.strip() == "False"
    assert debug(production | {"DEBUG": "true"}).stdout.strip() == "True"
    refused = debug(clean_env())
    assert "Set the SECRET_KEY environment variable" in refused.stderr
