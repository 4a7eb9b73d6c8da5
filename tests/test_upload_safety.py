"""
Only real images get in, through every upload path, and nothing of a refused
upload is kept anywhere.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from tests.bad_inputs import CATALOGUE, HOSTILE_NAMES, JPEG, PNG
from tests.factories import (
    admin_form,
    decode,
    files_in,
    make_image_bytes,
    make_registrant,
)
from webinars.models import PhotoEvent, Registrant

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def typed_form(webinar, **fields):
    typed = {
        "name": "Typed Name",
        "email": "typed@example.com",
        "company": "Typed Company",
        "notes": "typed notes",
    }
    return admin_form(webinar, **typed | fields)


def upload_through(route, client, registrant, name, content):
    photo = SimpleUploadedFile(name, content, "image/jpeg")
    if route == "admin":
        url = f"/admin/webinars/registrant/{registrant.pk}/change/"
        return client.post(url, typed_form(registrant.webinar, photo=photo))
    return client.post(f"/upload-photo/{registrant.pk}", {"photo": photo}, **JSON)


def message_of(route, response) -> str:
    if route == "admin":
        return response.content.decode()
    return response.json()["error"]


@pytest.mark.parametrize("route", ["admin", "endpoint"])
@pytest.mark.parametrize(
    ("name", "content", "status", "message"),
    [case[1:] for case in CATALOGUE],
    ids=[case[0] for case in CATALOGUE],
)
def test_every_bad_input_is_refused_and_leaves_nothing_behind(
    root_client,
    upload_dir,
    upload_temp_dir,
    caplog,
    route,
    name,
    content,
    status,
    message,
):
    registrant = make_registrant()
    caplog.set_level(logging.WARNING)

    response = upload_through(route, root_client, registrant, name, content)

    assert response.status_code == status
    assert message in message_of(route, response)
    assert files_in(upload_dir) == set()
    assert files_in(upload_temp_dir) == set()
    registrant.refresh_from_db()
    assert not registrant.photo
    assert registrant.name == "Ada Lovelace"  # nothing else saved either
    assert not PhotoEvent.objects.exists()
    ours = [r for r in caplog.records if r.name.startswith("webinars")]
    assert len(ours) == 1 and ours[0].levelno == logging.WARNING


def test_a_refused_admin_upload_keeps_what_was_typed(root_client):
    registrant = make_registrant()

    response = upload_through(
        "admin", root_client, registrant, "x.svg", CATALOGUE[1][2]
    )

    page = response.content.decode()
    for typed in ("Typed Name", "typed@example.com", "Typed Company", "typed notes"):
        assert typed in page


def test_a_refused_upload_of_a_new_registrant_creates_nothing(root_client, upload_dir):
    webinar = make_registrant().webinar
    form = typed_form(webinar, email="new@example.com")
    form["photo"] = SimpleUploadedFile("x.html", b"<html><script>x</script></html>")

    response = root_client.post("/admin/webinars/registrant/add/", form)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not Registrant.objects.filter(email="new@example.com").exists()
    assert files_in(upload_dir) == set()


@pytest.mark.parametrize("route", ["admin", "endpoint"])
@pytest.mark.parametrize(
    ("name", "shown"),
    [case[1:] for case in HOSTILE_NAMES],
    ids=[case[0] for case in HOSTILE_NAMES],
)
def test_hostile_file_names_are_never_used_and_shown_as_plain_text(
    root_client, upload_dir, route, name, shown
):
    registrant = make_registrant()

    response = upload_through(route, root_client, registrant, name, JPEG)

    assert response.status_code in (HTTPStatus.OK, HTTPStatus.FOUND)
    registrant.refresh_from_db()
    assert re.fullmatch(r"photos/[0-9a-f]{32}(-private)?\.jpg", registrant.photo.name)
    assert files_in(upload_dir) <= {
        n for n in files_in(upload_dir) if n.startswith("photos/")
    }
    assert registrant.photo_original_name == shown
    page = root_client.get("/webinar-registrants/").content.decode()
    assert 'onerror="alert(1)">' not in page
    assert "\u202e" not in page


def test_the_type_comes_from_the_content_not_the_name(root_client, upload_dir):
    registrant = make_registrant()

    upload_through("endpoint", root_client, registrant, "really-a-png.jpg", PNG)

    registrant.refresh_from_db()
    assert registrant.photo.name.endswith(".png")
    assert decode((upload_dir / registrant.photo.name).read_bytes()).format == "PNG"


def exif_with_gps_and_orientation(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 29.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 17.0, 40.0)
    return exif


def phone_photo(fmt="JPEG", orientation=1) -> bytes:
    """A landscape photo, left half red, right half blue, with GPS and more."""
    import io

    image = Image.new("RGB", (80, 40), "red")
    image.paste((0, 0, 255), (40, 0, 80, 40))
    buffer = io.BytesIO()
    extra = {"comment": b"taken at home, 12 Secret Lane"} if fmt == "JPEG" else {}
    image.save(
        buffer,
        fmt,
        exif=exif_with_gps_and_orientation(orientation),
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">Secret Lane</x:xmpmeta>',
        **extra,
    )
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_no_location_or_other_metadata_reaches_the_served_bytes(root_client, fmt):
    original = phone_photo(fmt)
    assert decode(original).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # it was there
    registrant = make_registrant()

    upload_through("endpoint", root_client, registrant, "holiday", original)

    registrant.refresh_from_db()
    for url in (
        registrant.photo.url,
        registrant.photo_small_url,
        registrant.photo_medium_url,
    ):
        served = b"".join(root_client.get(url).streaming_content)
        image = decode(served)
        assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert not dict(image.getexif())
        assert b"Secret Lane" not in served
        assert b"PhoneMaker" not in served
        assert "xmp" not in image.info and "comment" not in image.info


def test_exif_orientation_is_applied_to_the_pixels(root_client, upload_dir):
    registrant = make_registrant()

    # Orientation 6: the camera was turned; viewers rotate 90° clockwise.
    upload_through(
        "endpoint", root_client, registrant, "turned.jpg", phone_photo(orientation=6)
    )

    registrant.refresh_from_db()
    stored = decode((upload_dir / registrant.photo.name).read_bytes())
    assert stored.size == (40, 80)
    red, blue = stored.convert("RGB").getpixel((20, 10)), stored.getpixel((20, 70))
    assert red[0] > 200 and red[2] < 60
    assert blue[2] > 200 and blue[0] < 60


def test_large_photos_are_stored_at_most_2048_pixels_wide(root_client, upload_dir):
    registrant = make_registrant()

    upload_through(
        "endpoint",
        root_client,
        registrant,
        "big.png",
        make_image_bytes(size=(4000, 1000)),
    )

    registrant.refresh_from_db()
    assert decode((upload_dir / registrant.photo.name).read_bytes()).size == (2048, 512)


def test_thumbnails_are_small_and_medium_squares(root_client, upload_dir):
    registrant = make_registrant()

    upload_through(
        "endpoint",
        root_client,
        registrant,
        "wide.png",
        make_image_bytes(size=(300, 100)),
    )

    registrant.refresh_from_db()
    small = root_client.get(registrant.photo_small_url)
    medium = root_client.get(registrant.photo_medium_url)
    assert decode(b"".join(small.streaming_content)).size == (128, 128)
    assert decode(b"".join(medium.streaming_content)).size == (384, 384)


def test_transparency_survives_in_png_and_thumbnails(root_client, upload_dir):
    import io

    buffer = io.BytesIO()
    Image.new("RGBA", (50, 50), (255, 0, 0, 0)).save(buffer, "PNG")
    registrant = make_registrant()

    upload_through("endpoint", root_client, registrant, "clear.png", buffer.getvalue())

    registrant.refresh_from_db()
    assert (
        decode((upload_dir / registrant.photo.name).read_bytes()).getpixel((1, 1))[3]
        == 0
    )
    thumb = decode(
        b"".join(root_client.get(registrant.photo_small_url).streaming_content)
    )
    assert thumb.mode == "RGBA" and thumb.getpixel((1, 1))[3] == 0


def test_public_photos_are_cached_forever_and_thumbnails_revalidated(
    root_client, upload_dir
):
    registrant = make_registrant(is_public=True)
    upload_through("endpoint", root_client, registrant, "me.jpg", JPEG)
    registrant.refresh_from_db()
    (upload_dir / "photos" / "legacy-name.jpg").write_bytes(JPEG)

    photo = root_client.get(registrant.photo.url)
    assert photo["Cache-Control"] == "public, max-age=31536000, immutable"
    # Thumbnails are rebuilt in place (rebuild_thumbnails); other names may
    # be reused: both are revalidated, cheaply, with their ETag.
    for url in (registrant.photo_small_url, "/static/uploads/photos/legacy-name.jpg"):
        assert root_client.get(url)["Cache-Control"] == "no-cache"
    for response in (photo, root_client.get(registrant.photo_small_url)):
        assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert response["Cross-Origin-Resource-Policy"] == "same-site"


def test_files_and_directories_get_explicit_permissions(root_client, upload_dir):
    old_umask = os.umask(0o077)  # a strict umask must not make files unreadable
    try:
        registrant = make_registrant()
        upload_through("endpoint", root_client, registrant, "me.jpg", JPEG)
    finally:
        os.umask(old_umask)

    registrant.refresh_from_db()
    for name in files_in(upload_dir):
        assert stat.S_IMODE((upload_dir / name).stat().st_mode) == 0o644
    for directory in (upload_dir / "photos", upload_dir / "photos" / "thumbs"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o755


def test_an_image_pillow_cannot_write_back_is_refused_not_a_500(
    root_client, upload_dir, monkeypatch
):
    def cannot_write(image, target, **options):
        raise OSError(f"cannot write mode {image.mode} as {target}")

    monkeypatch.setattr("webinars.encoding.encode", cannot_write)
    registrant = make_registrant()

    response = upload_through("endpoint", root_client, registrant, "odd.png", PNG)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "uses a colour format that cannot be stored" in response.json()["error"]
    assert files_in(upload_dir) == set()
