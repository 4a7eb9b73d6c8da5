"""
Uploads on the local disk answered by webinars.views.localmedia: single byte
ranges, If-Range, 416, HEAD, 304s from stat alone, offload to a proxy. Every
test runs twice: through Django's test client (UploadFilesMiddleware) and
through the production WSGI application (UploadFiles, before Django).
"""

from __future__ import annotations

import os
from http import HTTPStatus

import pytest

from tests.wsgi import WsgiClient
from webinars import services
from webinars.views import localmedia

# The view reads the withheld deletions (services.withheld_names) now and then.
pytestmark = pytest.mark.django_db

NAME = "photos/" + "ab" * 16 + ".jpg"
URL = f"/static/uploads/{NAME}"
CONTENT = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture(params=["middleware", "wsgi"])
def client(request, client, monkeypatch):
    """Django's test client, or the WSGI entry point with its fast path warm."""
    if request.param == "middleware":
        return client
    monkeypatch.setattr(services, "WITHHELD_REFRESH_SECONDS", 3600)
    services.withheld_names()
    return WsgiClient()


@pytest.fixture
def photo(upload_dir):
    path = upload_dir / NAME
    path.parent.mkdir()
    path.write_bytes(CONTENT)
    return path


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else b""


@pytest.mark.parametrize(
    ("spec", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=10000-", 10000, 10239),
        ("bytes=-40", 10200, 10239),
    ],
)
def test_a_single_range_is_answered_206_with_just_those_bytes(
    client, photo, spec, first, last
):
    response = client.get(URL, headers={"Range": spec})

    assert response.status_code == HTTPStatus.PARTIAL_CONTENT
    assert body(response) == CONTENT[first : last + 1]
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(CONTENT)}"
    assert response["Content-Length"] == str(last - first + 1)
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_a_range_past_the_end_is_cut_at_the_end_of_the_file(client, photo):
    response = client.get(URL, headers={"Range": "bytes=10000-99999"})

    assert response.status_code == HTTPStatus.PARTIAL_CONTENT
    assert body(response) == CONTENT[10000:]


@pytest.mark.parametrize("spec", ["bytes=10240-", "bytes=20000-20001", "bytes=-0"])
def test_an_unsatisfiable_range_is_416_with_the_size(client, photo, spec):
    response = client.get(URL, headers={"Range": spec})

    assert response.status_code == HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE
    assert response["Content-Range"] == f"bytes */{len(CONTENT)}"
    assert response["Content-Length"] == "0"


@pytest.mark.parametrize("spec", ["bytes=0-1,5-9", "bytes=9-1", "items=0-1", "bytes=x"])
def test_multiple_or_malformed_ranges_get_the_whole_file(client, photo, spec):
    response = client.get(URL, headers={"Range": spec})

    assert response.status_code == HTTPStatus.OK
    assert body(response) == CONTENT
    assert "Content-Range" not in response


def test_if_range_with_the_current_etag_or_date_honours_the_range(client, photo):
    full = client.get(URL)
    for validator in (full["ETag"], full["Last-Modified"]):
        response = client.get(
            URL, headers={"Range": "bytes=0-9", "If-Range": validator}
        )
        assert response.status_code == HTTPStatus.PARTIAL_CONTENT
        assert body(response) == CONTENT[:10]


def test_if_range_with_an_old_validator_sends_the_whole_file(client, photo):
    response = client.get(URL, headers={"Range": "bytes=0-9", "If-Range": '"1-2"'})

    assert response.status_code == HTTPStatus.OK
    assert body(response) == CONTENT


def test_head_sends_the_headers_of_get_and_never_opens_the_file(
    client, photo, monkeypatch
):
    get = client.get(URL)
    opened = spy_on_opens(monkeypatch)

    head = client.head(URL)

    assert head.status_code == HTTPStatus.OK
    assert head.content == b""
    for header in ("Content-Type", "Content-Length", "ETag", "Cache-Control"):
        assert head[header] == get[header]
    assert photo.name not in opened


def test_a_304_is_answered_from_stat_without_opening_the_file(
    client, photo, monkeypatch
):
    etag = client.get(URL)["ETag"]
    opened = spy_on_opens(monkeypatch)

    response = client.get(URL, headers={"If-None-Match": f'"x", W/{etag}'})

    assert response.status_code == HTTPStatus.NOT_MODIFIED
    assert response["ETag"] == etag
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Content-Type" not in response
    assert photo.name not in opened


def test_if_match_with_another_etag_is_412(client, photo):
    response = client.get(URL, headers={"If-Match": '"other"'})

    assert response.status_code == HTTPStatus.PRECONDITION_FAILED


def test_a_missing_upload_is_a_plain_cheap_404(client, photo):
    response = client.get("/static/uploads/photos/" + "cd" * 16 + ".jpg")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == b"No such upload."


def test_a_directory_swapped_for_a_symlink_is_404(client, photo, upload_dir, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    (upload_dir / "photos").rename(elsewhere)
    (upload_dir / "photos").symlink_to(elsewhere)

    assert client.get(URL).status_code == HTTPStatus.NOT_FOUND


def test_accel_redirect_names_the_internal_location_after_every_check(
    client, photo, settings
):
    settings.MEDIA_ACCEL_REDIRECT = "/internal-uploads/"

    response = client.get(URL)
    missing = client.get("/static/uploads/photos/" + "cd" * 16 + ".jpg")

    assert response.status_code == HTTPStatus.OK
    assert response["X-Accel-Redirect"] == f"/internal-uploads/{NAME}"
    assert response.content == b""
    assert response["Content-Length"] == "0"  # no chunked ending for the proxy
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert missing.status_code == HTTPStatus.NOT_FOUND
    assert "X-Accel-Redirect" not in missing


def test_accel_redirect_still_answers_304_itself(client, photo, settings):
    etag = client.get(URL)["ETag"]
    settings.MEDIA_ACCEL_REDIRECT = "/internal-uploads/"

    response = client.get(URL, headers={"If-None-Match": etag})

    assert response.status_code == HTTPStatus.NOT_MODIFIED
    assert "X-Accel-Redirect" not in response


def test_sendfile_names_the_real_path_of_the_file(client, photo, settings):
    settings.MEDIA_SENDFILE = True

    response = client.get(URL)

    assert response.status_code == HTTPStatus.OK
    assert response["X-Sendfile"] == os.path.realpath(photo)
    assert response.content == b""


def test_a_hard_link_is_never_offloaded(client, photo, settings, tmp_path):
    os.link(photo, tmp_path / "other")
    settings.MEDIA_ACCEL_REDIRECT = "/internal-uploads/"

    response = client.get(URL)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "X-Accel-Redirect" not in response


def spy_on_opens(monkeypatch) -> list[str]:
    """Record the names webinars.views.localmedia opens (os.open still runs)."""
    opened: list[str] = []
    real_open = os.open

    def recording_open(path, *args, **kwargs):
        opened.append(os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(localmedia.os, "open", recording_open)
    return opened


def test_a_changed_frame_option_is_sent_at_once(client, photo, settings):
    assert client.get(URL)["X-Frame-Options"] == "DENY"

    settings.X_FRAME_OPTIONS = "SAMEORIGIN"

    assert client.get(URL)["X-Frame-Options"] == "SAMEORIGIN"
