"""
A full disk, a read-only volume or a refused write: the user is told, the
registrant keeps the previous photo, and no partial file remains.
"""

from __future__ import annotations

import errno
import io
import os
import subprocess
from http import HTTPStatus

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from PIL import Image

from tests.factories import (
    admin_form_for,
    files_in,
    make_registrant,
    make_upload,
)
from webinars.models import PendingDeletion, PhotoEvent

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def noise_png(edge: int = 300) -> bytes:
    """A PNG that does not compress: far larger than a 64 KiB volume."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (edge, edge), os.urandom(edge * edge * 3)).save(
        buffer, "PNG"
    )
    return buffer.getvalue()


def upload(client, registrant, content: bytes):
    photo = make_upload("new.png")
    photo.file = io.BytesIO(content)
    photo.size = len(content)
    return client.post(f"/upload-photo/{registrant.pk}", {"photo": photo}, **JSON)


def assert_nothing_changed(registrant, volume, files_before):
    previous = registrant.photo.name
    registrant.refresh_from_db()
    assert registrant.photo.name == previous
    assert files_in(volume) == files_before  # no partial or half-set files
    assert PhotoEvent.objects.filter(action="replaced").count() == 0


def test_a_full_disk_answers_507_and_keeps_the_previous_photo(
    root_client, settings, tmp_path, mount_tmpfs, caplog
):
    volume = mount_tmpfs(tmp_path / "volume")  # 64 KiB
    settings.MEDIA_ROOT = str(volume)
    registrant = make_registrant(photo=make_upload("small.png"))
    before = files_in(volume)

    response = upload(root_client, registrant, noise_png())

    assert response.status_code == HTTPStatus.INSUFFICIENT_STORAGE
    assert response.json()["error"] == (
        "The photo was not saved because the upload volume is full. Any previous "
        "photo is unchanged; please tell an administrator."
    )
    assert_nothing_changed(registrant, volume, before)
    assert "No space left on device" in caplog.text


def test_a_read_only_volume_answers_503_and_keeps_the_previous_photo(
    root_client, settings, tmp_path, mount_tmpfs, caplog
):
    volume = mount_tmpfs(tmp_path / "volume")
    settings.MEDIA_ROOT = str(volume)
    registrant = make_registrant(photo=make_upload("small.png"))
    before = files_in(volume)
    subprocess.run(["mount", "-o", "remount,ro", str(volume)], check=True)

    response = upload(root_client, registrant, noise_png(40))

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "the upload volume is read-only" in response.json()["error"]
    assert_nothing_changed(registrant, volume, before)
    assert "Read-only file system" in caplog.text


def test_a_photo_deleted_on_a_read_only_volume_is_withheld_then_removed(
    root_client,
    client,
    settings,
    tmp_path,
    mount_tmpfs,
    django_capture_on_commit_callbacks,
):
    volume = mount_tmpfs(tmp_path / "volume")
    settings.MEDIA_ROOT = str(volume)
    registrant = make_registrant(photo=make_upload("small.png"), is_public=True)
    url = f"/static/uploads/{registrant.photo.name}"
    assert client.get(url).status_code == HTTPStatus.OK
    stored = files_in(volume)
    subprocess.run(["mount", "-o", "remount,ro", str(volume)], check=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = root_client.post(f"/delete-photo/{registrant.pk}", **JSON)

    assert response.json()["message"] == "Photo deleted."
    assert files_in(volume) == stored  # the volume kept them
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND  # at once
    assert PendingDeletion.objects.count() == len(stored)

    subprocess.run(["mount", "-o", "remount,rw", str(volume)], check=True)
    out = io.StringIO()
    call_command("cleanup_uploads", stdout=out)

    assert "3 file(s) whose deletion had failed deleted now." in out.getvalue()
    assert files_in(volume) == set()
    assert not PendingDeletion.objects.exists()
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND


FAULTS = [
    (errno.ENOSPC, HTTPStatus.INSUFFICIENT_STORAGE, "the upload volume is full"),
    (errno.EDQUOT, HTTPStatus.INSUFFICIENT_STORAGE, "the upload volume is full"),
    (errno.EROFS, HTTPStatus.SERVICE_UNAVAILABLE, "the upload volume is read-only"),
    (errno.EACCES, HTTPStatus.SERVICE_UNAVAILABLE, "may not write to the upload"),
    (errno.EPERM, HTTPStatus.SERVICE_UNAVAILABLE, "may not write to the upload"),
    (errno.EIO, HTTPStatus.SERVICE_UNAVAILABLE, "the upload storage failed"),
]


def fail_flush_number(monkeypatch, number: int, code: int) -> None:
    """Make the number-th flush to disk fail with code, after data was written."""
    calls = []
    real_fsync = os.fsync

    def fsync(descriptor):
        calls.append(descriptor)
        if len(calls) == number:
            raise OSError(code, os.strerror(code))
        return real_fsync(descriptor)

    monkeypatch.setattr("webinars.storage.os.fsync", fsync)


@pytest.mark.parametrize(("code", "status", "words"), FAULTS)
def test_each_write_error_is_explained_and_leaves_nothing(
    root_client, upload_dir, monkeypatch, code, status, words
):
    registrant = make_registrant(photo=make_upload("small.png"))
    before = files_in(upload_dir)
    fail_flush_number(monkeypatch, 1, code)

    response = upload(root_client, registrant, noise_png(40))

    assert response.status_code == status
    assert words in response.json()["error"]
    assert_nothing_changed(registrant, upload_dir, before)


@pytest.mark.parametrize("failing_write", [2, 3])
def test_a_failed_thumbnail_removes_the_photo_written_before_it(
    root_client, upload_dir, monkeypatch, failing_write
):
    registrant = make_registrant(photo=make_upload("small.png"))
    before = files_in(upload_dir)
    fail_flush_number(monkeypatch, failing_write, errno.ENOSPC)

    response = upload(root_client, registrant, noise_png(40))

    assert response.status_code == HTTPStatus.INSUFFICIENT_STORAGE
    assert_nothing_changed(registrant, upload_dir, before)


@pytest.mark.parametrize("failing", ["UPDATE", ""])  # "": every query
def test_when_the_database_fails_after_the_write_the_new_files_go_again(
    root_client, upload_dir, failing
):
    registrant = make_registrant(photo=make_upload("small.png"))
    before = files_in(upload_dir)
    files_written = []

    def fail_once_files_are_written(execute, sql, params, many, context):
        files_written.append(files_in(upload_dir) != before)
        if files_written[-1] and sql.startswith(failing):
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail_once_files_are_written):
        response = upload(root_client, registrant, noise_png(40))

    assert any(files_written)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert_nothing_changed(registrant, upload_dir, before)


def test_the_admin_shows_a_storage_fault_with_its_status(
    root_client, upload_dir, monkeypatch
):
    registrant = make_registrant(photo=make_upload("small.png"))
    before = files_in(upload_dir)
    fail_flush_number(monkeypatch, 1, errno.ENOSPC)
    form = admin_form_for(registrant, name="Changed Name", photo=make_upload("new.png"))

    response = root_client.post(
        f"/admin/webinars/registrant/{registrant.pk}/change/", form
    )

    assert response.status_code == HTTPStatus.INSUFFICIENT_STORAGE
    assert "the upload volume is full" in response.content.decode()
    assert_nothing_changed(registrant, upload_dir, before)
    assert registrant.name == "Ada Lovelace"  # the whole change was rolled back


def test_a_file_in_the_way_of_the_photos_directory_is_a_503(root_client, upload_dir):
    (upload_dir / "photos").write_text("not a directory")
    registrant = make_registrant()

    response = upload(root_client, registrant, noise_png(40))

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "the upload storage failed" in response.json()["error"]
    registrant.refresh_from_db()
    assert not registrant.photo
    assert files_in(upload_dir) == {"photos"}
