"""
No file makes the pipeline fail: damaged, truncated and mangled photos of
every accepted format are refused with a sentence (400), never a 500.
"""

from __future__ import annotations

import io
import random
import struct
from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests import icc
from tests.factories import files_in, make_registrant
from tests.photo_samples import encoded, exif_of, one_of_each, scene
from webinars import files
from webinars.photos import prepare_photo, thumbnails_of

SAMPLES = one_of_each()


def cut_points(data: bytes) -> list[int]:
    """Every cut in the headers, then forty spread over the rest of the file."""
    spread = {len(data) * k // 40 for k in range(1, 40)}
    return sorted({*range(1, min(64, len(data))), *spread} - {0, len(data)})


def mangled(data: bytes, count: int = 25, within: int = 0) -> list[bytes]:
    """Copies of data with a few bytes overwritten, in its first within if given."""
    rng = random.Random(13)
    copies = []
    for _ in range(count):
        copy = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            copy[rng.randrange(within or len(copy))] = rng.randrange(256)
        copies.append(bytes(copy))
    return copies


def outcome(content: bytes) -> str:
    """Prepare content as an upload is: accepted (with thumbnails) or refused."""
    try:
        photo = prepare_photo(SimpleUploadedFile("photo", content))
    except ValidationError as refused:
        assert refused.message.endswith((".", "photo."))
        return refused.code
    thumbnails_of(photo.content, files.THUMBNAIL_EDGES)
    return "accepted"


@pytest.mark.parametrize("sample", SAMPLES)
def test_a_photo_cut_short_at_any_point_is_refused_or_stored_never_an_error(sample):
    data = SAMPLES[sample]

    outcomes = {cut: outcome(data[:cut]) for cut in cut_points(data)}

    assert outcome(data) in ("accepted", "animated")
    assert set(outcomes.values()) <= {"accepted", "corrupt", "format", "animated"}
    # The header alone is never enough.
    assert outcomes[1] != "accepted" and outcomes[16] != "accepted"


@pytest.mark.parametrize("sample", SAMPLES)
def test_a_photo_with_mangled_bytes_is_refused_or_stored_never_an_error(sample):
    for content in mangled(SAMPLES[sample]):
        assert outcome(content) in (
            "accepted",
            "corrupt",
            "format",
            "animated",
            "polyglot",
            "unsupported",
            "too_many_pixels",
        )


@pytest.mark.django_db
@pytest.mark.parametrize("sample", SAMPLES)
def test_truncated_uploads_answer_400_or_200_through_the_endpoint(
    root_client, upload_dir, sample
):
    data = SAMPLES[sample]
    registrant = make_registrant()
    for cut in cut_points(data)[::8]:
        upload = SimpleUploadedFile("photo.jpg", data[:cut], "image/jpeg")

        response = root_client.post(
            f"/upload-photo/{registrant.pk}",
            {"photo": upload},
            HTTP_ACCEPT="application/json",
        )

        assert response.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST)
        if response.status_code == HTTPStatus.BAD_REQUEST:
            assert response.json()["error"].endswith(".")
    registrant.refresh_from_db()
    assert files_in(upload_dir) <= set(files.file_names(registrant.photo.name))


def test_a_gif_cut_short_after_its_first_frame_is_refused_as_damaged():
    data = SAMPLES["animated-gif"]
    second_frame = data.index(b"\x00\x21\xf9", 800) + 1  # its control extension
    cut = data[: second_frame + 12]
    # where Pillow itself raises
    with (
        Image.open(io.BytesIO(cut)) as image,
        pytest.raises((IndexError, struct.error)),
    ):
        image.is_animated  # noqa: B018

    with pytest.raises(ValidationError) as refused:
        prepare_photo(SimpleUploadedFile("cut.gif", cut))

    assert refused.value.code == "corrupt"
    assert refused.value.message == (
        "This GIF file is damaged or incomplete and cannot be read."
    )


PROFILES = {
    "display-p3": (
        icc.rgb_profile(icc.DISPLAY_P3, curve=icc.SRGB_CURVE, description="P3"),
        "RGB",
    ),
    "cmyk": (icc.cmyk_profile(), "CMYK"),
}


@pytest.mark.parametrize("name", PROFILES)
def test_a_photo_with_a_mangled_colour_profile_is_stored_or_refused(name):
    profile, mode = PROFILES[name]
    # The header (128 bytes) and the tag table most of all, then anywhere.
    for mangled_profile in mangled(profile, 60, within=200) + mangled(profile, 30):
        photo = encoded(
            scene((48, 32)).convert(mode), "JPEG", icc_profile=mangled_profile
        )

        assert outcome(photo) in ("accepted", "corrupt", "unsupported")


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "HEIF", "AVIF"])
def test_a_photo_with_mangled_exif_is_stored_or_refused(fmt):
    outcomes = []
    for exif in mangled(exif_of(6), 40):
        try:
            photo = encoded(scene((48, 32)), fmt, exif=exif)
        except SyntaxError:  # Pillow's AVIF writer reads the EXIF it is given
            continue
        outcomes.append(outcome(photo))

    assert len(outcomes) > 20
    assert set(outcomes) <= {"accepted", "corrupt"}
