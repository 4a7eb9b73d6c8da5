"""
The encoding suits the source: graphics stay sharp, small JPEGs do not grow,
PNG compression costs a bounded amount of CPU, and large JPEGs are decoded
reduced.
"""

from __future__ import annotations

import io
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageChops

from tests.factories import decode
from tests.photo_samples import encoded, scene
from webinars import sniffing
from webinars.photos import prepare_photo


def prepared(content: bytes, name: str = "photo"):
    return prepare_photo(SimpleUploadedFile(name, content))


def checkerboard(size: int = 256) -> Image.Image:
    """Red and green squares of 2 pixels: what lossy 4:2:0 WebP blurs to purple."""
    tile = Image.new("RGB", (4, 4), (230, 20, 20))
    tile.paste((20, 200, 40), (0, 0, 2, 2))
    tile.paste((20, 200, 40), (2, 2, 4, 4))
    board = Image.new("RGB", (size, size))
    for x in range(0, size, 4):
        for y in range(0, size, 4):
            board.paste(tile, (x, y))
    return board


def test_a_lossless_webp_graphic_stays_lossless_and_sharp():
    board = checkerboard()
    source = encoded(board, "WEBP", lossless=True)

    photo = prepared(source, "chart.webp")

    assert photo.format == "WEBP" and sniffing.is_lossless_webp(photo.content)
    assert (
        ImageChops.difference(decode(photo.content).convert("RGB"), board).getbbox()
        is None
    )


def test_a_lossless_webp_photo_is_stored_lossy_when_that_is_smaller():
    photo = prepared(encoded(scene((512, 384)), "WEBP", lossless=True))

    assert photo.format == "WEBP" and not sniffing.is_lossless_webp(photo.content)


def test_a_png_graphic_stays_a_sharp_png():
    board = checkerboard()

    photo = prepared(encoded(board, "PNG"), "chart.png")

    assert photo.format == "PNG"
    assert (
        ImageChops.difference(decode(photo.content).convert("RGB"), board).getbbox()
        is None
    )


@pytest.mark.parametrize("quality", [20, 40, 60])
def test_a_low_quality_jpeg_is_not_made_larger(quality):
    source = encoded(scene((1200, 900)), "JPEG", quality=quality)

    photo = prepared(source)

    assert photo.format == "JPEG"
    assert photo.size <= len(source)


def test_a_high_quality_jpeg_is_stored_at_quality_85_and_smaller():
    source = encoded(scene((1200, 900)), "JPEG", quality=98)

    photo = prepared(source)

    assert photo.size < len(source)


def test_a_smooth_2048_pixel_png_is_processed_in_bounded_time(settings):
    settings.UPLOAD_MAX_MB = 20
    noise = Image.merge("RGB", [Image.effect_noise((2048, 2048), 3) for _ in "RGB"])
    smooth = ImageChops.add(scene((2048, 2048)), noise, offset=-128)
    source = encoded(smooth, "PNG")

    started = time.process_time()
    photo = prepared(source, "render.png")
    spent = time.process_time() - started

    assert photo.format == "PNG" and (photo.width, photo.height) == (2048, 2048)
    assert spent < 15  # optimize=True took tens of seconds on such files


def test_a_jpeg_four_times_the_stored_size_is_decoded_reduced_to_exactly_2048():
    source = encoded(scene((4100, 3000)), "JPEG")
    image = Image.open(io.BytesIO(source))
    image.draft("RGB", (2048, 1499))
    assert image.size == (2050, 1500)  # what the reduced decoding gives

    photo = prepared(source)

    assert (photo.width, photo.height) == (2048, 1499)
    assert decode(photo.content).size == (2048, 1499)


def test_a_phone_jpeg_just_under_twice_the_stored_size_is_decoded_at_half_size():
    # 4000 px, a 12 MP phone's: a quarter of the pixels decoded, stored at
    # 2000 px, a little under the 2048 px edge.
    source = encoded(scene((4000, 3000)), "JPEG")

    photo = prepared(source)

    assert (photo.width, photo.height) == (2000, 1500)
    assert decode(photo.content).size == (2000, 1500)


def test_a_jpeg_under_1_9_times_the_stored_size_is_resized_to_exactly_2048():
    source = encoded(scene((3800, 1900)), "JPEG")

    photo = prepared(source)

    assert (photo.width, photo.height) == (2048, 1024)
