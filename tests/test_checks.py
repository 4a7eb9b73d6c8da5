"""System checks: an unusable UPLOAD_DIR or a mixed-up layout stops start-up."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest
from django.conf import settings as conf_settings
from django.core import checks
from django.core.checks import Tags, run_checks

from tests.processes import clean_env, copy_project, manage
from webinars.diagnostics import Mount, mount_holding


def errors(**kwargs):
    return {
        message.id: message for message in run_checks(**kwargs) if message.is_serious()
    }


def warnings(**kwargs):
    return {
        message.id: message
        for message in run_checks(**kwargs)
        if message.level == checks.WARNING
    }


@pytest.fixture
def project_dir(settings, tmp_path):
    """A project directory of its own, as /app is in the Docker image."""
    settings.BASE_DIR = tmp_path / "app"
    settings.BASE_DIR.mkdir()
    return settings.BASE_DIR


def test_the_default_layout_passes_every_check(settings):
    assert errors() == {}
    # The real default, static/uploads inside STATICFILES_DIRS; only the
    # checks that do not write, so the checkout stays untouched.
    settings.MEDIA_ROOT = str(settings.BASE_DIR / "static" / "uploads")
    assert errors(tags=[Tags.staticfiles, Tags.database]) == {}


def test_a_missing_upload_dir_that_can_be_created_passes_and_is_not_created(
    settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path / "volume" / "uploads")

    assert errors() == {}
    # Checks only inspect: the first upload (or check_uploads) creates it.
    assert not (tmp_path / "volume").exists()


def test_the_checks_write_nothing_into_upload_dir(settings, upload_dir):
    (upload_dir / "photos").mkdir()

    assert errors() == {}
    assert [path.name for path in upload_dir.rglob("*")] == ["photos"]


def test_a_file_in_the_way_of_upload_dir_is_an_error(settings, tmp_path):
    (tmp_path / "taken").write_text("not a directory")
    settings.MEDIA_ROOT = str(tmp_path / "taken")

    error = errors()["webinars.E001"]

    assert "UPLOAD_DIR is not a directory" in error.msg
    assert str(tmp_path / "taken") in error.msg


def test_a_file_in_the_way_of_a_parent_is_an_error(settings, tmp_path):
    (tmp_path / "taken").write_text("not a directory")
    settings.MEDIA_ROOT = str(tmp_path / "taken" / "uploads")

    error = errors()["webinars.E002"]

    assert "UPLOAD_DIR cannot be created: Not a directory" in error.msg


def test_an_unwritable_upload_dir_is_an_error_naming_the_reason(
    settings, unwritable_dir
):
    settings.MEDIA_ROOT = str(unwritable_dir)

    error = errors()["webinars.E003"]

    assert "UPLOAD_DIR is not writable" in error.msg
    assert any(
        reason in error.msg for reason in ("Read-only file system", "Permission denied")
    )
    assert f"uid {os.getuid()}" in error.hint
    assert list(unwritable_dir.iterdir()) == []


def test_the_fix_names_the_uid_and_the_directory_it_needs_to_write(
    settings, unwritable_dir
):
    settings.MEDIA_ROOT = str(unwritable_dir / "volume" / "uploads")
    mode = stat.filemode(unwritable_dir.stat().st_mode)

    error = errors()["webinars.E002"]

    assert (
        f"uid {os.getuid()} (gid {os.getgid()}) needs write and search permission "
        f"(w and x) on {unwritable_dir}, which is owned by uid "
        f"{unwritable_dir.stat().st_uid}, gid {unwritable_dir.stat().st_gid} "
        f"with mode {mode}." in error.hint
    )


def test_upload_dir_containing_the_project_is_an_error(settings):
    settings.MEDIA_ROOT = str(settings.BASE_DIR)

    found = errors(tags=[Tags.staticfiles])

    assert "contains the project's code" in found["webinars.E004"].msg


@pytest.mark.parametrize(
    "layout", ["same", "media_inside_static", "static_inside_media"]
)
def test_upload_dir_and_static_root_must_not_overlap(settings, tmp_path, layout):
    media, static = {
        "same": ("shared", "shared"),
        "media_inside_static": ("static/uploads", "static"),
        "static_inside_media": ("uploads", "uploads/static"),
    }[layout]
    settings.MEDIA_ROOT = str(tmp_path / media)
    settings.STATIC_ROOT = str(tmp_path / static)

    assert "overlap" in errors()["webinars.E005"].msg


def test_upload_dir_must_not_swallow_a_static_files_dir(settings, tmp_path):
    (tmp_path / "static").mkdir()
    settings.STATICFILES_DIRS = [tmp_path / "static"]
    settings.MEDIA_ROOT = str(tmp_path / "static")

    assert "STATICFILES_DIRS" in errors()["webinars.E006"].msg


def test_an_unwritable_photos_directory_is_an_error_too(settings, upload_dir):
    photos = upload_dir / "photos"
    photos.mkdir()
    settings.MEDIA_ROOT = str(upload_dir)
    if os.geteuid() != 0:
        photos.chmod(0o500)
    elif subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(photos)]
    ).returncode:
        pytest.skip("root cannot mount a read-only tmpfs here")
    try:
        error = errors()["webinars.E003"]
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(photos)], check=True)
        else:
            photos.chmod(0o700)

    assert f"UPLOAD_DIR subdirectory {photos} is not writable: " in error.msg


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_a_sqlite_database_inside_upload_dir_is_an_error(settings, upload_dir):
    settings.DATABASES = settings.DATABASES | {
        "volume": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(upload_dir / "db.sqlite3"),
        }
    }

    found = errors(tags=[Tags.database])

    assert "'volume' SQLite database" in found["webinars.E010"].msg


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_a_relative_sqlite_path_inside_upload_dir_is_an_error(
    settings, upload_dir, monkeypatch
):
    monkeypatch.chdir(upload_dir.parent)
    settings.DATABASES = settings.DATABASES | {
        "volume": {"ENGINE": "django.db.backends.sqlite3", "NAME": "uploads/db.sqlite3"}
    }

    found = errors(tags=[Tags.database])

    assert str(upload_dir / "db.sqlite3") in found["webinars.E010"].msg


def test_uploads_are_never_found_by_django_s_own_file_system_finder():
    # No variable changes these: pinned here rather than checked at start-up.
    finders = conf_settings.STATICFILES_FINDERS

    assert "webinars.staticfiles.FileSystemFinder" in finders
    assert "django.contrib.staticfiles.finders.FileSystemFinder" not in finders


def test_upload_urls_lie_inside_static_urls_and_differ_from_them():
    assert conf_settings.MEDIA_URL == "/static/uploads/"
    assert conf_settings.MEDIA_URL.startswith(conf_settings.STATIC_URL)
    assert conf_settings.MEDIA_URL != conf_settings.STATIC_URL


def test_runserver_leaves_static_to_whitenoise():
    apps = conf_settings.INSTALLED_APPS
    nostatic = apps.index("whitenoise.runserver_nostatic")

    assert nostatic < apps.index("django.contrib.staticfiles")


def test_manage_py_check_fails_on_an_unusable_upload_dir_without_a_traceback(tmp_path):
    project = copy_project(tmp_path / "project")
    (tmp_path / "taken").write_text("not a directory")

    result = manage(
        project, "check", env=clean_env(UPLOAD_DIR=str(tmp_path / "taken/up"))
    )

    assert result.returncode == 1
    assert (
        "(webinars.E002) UPLOAD_DIR cannot be created: Not a directory" in result.stderr
    )
    assert f"resolves to {tmp_path / 'taken' / 'up'}" in result.stderr
    assert "Traceback" not in result.stderr


def test_local_uploads_on_heroku_are_a_warning_not_an_error(monkeypatch):
    monkeypatch.setenv("DYNO", "web.1")

    warning = warnings()["webinars.W001"]

    assert "discarded at every restart and deploy" in warning.msg
    assert "object storage" in warning.hint
    assert errors() == {}


def test_local_uploads_on_cloud_run_are_a_warning(monkeypatch):
    monkeypatch.setenv("K_SERVICE", "fastopp")

    warning = warnings()["webinars.W002"]

    assert "lost when the instance stops" in warning.msg
    assert "Cloud Storage bucket" in warning.hint


def test_the_mount_holding_upload_dir_is_read_from_mountinfo():
    mountinfo = (
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
        "31 22 0:40 / /tmp rw,nosuid shared:9 - tmpfs tmpfs rw\n"
        "48 22 0:51 / /mnt/up\\040loads rw - fuse.gcsfuse bucket rw\n"
    )

    assert mount_holding("/mnt/up loads/photos", mountinfo) == Mount(
        "/mnt/up loads", "fuse.gcsfuse"
    )
    assert mount_holding("/tmp/uploads", mountinfo) == Mount("/tmp", "tmpfs")
    assert mount_holding("/app/uploads", mountinfo) == Mount("/", "ext4")


def test_upload_dir_inside_the_code_with_debug_off_is_a_warning(settings, project_dir):
    settings.DEBUG = False
    settings.MEDIA_ROOT = str(project_dir / "static" / "uploads")

    warning = warnings()["webinars.W003"]

    assert f"is inside the project's code ({project_dir})" in warning.msg
    assert "Mount a persistent volume" in warning.hint


def test_upload_dir_inside_the_code_is_fine_while_debug_is_on(settings, project_dir):
    settings.DEBUG = True
    settings.MEDIA_ROOT = str(project_dir / "static" / "uploads")

    assert "webinars.W003" not in warnings()


def test_a_volume_mounted_inside_the_code_keeps_uploads(
    settings, project_dir, mount_tmpfs
):
    settings.DEBUG = False
    (project_dir / "uploads").mkdir()
    settings.MEDIA_ROOT = str(mount_tmpfs(project_dir / "uploads"))

    assert "webinars.W003" not in warnings()


def test_the_default_upload_dir_warns_only_with_debug_off(tmp_path):
    project = copy_project(tmp_path / "project")
    production = clean_env(
        DEBUG="false",
        SECRET_KEY="a-long-random-secret-for-this-test-only",
        ALLOWED_HOSTS="fastopp.example.com",
    )

    development = manage(project, "check", env=clean_env())
    production = manage(project, "check", env=production)

    assert "webinars.W003" not in development.stderr + development.stdout
    assert production.returncode == 0
    assert "(webinars.W003) UPLOAD_DIR" in production.stderr


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path):
    project = copy_project(tmp_path / "project")
    production = clean_env(
        DEBUG="false",
        SECRET_KEY="Zq3v-8kLw_2pXr7mT9bN4cHs6yJd1fGa5eUo0iRt-KQxWzVnMlPjEhCbDgSuYf",
        ALLOWED_HOSTS="fastopp.example.com",
        UPLOAD_DIR=str(tmp_path / "volume" / "uploads"),
    )

    result = manage(
        project, "check", "--deploy", "--fail-level", "WARNING", env=production
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


SHOW_SECURITY = """
from django.conf import settings
for name in (
    "SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
):
    print(name, getattr(settings, name))
"""


def security_settings(project, **variables):
    result = manage(
        project,
        "shell",
        "--no-imports",
        "-c",
        SHOW_SECURITY,
        env=clean_env(**variables),
    )
    assert result.returncode == 0, result.stderr
    return dict(line.split(" ", 1) for line in result.stdout.splitlines())


def test_production_security_is_on_with_debug_off_and_each_part_can_be_turned_off(
    tmp_path,
):
    project = copy_project(tmp_path / "project")
    production = {
        "DEBUG": "false",
        "SECRET_KEY": "a-long-random-secret-for-this-test-only",
        "ALLOWED_HOSTS": "fastopp.example.com",
    }
    turned_off = {
        "SECURE_PROXY_SSL_HEADER": "",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "false",
        "SECURE_HSTS_PRELOAD": "false",
    }

    defaults = security_settings(project, **production)
    overridden = security_settings(project, **production, **turned_off)
    development = security_settings(project)

    assert defaults == {
        "SECURE_PROXY_SSL_HEADER": "('HTTP_X_FORWARDED_PROTO', 'https')",
        "SECURE_SSL_REDIRECT": "True",
        "SESSION_COOKIE_SECURE": "True",
        "CSRF_COOKIE_SECURE": "True",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "True",
        "SECURE_HSTS_PRELOAD": "True",
    }
    assert overridden == development
    assert set(overridden.values()) == {"None", "False", "0"}


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("ALLOWED_HOSTS", [".herokuapp.com"]),
        ("ALLOWED_HOSTS", ["localhost", "*.fly.dev"]),
        ("CSRF_TRUSTED_ORIGINS", ["https://*.herokuapp.com"]),
        ("CSRF_TRUSTED_ORIGINS", ["https://*.run.app:443"]),
    ],
)
def test_a_wildcard_for_a_shared_platform_domain_is_a_warning(settings, setting, value):
    setattr(settings, setting, value)

    [warning] = [m for m in run_checks(tags=[Tags.security]) if m.id == "webinars.W010"]

    assert "which trusts every app on" in warning.msg
    assert "Name this app's own host instead" in warning.hint


def test_the_app_s_own_host_on_a_shared_platform_is_no_warning(settings):
    settings.ALLOWED_HOSTS = ["my-app.herokuapp.com", ".example.com"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://my-app.herokuapp.com"]

    assert not [m for m in run_checks(tags=[Tags.security]) if m.id == "webinars.W010"]
