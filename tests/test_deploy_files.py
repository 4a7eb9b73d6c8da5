"""
The deployment files agree with the app: each one parses, and its UPLOAD_DIR
lies on a persistent mount that the same file declares, or the platform is
known to be ephemeral and documented as such.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
import yaml

from tests.dockerfile import Dockerfile, dockerignore, ignored_by_docker
from tests.processes import PLAIN_HTTP, PROJECT_DIR

DOCKERFILE = Dockerfile.read()


def under(path: str, mount: str) -> bool:
    """Return whether an absolute container path lies at or below a mount point."""
    return PurePosixPath(mount) in (PurePosixPath(path), *PurePosixPath(path).parents)


def sqlite_path(database_url: str) -> str | None:
    return (
        database_url.removeprefix("sqlite:///")
        if database_url.startswith("sqlite:////")
        else None
    )


# Docker


def test_hadolint_finds_nothing_in_the_dockerfile():
    hadolint = Path(sys.executable).parent / "hadolint"

    result = subprocess.run(
        [hadolint, "--no-color", "Dockerfile"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_image_is_slim_python_3_11():
    assert DOCKERFILE.all("FROM")[0].startswith("python:3.11-slim")


def test_dependencies_are_installed_in_a_layer_before_the_code_is_copied():
    requirements = DOCKERFILE.index("COPY", "requirements/runtime.txt")
    install = DOCKERFILE.index("RUN", "pip install --no-cache-dir -r requirements/")
    code = DOCKERFILE.index("COPY", ". .")

    assert requirements < install < code


def test_the_image_runs_as_a_numeric_non_root_user():
    uid, _, gid = DOCKERFILE.user.partition(":")

    assert int(uid) > 0 and int(gid) > 0  # numeric, so runAsNonRoot can verify it
    assert DOCKERFILE.env["APP_UID"] == uid


def test_static_files_are_collected_at_build_time_with_stand_in_secrets_only():
    step = DOCKERFILE.run_step("collectstatic")

    assert "DEBUG=false" in step and "SECRET_KEY=" in step and "ALLOWED_HOSTS=" in step
    assert "SECRET_KEY" not in DOCKERFILE.env
    assert DOCKERFILE.index("RUN", "collectstatic") > DOCKERFILE.index("COPY", ". .")


def test_the_image_keeps_uploads_and_its_sqlite_database_on_volumes():
    env = DOCKERFILE.env

    assert env["DEBUG"] == "false"
    assert env["UPLOAD_DIR"] == "/app/uploads"
    assert "/app/uploads" in DOCKERFILE.volumes
    assert any(under(sqlite_path(env["DATABASE_URL"]), v) for v in DOCKERFILE.volumes)


def test_the_image_exposes_port_and_checks_its_health_without_curl():
    assert DOCKERFILE.all("EXPOSE") == [DOCKERFILE.env["PORT"]]
    healthcheck = DOCKERFILE.healthcheck
    assert healthcheck[:2] == ["python", "-c"]
    assert "/healthz" in healthcheck[2]


def test_the_start_command_is_the_committed_script_running_gunicorn_conf():
    (start,) = DOCKERFILE.cmd
    script = PROJECT_DIR / PurePosixPath(start).relative_to(DOCKERFILE.workdir)

    assert script.stat().st_mode & 0o111
    assert "exec python -m gunicorn --config gunicorn.conf.py" in script.read_text()


@pytest.mark.parametrize(
    "path",
    [
        "manage.py",
        "gunicorn.conf.py",
        "fastopp/settings.py",
        "webinars/media.py",
        "templates/base.html",
        "static/css/site.css",
        "requirements/runtime.txt",
        "deploy/start.sh",
    ],
)
def test_the_build_context_has_what_the_image_needs(path):
    assert not ignored_by_docker(path, dockerignore())


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".git/config",
        ".venv/bin/python",
        "db.sqlite3",
        "static/uploads/photos/ada.jpg",
        "uploads/photos/ada.jpg",
        "staticfiles/admin/css/base.css",
        "webinars/__pycache__/media.cpython-311.pyc",
    ],
)
def test_the_build_context_leaves_out_secrets_data_and_generated_files(path):
    assert ignored_by_docker(path, dockerignore())


# Docker Compose


def read_yaml(name: str) -> list[dict]:
    return list(yaml.safe_load_all((PROJECT_DIR / name).read_text()))


def compose_default(value: str) -> str:
    """Resolve `${NAME:-default}` to its default, as with NAME unset."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def test_compose_keeps_uploads_and_sqlite_on_host_directories():
    (compose,) = read_yaml("docker-compose.yml")
    web = compose["services"]["web"]
    mounts = dict(volume.rsplit(":", 1)[::-1] for volume in web["volumes"])
    database = sqlite_path(compose_default(web["environment"]["DATABASE_URL"]))

    assert web["environment"]["UPLOAD_DIR"] == "/app/uploads"
    assert mounts["/app/uploads"] == "./uploads"
    assert any(under(database, target) for target in mounts)
    assert all(source.startswith("./") for source in mounts.values())


def test_compose_runs_the_production_image_over_plain_http_on_loopback():
    (compose,) = read_yaml("docker-compose.yml")
    web = compose["services"]["web"]

    assert web["build"] == "."
    assert web["environment"]["DEBUG"] == "false"
    assert {name: web["environment"][name] for name in PLAIN_HTTP} == PLAIN_HTTP
    assert web["ports"] == ["127.0.0.1:8000:8000"]


def test_compose_offers_postgresql_with_a_healthcheck_the_app_waits_for():
    (compose,) = read_yaml("docker-compose.yml")
    db = compose["services"]["db"]

    assert db["profiles"] == ["postgres"]
    assert "pg_isready" in db["healthcheck"]["test"][1]
    assert compose["services"]["web"]["depends_on"]["db"] == {
        "condition": "service_healthy",
        "required": False,
    }
    assert db["volumes"][0].split(":")[0] in compose["volumes"]
