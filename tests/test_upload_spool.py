"""
A large upload spools to the temporary directory (FILE_UPLOAD_TEMP_DIR) while
the request streams: when that is full, the answer is a 507 with a sentence,
in the request's format, and a log line, not a 500.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import make_registrant

pytestmark = pytest.mark.django_db

SENTENCE = (
    "The photo was not saved because the server's temporary upload space is "
    "full. Any previous photo is unchanged; please tell an administrator."
)


@pytest.fixture
def full_temp_dir(settings, tmp_path, mount_tmpfs):
    """A 64 KiB temporary directory, and uploads that spool past 16 KiB."""
    settings.FILE_UPLOAD_TEMP_DIR = str(mount_tmpfs(tmp_path / "tiny-tmp"))
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024
    return settings.FILE_UPLOAD_TEMP_DIR


def large_upload() -> dict:
    return {"photo": SimpleUploadedFile("big.jpg", b"\xff" * 200_000, "image/jpeg")}


def test_a_full_temporary_directory_is_a_json_507_with_a_log_line(
    root_client, full_temp_dir, caplog
):
    registrant = make_registrant()

    response = root_client.post(
        f"/upload-photo/{registrant.pk}",
        large_upload(),
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == HTTPStatus.INSUFFICIENT_STORAGE
    assert response.json() == {"success": False, "error": SENTENCE}
    [record] = [r for r in caplog.records if r.name == "webinars.middleware"]
    assert record.levelname == "ERROR"
    assert full_temp_dir in record.getMessage()
    assert "No space left on device" in record.getMessage()


def test_a_full_temporary_directory_is_a_507_page_for_browsers(
    root_client, full_temp_dir
):
    registrant = make_registrant()

    response = root_client.post(
        f"/admin/webinars/registrant/{registrant.pk}/change/",
        large_upload(),
        HTTP_ACCEPT="text/html",
    )

    assert response.status_code == HTTPStatus.INSUFFICIENT_STORAGE
    assert response["Content-Type"].startswith("text/html")
    assert "temporary upload space is full" in response.content.decode()
