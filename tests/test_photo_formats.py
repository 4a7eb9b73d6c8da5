"""
What phones send is accepted: HEIC/HEIF and AVIF stills are stored as JPEG
(WebP with transparency), upright and without metadata; sequences are
refused; the accepted formats are one table that messages, the file input
and the docs agree with.
"""

from __future__ import annotations

import io
import struct
from http import HTTPStatus
from pathlib import Path

import pillow_heif
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from tests.factories import decode, files_in, make_registrant
from tests.photo_samples import animated, encoded, exif_of
from webinars import formats
from webinars.forms import PhotoForm
from webinars.photos import TRANSPOSES

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def upload(client, registrant, name, content):
    photo = SimpleUploadedFile(name, content, "application/octet-stream")
    return client.post(f"/upload-photo/{registrant.pk}", {"photo": photo}, **JSON)


def landscape(mode="RGB") -> Image.Image:
    """Left half red, right half blue, as the camera saw it (before turning)."""
    image = Image.new(mode, (80, 40), "red")
    image.paste((0, 0, 255), (40, 0, 80, 40))
    return image


def with_clear_half() -> Image.Image:
    image = landscape("RGBA")
    image.paste((0, 0, 0, 0), (0, 0, 40, 40))
    return image


def stored(upload_dir, registrant) -> tuple[bytes, Image.Image]:
    registrant.refresh_from_db()
    data = (upload_dir / registrant.photo.name).read_bytes()
    return data, decode(data)


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_heic_and_avif_stills_are_stored_as_upright_jpeg_without_location(
    root_client, upload_dir, fmt
):
    # Orientation 6: the phone was turned; HEIC carries it as irot, AVIF too.
    original = encoded(landscape(), fmt, exif=exif_of(6))
    registrant = make_registrant()

    response = upload(root_client, registrant, "IMG_0001.HEIC", original)

    assert response.status_code == HTTPStatus.OK
    data, image = stored(upload_dir, registrant)
    assert registrant.photo.name.endswith(".jpg") and image.format == "JPEG"
    assert image.size == (40, 80)
    top, bottom = image.getpixel((20, 10)), image.getpixel((20, 70))
    assert top[0] > 200 and top[2] < 60  # red on top: upright
    assert bottom[2] > 200 and bottom[0] < 60
    assert not dict(image.getexif())
    assert b"PhoneMaker" not in data and "icc_profile" not in image.info


def quadrants() -> Image.Image:
    """Red, blue / green, yellow: every turn and mirror of it looks different."""
    image = Image.new("RGB", (80, 40), "red")
    image.paste((0, 0, 255), (40, 0, 80, 20))
    image.paste((0, 200, 0), (0, 20, 40, 40))
    image.paste((255, 255, 0), (40, 20, 80, 40))
    return image


@pytest.mark.parametrize("orientation", range(2, 9))
@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_every_orientation_of_heic_and_avif_is_applied(
    root_client, upload_dir, fmt, orientation
):
    picture = quadrants()
    expected = picture.transpose(TRANSPOSES[orientation])  # what viewers show
    registrant = make_registrant()

    upload(
        root_client,
        registrant,
        "turned.heic",
        encoded(picture, fmt, exif=exif_of(orientation)),
    )

    _, image = stored(upload_dir, registrant)
    assert image.size == expected.size
    width, height = expected.size
    for x in (width // 4, width * 3 // 4):
        for y in (height // 4, height * 3 // 4):
            shown, wanted = image.getpixel((x, y)), expected.getpixel((x, y))
            assert max(abs(a - b) for a, b in zip(shown, wanted, strict=True)) < 60


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_heic_and_avif_with_transparency_are_stored_as_webp_keeping_it(
    root_client, upload_dir, fmt
):
    registrant = make_registrant()

    upload(root_client, registrant, "cut-out.heic", encoded(with_clear_half(), fmt))

    _, image = stored(upload_dir, registrant)
    assert registrant.photo.name.endswith(".webp") and image.mode == "RGBA"
    assert image.getpixel((5, 5))[3] == 0
    assert image.getpixel((60, 30))[3] == 255
    thumb = decode(
        b"".join(root_client.get(registrant.photo_small_url).streaming_content)
    )
    assert thumb.mode == "RGBA" and thumb.getpixel((1, 1))[3] == 0


@pytest.mark.parametrize(("fmt", "name"), [("HEIF", "HEIC"), ("AVIF", "AVIF")])
def test_heic_and_avif_sequences_are_refused_as_animated(
    root_client, upload_dir, fmt, name
):
    registrant = make_registrant()

    response = upload(root_client, registrant, "burst.heic", animated(fmt))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == (
        f"Animated images are not accepted; this is an animated {name}. "
        "Upload a still photo."
    )
    assert files_in(upload_dir) == set()


def test_a_12_bit_jpeg_is_told_to_be_exported_as_8_bit(root_client, upload_dir):
    jpeg = bytearray(encoded(landscape(), "JPEG"))
    frame = jpeg.index(b"\xff\xc0")
    jpeg[frame + 4] = 12  # the frame's sample precision, as 12-bit cameras write
    registrant = make_registrant()

    response = upload(root_client, registrant, "raw-ish.jpg", bytes(jpeg))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == (
        "This JPEG uses 12-bit samples, which browsers cannot show; export it as "
        "an 8-bit JPEG and try again."
    )


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "PNG"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 40, "JPEG"),
        (b"\x00\x00\x00\x1cftypavif" + b"\x00" * 40, "AVIF"),
        (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 40, "HEIC"),
    ],
    ids=["png", "jpeg", "avif", "heic"],
)
def test_a_damaged_header_is_named_by_the_format_it_claims(root_client, content, name):
    response = upload(root_client, make_registrant(), "x", content)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == (
        f"This {name} file is damaged or incomplete and cannot be read."
    )


def test_the_file_input_accepts_what_the_table_accepts():
    accept = PhotoForm()["photo"].as_widget()

    for media_type in ("image/jpeg", "image/png", "image/webp", "image/gif"):
        assert media_type in accept
    for media_type in ("image/heic", "image/heif", "image/avif", ".heic"):
        assert media_type in accept


def test_the_rule_and_the_docs_name_every_accepted_format():
    docs = (Path(__file__).parents[1] / "docs" / "uploads.md").read_text()

    assert formats.RULE == "Photos must be JPEG, PNG, WebP, GIF, HEIC or AVIF"
    for photo_format in formats.ACCEPTED:
        assert f"| {photo_format.name} |" in docs


def test_metadata_of_heic_never_reaches_thumbnails(root_client):
    registrant = make_registrant()
    upload(
        root_client, registrant, "a.heic", encoded(landscape(), "HEIF", exif=exif_of())
    )
    registrant.refresh_from_db()

    for url in (registrant.photo_small_url, registrant.photo_medium_url):
        served = b"".join(root_client.get(url).streaming_content)
        assert b"PhoneMaker" not in served
        assert not decode(served).getexif().get_ifd(ExifTags.IFD.GPSInfo)


@pytest.mark.parametrize(
    ("mode", "samples", "expected"),
    [("RGB;16", (40000, 20000, 10000), (156, 78, 39)), ("L;16", (32768,), (128,))],
    ids=["colour", "grey"],
)
def test_a_10_bit_heic_is_stored_in_8_bits_with_its_tones(
    root_client, upload_dir, mode, samples, expected
):
    pixels = struct.pack(f"<{len(samples)}H", *samples) * (32 * 32)
    heic = io.BytesIO()
    pillow_heif.from_bytes(mode, (32, 32), pixels).save(heic, quality=95)
    registrant = make_registrant()

    upload(root_client, registrant, "hdr.heic", heic.getvalue())

    _, image = stored(upload_dir, registrant)
    shown = image.getpixel((16, 16))
    shown = shown if isinstance(shown, tuple) else (shown,)
    assert all(abs(a - b) <= 3 for a, b in zip(shown, expected, strict=True))
