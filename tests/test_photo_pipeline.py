"""
The upload pipeline's shortcuts give the photo it always gave: thumbnails
cut from the pixels in memory match those cut from the stored file, and the
stored file is not decoded a second time.
"""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageChops, ImageDraw, ImageStat

from webinars import files, photos


def portrait_jpeg() -> bytes:
    image = Image.linear_gradient("L").resize((900, 1400)).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.ellipse((250, 200, 650, 700), fill=(220, 170, 140))
    draw.rectangle((150, 800, 750, 1400), fill=(30, 60, 150))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def test_thumbnails_from_memory_match_thumbnails_from_the_stored_photo(
    monkeypatch,
):
    prepared = photos.prepare_photo(
        SimpleUploadedFile("p.jpg", portrait_jpeg(), "image/jpeg")
    )
    decoded = []
    real = photos.thumbnails_of
    monkeypatch.setattr(
        photos, "thumbnails_of", lambda *a, **k: decoded.append(a) or real(*a, **k)
    )

    from_memory = photos.thumbnails_of_prepared(prepared, files.THUMBNAIL_EDGES)

    assert decoded == []
    from_stored = real(prepared.content, files.THUMBNAIL_EDGES)
    for size, edge in files.THUMBNAIL_EDGES.items():
        mine, theirs = (
            Image.open(io.BytesIO(thumbnails[size])).convert("RGB")
            for thumbnails in (from_memory, from_stored)
        )
        assert mine.size == theirs.size == (edge, edge)
        difference = ImageStat.Stat(ImageChops.difference(mine, theirs)).mean
        assert max(difference) < 3, difference  # of 255: JPEG's loss, no more


def test_a_crop_centre_moves_the_square_as_imageops_fit_does():
    image = Image.new("RGB", (300, 100), "white")
    ImageDraw.Draw(image).rectangle((200, 0, 299, 99), fill="black")

    thumbnails = photos.make_thumbnails(image, {"t": 50}, focus=(1.0, 0.5))

    square = Image.open(io.BytesIO(thumbnails["t"])).convert("L")
    assert square.getpixel((25, 25)) < 30  # the right end: black
    left = photos.make_thumbnails(image, {"t": 50}, focus=(0.0, 0.5))["t"]
    assert Image.open(io.BytesIO(left)).convert("L").getpixel((25, 25)) > 225


def large_palette_png(*, transparent: bool) -> bytes:
    image = Image.new("RGB", (1300, 2000), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((200, 300, 1100, 1200), fill=(200, 40, 40))
    image = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    buffer = io.BytesIO()
    options = {"transparency": image.getpixel((0, 0))} if transparent else {}
    image.save(buffer, "PNG", **options)
    return buffer.getvalue()


@pytest.mark.parametrize("transparent", [False, True])
def test_a_large_palette_photo_gets_thumbnails_like_the_stored_ones(transparent):
    data = large_palette_png(transparent=transparent)
    prepared = photos.prepare_photo(SimpleUploadedFile("p.png", data, "image/png"))

    from_memory = photos.thumbnails_of_prepared(prepared, files.THUMBNAIL_EDGES)
    from_stored = photos.thumbnails_of(prepared.content, files.THUMBNAIL_EDGES)

    for size in files.THUMBNAIL_EDGES:
        mine, theirs = (
            Image.open(io.BytesIO(thumbnails[size])).convert("RGBA")
            for thumbnails in (from_memory, from_stored)
        )
        assert mine.getpixel((0, 0))[3] == theirs.getpixel((0, 0))[3]
        difference = ImageStat.Stat(ImageChops.difference(mine, theirs)).mean
        assert max(difference) < 3, difference
