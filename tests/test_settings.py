"""UPLOAD_DIR and the other environment variables, read as a deployment would."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.processes import clean_env, copy_project, manage

READ_SETTINGS = """
import json, pathlib, runpy, sys
# As manage.py and gunicorn have it: the project on the path (settings import
# webinars.storage.configuration).
sys.path.insert(0, str(pathlib.Path(sys.argv[1]).parent.parent))
names = sys.argv[2].split(",")
values = runpy.run_path(sys.argv[1])
print(json.dumps({name: str(values[name]) for name in names}))
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("settings") / "project")


@pytest.fixture
def elsewhere(tmp_path):
    """A working directory that is not the project."""
    return tmp_path


def read_settings(project, cwd, *names, **variables):
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            READ_SETTINGS,
            str(project / "fastopp" / "settings.py"),
            ",".join(names),
        ],
        cwd=cwd,
        env=clean_env(**variables),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def media_root(project, cwd, **variables):
    return read_settings(project, cwd, "MEDIA_ROOT", **variables)["MEDIA_ROOT"]


def test_unset_upload_dir_is_static_uploads_in_the_project(project, elsewhere):
    assert media_root(project, elsewhere) == str(project / "static" / "uploads")


def test_empty_upload_dir_means_the_default(project, elsewhere):
    assert media_root(project, elsewhere, UPLOAD_DIR="") == str(
        project / "static" / "uploads"
    )


@pytest.mark.parametrize("value", ["media/photos-volume", "media/photos-volume/"])
def test_relative_upload_dir_resolves_against_the_project(project, elsewhere, value):
    assert media_root(project, elsewhere, UPLOAD_DIR=value) == str(
        project / "media" / "photos-volume"
    )


def test_relative_upload_dir_may_leave_the_project(project, elsewhere):
    assert media_root(project, elsewhere, UPLOAD_DIR="../shared-uploads") == str(
        project.parent / "shared-uploads"
    )


@pytest.mark.parametrize("value", ["/data/uploads", "/data/uploads/", "/data//uploads"])
def test_absolute_upload_dir_is_used_as_is(project, elsewhere, value):
    assert media_root(project, elsewhere, UPLOAD_DIR=value) == "/data/uploads"


def test_a_tilde_means_the_home_directory(project, elsewhere):
    assert media_root(project, elsewhere, UPLOAD_DIR="~/uploads", HOME="/home/app") == (
        "/home/app/uploads"
    )


def test_the_working_directory_never_matters(project, tmp_path):
    roots = {
        media_root(project, cwd, UPLOAD_DIR="uploads")
        for cwd in (project, project / "fastopp", tmp_path)
    }

    assert roots == {str(project / "uploads")}


@pytest.mark.parametrize("upload_dir", [None, "uploads", "/data/uploads"])
def test_uploads_are_always_served_below_static_uploads(project, elsewhere, upload_dir):
    variables = {"UPLOAD_DIR": upload_dir} if upload_dir else {}

    values = read_settings(project, elsewhere, "MEDIA_URL", "STATIC_URL", **variables)

    assert values == {"MEDIA_URL": "/static/uploads/", "STATIC_URL": "/static/"}


def test_a_dot_env_file_is_read_and_the_real_environment_wins(project, elsewhere):
    (project / ".env").write_text("UPLOAD_DIR=/from/dotenv\nSTATIC_ROOT=/srv/static\n")
    try:
        from_file = read_settings(project, elsewhere, "MEDIA_ROOT", "STATIC_ROOT")
        overridden = media_root(project, elsewhere, UPLOAD_DIR="/from/environment")
    finally:
        (project / ".env").unlink()

    assert from_file == {"MEDIA_ROOT": "/from/dotenv", "STATIC_ROOT": "/srv/static"}
    assert overridden == "/from/environment"


def test_local_development_needs_no_variables(project, elsewhere):
    values = read_settings(
        project, elsewhere, "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASES"
    )

    assert values["DEBUG"] == "True"
    assert values["SECRET_KEY"]
    assert "127.0.0.1" in values["ALLOWED_HOSTS"]
    assert str(project / "db.sqlite3") in values["DATABASES"]


def test_database_url_chooses_the_database(project, elsewhere):
    values = read_settings(
        project,
        elsewhere,
        "DATABASES",
        DATABASE_URL="postgres://app:pw@db.internal:5432/fastopp",
    )

    assert "'ENGINE': 'django.db.backends.postgresql'" in values["DATABASES"]
    assert "'HOST': 'db.internal'" in values["DATABASES"]


def test_debug_off_uses_hashed_compressed_static_files(project, elsewhere):
    values = read_settings(
        project,
        elsewhere,
        "STORAGES",
        DEBUG="false",
        SECRET_KEY="a-long-random-secret-for-this-test-only",
        ALLOWED_HOSTS="example.com",
    )

    assert "CompressedManifestStaticFilesStorage" in values["STORAGES"]


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({}, "Set the SECRET_KEY environment variable"),
        (
            {"SECRET_KEY": "a-long-random-secret-for-this-test-only"},
            "Set the ALLOWED_HOSTS environment variable",
        ),
    ],
)
def test_debug_off_without_a_production_setting_stops_with_a_sentence(
    project, elsewhere, variables, message
):
    result = manage(project, "check", env=clean_env(DEBUG="false", **variables))

    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_manage_py_resolves_upload_dir_from_any_working_directory(project, elsewhere):
    result = manage(
        project,
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.MEDIA_ROOT)",
        env=clean_env(UPLOAD_DIR="var/uploads"),
        cwd=elsewhere,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(project / "var" / "uploads")
