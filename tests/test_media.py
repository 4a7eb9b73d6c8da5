"""Serving uploads at /static/uploads/ (webinars.views.media.serve)."""

from __future__ import annotations

import os
from http import HTTPStatus

import pytest
from django.utils.http import http_date

from tests.factories import make_image_bytes

# The view reads the withheld deletions (services.withheld_names) now and then.
pytestmark = pytest.mark.django_db

PHOTO_URL = "/static/uploads/photos/portrait.png"


@pytest.fixture
def photo(upload_dir):
    path = upload_dir / "photos" / "portrait.png"
    path.parent.mkdir()
    path.write_bytes(make_image_bytes())
    return path


def test_get_streams_the_file_with_type_length_and_validators(client, photo):
    response = client.get(PHOTO_URL)

    assert response.status_code == HTTPStatus.OK
    assert response.streaming
    assert b"".join(response.streaming_content) == photo.read_bytes()
    assert response["Content-Type"] == "image/png"
    assert response["Content-Length"] == str(photo.stat().st_size)
    assert response["Last-Modified"] == http_date(int(photo.stat().st_mtime))
    assert response["ETag"].startswith('"')
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Content-Disposition"] == 'inline; filename="portrait.png"'


def test_head_sends_the_headers_of_get_without_a_body(client, photo):
    get = client.get(PHOTO_URL)
    head = client.head(PHOTO_URL)

    assert head.status_code == HTTPStatus.OK
    assert head.content == b""
    for header in ("Content-Type", "Content-Length", "ETag", "Last-Modified"):
        assert head[header] == get[header]


def test_if_none_match_with_the_current_etag_answers_304(client, photo):
    etag = client.get(PHOTO_URL)["ETag"]

    response = client.get(PHOTO_URL, headers={"If-None-Match": etag})

    assert response.status_code == HTTPStatus.NOT_MODIFIED
    assert response.content == b""
    assert response["ETag"] == etag


def test_if_modified_since_the_last_change_answers_304(client, photo):
    last_modified = client.get(PHOTO_URL)["Last-Modified"]

    response = client.get(PHOTO_URL, headers={"If-Modified-Since": last_modified})

    assert response.status_code == HTTPStatus.NOT_MODIFIED
    assert response["Last-Modified"] == last_modified


def test_a_changed_file_is_sent_again_despite_old_validators(client, photo):
    old = client.get(PHOTO_URL)
    photo.write_bytes(make_image_bytes(size=(64, 64)))
    mtime = photo.stat().st_mtime + 10
    os.utime(photo, (mtime, mtime))

    response = client.get(
        PHOTO_URL,
        headers={
            "If-None-Match": old["ETag"],
            "If-Modified-Since": old["Last-Modified"],
        },
    )

    assert response.status_code == HTTPStatus.OK
    assert b"".join(response.streaming_content) == photo.read_bytes()


def test_head_honours_validators_too(client, photo):
    etag = client.get(PHOTO_URL)["ETag"]

    response = client.head(PHOTO_URL, headers={"If-None-Match": etag})

    assert response.status_code == HTTPStatus.NOT_MODIFIED


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_only_get_and_head_are_allowed(client, photo, method):
    response = getattr(client, method)(PHOTO_URL)

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Allow"] == "GET, HEAD"
    assert photo.exists()


def test_a_file_that_is_not_an_image_is_sent_as_an_attachment(client, photo):
    (photo.parent / "page.html").write_text("<script>alert(1)</script>")

    response = client.get("/static/uploads/photos/page.html")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/html")
    assert response["Content-Disposition"] == 'attachment; filename="page.html"'
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


@pytest.mark.parametrize(
    "path",
    [
        "photos/missing.png",
        "photos",
        "photos/",
        "",
        ".gitignore",
        "photos/.hidden.png",
        "photos//portrait.png",
        "./photos/portrait.png",
    ],
)
def test_missing_files_directories_and_hidden_names_are_404(client, photo, path):
    (photo.parent / ".hidden.png").write_bytes(b"x")
    (photo.parent.parent / ".gitignore").write_text("*")

    response = client.get(f"/static/uploads/{path}")

    assert response.status_code == HTTPStatus.NOT_FOUND


SECRET = b"outside the upload dir"

TRAVERSALS = [
    "../secret.txt",
    "photos/../../secret.txt",
    "%2e%2e/secret.txt",
    "%2E%2E%2Fsecret.txt",
    "photos%2f..%2f..%2fsecret.txt",
    "..%5csecret.txt",
    "photos\\..\\..\\secret.txt",
    "%252e%252e%252fsecret.txt",
    "%c0%ae%c0%ae/secret.txt",
    "..%00/secret.txt",
    "photos/portrait.png%00.txt",
    "/SECRET_ABSOLUTE",
    "//SECRET_ABSOLUTE",
]


@pytest.mark.parametrize("spelling", TRAVERSALS)
def test_no_spelling_of_a_path_reaches_outside_upload_dir(client, photo, spelling):
    outside = photo.parent.parent.parent / "secret.txt"
    outside.write_bytes(SECRET)
    spelling = spelling.replace("SECRET_ABSOLUTE", str(outside).lstrip("/"))

    response = client.get(f"/static/uploads/{spelling}")

    assert response.status_code in (HTTPStatus.NOT_FOUND, HTTPStatus.BAD_REQUEST)
    assert SECRET not in b"".join(getattr(response, "streaming_content", [])) + (
        b"" if response.streaming else response.content
    )


def test_a_symlink_leading_outside_upload_dir_is_404(client, upload_dir, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_bytes(SECRET)
    (upload_dir / "photos").mkdir()
    (upload_dir / "photos" / "link.png").symlink_to(outside)
    (upload_dir / "escape").symlink_to(tmp_path, target_is_directory=True)

    assert (
        client.get("/static/uploads/photos/link.png").status_code
        == HTTPStatus.NOT_FOUND
    )
    assert (
        client.get("/static/uploads/escape/secret.txt").status_code
        == HTTPStatus.NOT_FOUND
    )
    (upload_dir / "photos" / "escape").symlink_to(tmp_path, target_is_directory=True)
    assert (
        client.get("/static/uploads/photos/escape/secret.txt").status_code
        == HTTPStatus.NOT_FOUND
    )


def test_a_symlink_even_within_upload_dir_is_404(client, photo, upload_dir):
    # The app writes regular files only; a symlink is someone else's doing.
    (photo.parent / "alias.png").symlink_to(photo)
    (photo.parent / "again").symlink_to(photo.parent, target_is_directory=True)

    assert client.get("/static/uploads/photos/alias.png").status_code == 404
    assert client.get("/static/uploads/photos/again/portrait.png").status_code == 404
    assert client.get(PHOTO_URL).status_code == HTTPStatus.OK


def test_a_hard_link_is_404_whatever_it_links(client, photo, tmp_path, upload_dir):
    outside = tmp_path / "secret.txt"
    outside.write_bytes(SECRET)
    os.link(outside, upload_dir / "photos" / "hard.png")

    response = client.get("/static/uploads/photos/hard.png")

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_upload_dir_reached_through_a_symlink_is_served(client, settings, tmp_path):
    real = tmp_path / "volume"
    (real / "photos").mkdir(parents=True)
    (real / "photos" / "portrait.png").write_bytes(make_image_bytes())
    (tmp_path / "mounted").symlink_to(real, target_is_directory=True)
    settings.MEDIA_ROOT = str(tmp_path / "mounted")

    assert client.get(PHOTO_URL).status_code == HTTPStatus.OK


@pytest.mark.parametrize("name", ["db.sqlite3", "notes/private.txt", "photos.png"])
def test_only_upload_directories_of_the_models_are_served(client, upload_dir, name):
    # UPLOAD_DIR=/data next to DATABASE_URL=sqlite:////data/db.sqlite3 must
    # not publish the database.
    (upload_dir / name).parent.mkdir(exist_ok=True)
    (upload_dir / name).write_bytes(SECRET)

    response = client.get(f"/static/uploads/{name}")

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_a_fifo_is_404_without_blocking(client, photo):
    os.mkfifo(photo.parent / "pipe.png")

    assert (
        client.get("/static/uploads/photos/pipe.png").status_code
        == HTTPStatus.NOT_FOUND
    )


def test_requests_anyone_can_make_leave_no_warning_in_the_log(client, photo, caplog):
    for path in ("photos/missing.png", "photos/" + "x" * 300, "photos/portrait.png/x"):
        assert client.get(f"/static/uploads/{path}").status_code == HTTPStatus.NOT_FOUND

    assert "cannot be opened" not in caplog.text


def test_a_file_the_server_cannot_read_is_404_and_logged(client, photo, caplog):
    if os.geteuid() == 0:
        pytest.skip("root reads every file; permissions cannot be denied to it")
    photo.chmod(0)

    response = client.get(PHOTO_URL)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "cannot be opened" in caplog.text
