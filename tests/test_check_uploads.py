"""`manage.py check_uploads`: the report, and exit status 1 with the fix."""

from __future__ import annotations

import io
import os
import subprocess

import pytest
from django.core.management import CommandError, call_command

from tests.processes import copy_project
from tests.unprivileged import share


def check_uploads(*args: str) -> str:
    output = io.StringIO()
    call_command("check_uploads", *args, stdout=output)
    return output.getvalue()


def report(output: str) -> dict[str, str]:
    pairs = (line.split(":", 1) for line in output.splitlines() if ":" in line)
    return {label: value.strip() for label, value in pairs}


@pytest.mark.django_db  # the usage figures read the rows
def test_a_good_upload_dir_is_described_and_passes(settings, upload_dir):
    (upload_dir / "photos").mkdir()
    for name in ("ada.png", "grace.jpg", ".write-check-left-over"):
        (upload_dir / "photos" / name).write_bytes(b"x" * 1000)

    lines = report(check_uploads())

    assert lines["UPLOAD_DIR"] == f"{upload_dir} (UPLOAD_DIR={str(upload_dir)!r})"
    assert lines["URL prefix"] == "/static/uploads/"
    assert lines["Storage backend"] == "webinars.storage.UploadStorage"
    assert lines["Directory"] == "exists"
    assert lines["Owner and mode"].startswith(f"uid {upload_dir.stat().st_uid}")
    assert lines["This process"].startswith(f"uid {os.getuid()}")
    assert lines["Write test"] == "a test file was created and deleted"
    assert " free of " in lines["Free space"]
    assert lines["Stored photos"] == (f"2 files, 2.0 KB, in {upload_dir / 'photos'}")
    assert "UPLOAD_DIR works." in check_uploads()


@pytest.mark.django_db  # the usage figures read the rows
def test_a_missing_parent_is_created_and_reported(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "volume" / "uploads")

    lines = report(check_uploads())

    assert lines["Directory"] == "was missing; created it, with its parents"
    assert lines["Write test"] == "a test file was created and deleted"
    assert (tmp_path / "volume" / "uploads").is_dir()


def test_a_file_in_the_way_fails_with_the_fix(settings, tmp_path):
    (tmp_path / "taken").write_text("not a directory")
    settings.MEDIA_ROOT = str(tmp_path / "taken")

    with pytest.raises(CommandError) as failure:
        check_uploads()

    assert str(failure.value).startswith("UPLOAD_DIR is not a directory")
    assert f"Fix: A file is in the way at {tmp_path / 'taken'}" in str(failure.value)


def test_a_read_only_upload_dir_fails_naming_the_reason(settings, unwritable_dir):
    settings.MEDIA_ROOT = str(unwritable_dir)

    with pytest.raises(CommandError) as failure:
        check_uploads()

    assert "UPLOAD_DIR is not writable" in str(failure.value)
    assert f"uid {os.getuid()}" in str(failure.value)


def test_quiet_prints_nothing_when_upload_dir_works(upload_dir):
    assert check_uploads("--quiet") == ""


def test_a_user_who_cannot_write_upload_dir_is_told_which_permission_to_get(
    unprivileged_user, shared_tmp_path
):
    project = share(copy_project(shared_tmp_path / "app"))
    upload_dir = shared_tmp_path / "uploads"
    upload_dir.mkdir()
    upload_dir.chmod(0o555)
    user = unprivileged_user

    result = subprocess.run(
        user.command(user.python, project / "manage.py", "check_uploads"),
        env=user.env(shared_tmp_path, UPLOAD_DIR=str(upload_dir)),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert "Write test:       failed: Permission denied" in result.stdout
    assert f"This process:     uid {user.uid}" in result.stdout
    assert (
        f"Fix: uid {user.uid} (gid {user.gid}) needs write and search permission "
        f"(w and x) on {upload_dir}, which is owned by uid {upload_dir.stat().st_uid}"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_photos_the_process_cannot_list_are_reported_not_a_traceback(
    upload_dir, monkeypatch
):
    (upload_dir / "photos").mkdir()

    def denied(storage, path):
        raise PermissionError(13, "Permission denied", path)

    # Root may list anything, so the refusal is injected.
    monkeypatch.setattr("webinars.storage.UploadStorage.listdir", denied)

    lines = report(check_uploads())

    assert lines["Stored photos"] == "cannot be listed: Permission denied"
