"""
Colours look the same everywhere: every stored photo and thumbnail is sRGB,
converted from the source's profile as a colour-managed browser would show
the source; profiles that cannot be trusted are dropped; 16-bit images keep
their tones.
"""

from __future__ import annotations

import io
import zipfile
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageCms

from tests import icc
from tests.factories import decode, make_registrant
from tests.photo_samples import encoded

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
SRGB = ImageCms.createProfile("sRGB")
# Flat patches, so that resizing and compression leave their colour alone.
PATCHES = [(200, 80, 60), (60, 160, 90), (70, 90, 180), (128, 128, 128)]
CMYK_PATCHES = [(50, 100, 150, 30), (200, 20, 0, 10), (0, 0, 0, 128), (10, 180, 200, 0)]


def patches(mode: str, colours) -> Image.Image:
    image = Image.new(mode, (400, 400))
    for index, colour in enumerate(colours):
        x, y = index % 2 * 200, index // 2 * 200
        image.paste(colour, (x, y, x + 200, y + 200))
    return image


def patch_centres(size: int) -> list[tuple[int, int]]:
    return [
        (size // 4 + index % 2 * size // 2, size // 4 + index // 2 * size // 2)
        for index in range(4)
    ]


def lab(rgb) -> tuple[float, float, float]:
    """CIE Lab (D65) of an sRGB colour."""

    def linear(value):
        value /= 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(v) for v in rgb[:3])
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t):
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def delta_e(one, other) -> float:
    return sum((a - b) ** 2 for a, b in zip(lab(one), lab(other), strict=True)) ** 0.5


def as_a_browser_shows(colour, mode: str, profile: bytes):
    """The sRGB colour a colour-managed browser shows for a source pixel."""
    source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    transform = ImageCms.buildTransform(source, SRGB, mode, "RGB")
    return ImageCms.applyTransform(Image.new(mode, (1, 1), colour), transform).getpixel(
        (0, 0)
    )


def upload(client, content: bytes, name="photo.jpg"):
    registrant = make_registrant()
    photo = SimpleUploadedFile(name, content, "image/jpeg")
    response = client.post(f"/upload-photo/{registrant.pk}", {"photo": photo}, **JSON)
    assert response.status_code == HTTPStatus.OK, response.content
    registrant.refresh_from_db()
    return registrant


def served(client, url) -> bytes:
    return b"".join(client.get(url).streaming_content)


PROFILES = {
    "display-p3": icc.rgb_profile(
        icc.DISPLAY_P3, curve=icc.SRGB_CURVE, description="Display P3"
    ),
    "adobe-rgb": icc.rgb_profile(
        icc.ADOBE_RGB, curve=563 / 256, description="Adobe RGB (1998)"
    ),
}


@pytest.mark.parametrize("space", PROFILES)
def test_wide_gamut_photos_and_thumbnails_match_the_source_within_delta_e_2(
    root_client, space
):
    profile = PROFILES[space]
    source = encoded(patches("RGB", PATCHES), "JPEG", quality=95, icc_profile=profile)

    registrant = upload(root_client, source)

    for url, size in (
        (registrant.photo.url, 400),
        (registrant.photo_small_url, 128),
        (registrant.photo_medium_url, 384),
    ):
        image = decode(served(root_client, url))
        assert "icc_profile" not in image.info  # sRGB, untagged
        for colour, centre in zip(PATCHES, patch_centres(size), strict=True):
            shown = as_a_browser_shows(colour, "RGB", profile)
            assert delta_e(image.convert("RGB").getpixel(centre), shown) < 2
            # Without colour management it would be visibly off:
            if colour != (128, 128, 128):
                assert delta_e(colour, shown) > 3


def test_a_cmyk_jpeg_with_its_profile_is_converted_and_stored_as_srgb(root_client):
    profile = icc.cmyk_profile()
    source = encoded(
        patches("CMYK", CMYK_PATCHES), "JPEG", quality=95, icc_profile=profile
    )

    registrant = upload(root_client, source)

    stored = served(root_client, registrant.photo.url)
    image = decode(stored)
    assert image.mode == "RGB" and "icc_profile" not in image.info
    assert profile[128:] not in stored
    thumb = decode(served(root_client, registrant.photo_medium_url)).convert("RGB")
    for colour, centre in zip(CMYK_PATCHES, patch_centres(384), strict=True):
        assert (
            delta_e(thumb.getpixel(centre), as_a_browser_shows(colour, "CMYK", profile))
            < 2
        )


def test_a_profile_carrying_foreign_bytes_is_dropped_and_the_pixels_taken_as_srgb(
    root_client,
):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("secret.txt", "the family's bank details")
    source = encoded(patches("RGB", PATCHES), "PNG", icc_profile=archive.getvalue())

    registrant = upload(root_client, source, "graphic.png")

    stored = served(root_client, registrant.photo.url)
    assert b"PK\x03\x04" not in stored and b"secret.txt" not in stored
    image = decode(stored)
    assert "icc_profile" not in image.info
    assert image.convert("RGB").getpixel((100, 100)) == PATCHES[0]


@pytest.mark.parametrize(
    "profile",
    [
        icc.rgb_profile_without_colorants(),
        icc.cmyk_profile(),  # a CMYK profile in an RGB file
        b"\x00" * 200,
    ],
    ids=["no-colorants", "wrong-colour-space", "zeros"],
)
def test_a_profile_that_cannot_convert_the_pixels_is_dropped(root_client, profile):
    source = encoded(patches("RGB", PATCHES), "PNG", icc_profile=profile)

    registrant = upload(root_client, source, "odd.png")

    image = decode(served(root_client, registrant.photo.url))
    assert "icc_profile" not in image.info
    assert image.convert("RGB").getpixel((100, 100)) == PATCHES[0]
    thumb = decode(served(root_client, registrant.photo_small_url)).convert("RGB")
    assert delta_e(thumb.getpixel((32, 32)), PATCHES[0]) < 2


def test_text_in_a_valid_profile_never_survives(root_client):
    profile = icc.rgb_profile(
        icc.ADOBE_RGB, curve=2.2, description="Scanned at 12 Secret Lane"
    )
    source = encoded(patches("RGB", PATCHES), "JPEG", icc_profile=profile)

    registrant = upload(root_client, source)

    for url in (registrant.photo.url, registrant.photo_small_url):
        assert b"Secret Lane" not in served(root_client, url)


def test_a_16_bit_grey_png_gets_a_mid_grey_thumbnail_not_a_white_one(root_client):
    source = encoded(Image.new("I;16", (64, 64), 32768), "PNG")
    assert decode(source).mode == "I;16"

    registrant = upload(root_client, source, "scan.png")

    thumb = decode(served(root_client, registrant.photo_small_url)).convert("RGB")
    assert all(120 <= value <= 136 for value in thumb.getpixel((64, 64)))
    stored = decode(served(root_client, registrant.photo.url))
    assert stored.mode == "L" and 120 <= stored.getpixel((10, 10)) <= 136


def test_a_grey_ramp_in_16_bits_keeps_its_tones(root_client):
    ramp = Image.linear_gradient("L").resize((256, 256)).convert("I")
    ramp = ramp.point(lambda value: value * 257).convert("I;16")

    registrant = upload(root_client, encoded(ramp, "PNG"), "ramp.png")

    stored = decode(served(root_client, registrant.photo.url))
    top, bottom = stored.getpixel((128, 2)), stored.getpixel((128, 253))
    assert top <= 3 and bottom >= 252


def test_the_transparent_grey_of_a_16_bit_png_stays_transparent(root_client):
    picture = Image.new("I", (64, 64), 1000)
    picture.paste(40000, (32, 0, 64, 64))
    source = encoded(picture.convert("I;16"), "PNG", transparency=1000)

    registrant = upload(root_client, source, "cut-out.png")

    stored = decode(served(root_client, registrant.photo.url)).convert("RGBA")
    assert stored.getpixel((10, 10))[3] == 0
    assert stored.getpixel((50, 10)) == (156, 156, 156, 255)  # 40000 / 257
