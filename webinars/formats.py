"""
The one table of accepted photo formats and what each is stored as.

The refusal messages (webinars.photos), the file input's accept attribute
(webinars.forms) and docs/uploads.md all read it, so that they never disagree.
Pillow is not imported here: this is data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PhotoFormat:
    """An accepted format: Pillow's name for it, and how it is stored."""

    pillow: str  # Image.format as Pillow's decoder reports it
    name: str  # what users call it, in messages
    media_types: tuple[str, ...]  # for the file input's accept attribute
    suffixes: tuple[str, ...]  # also for accept: some systems know no type
    stored: str  # the Pillow format stored for an opaque image
    stored_with_alpha: str  # ... and for one with transparency


ACCEPTED = (
    PhotoFormat("JPEG", "JPEG", ("image/jpeg",), (".jpg", ".jpeg"), "JPEG", "JPEG"),
    # Phones' multi-picture JPEGs: the first picture, stored as a JPEG.
    PhotoFormat("MPO", "JPEG", (), (), "JPEG", "JPEG"),
    PhotoFormat("PNG", "PNG", ("image/png",), (".png",), "PNG", "PNG"),
    PhotoFormat("WEBP", "WebP", ("image/webp",), (".webp",), "WEBP", "WEBP"),
    PhotoFormat("GIF", "GIF", ("image/gif",), (".gif",), "GIF", "GIF"),
    # What iPhones and Samsung phones send: browsers cannot show it, so it is
    # stored as JPEG, or as WebP when it has transparency (JPEG has none).
    PhotoFormat(
        "HEIF",
        "HEIC",
        ("image/heic", "image/heif"),
        (".heic", ".heif"),
        "JPEG",
        "WEBP",
    ),
    # Browsers show AVIF, but older ones do not; JPEG is shown everywhere.
    PhotoFormat("AVIF", "AVIF", ("image/avif",), (".avif",), "JPEG", "WEBP"),
)
BY_PILLOW = {photo_format.pillow: photo_format for photo_format in ACCEPTED}
# The decoders Pillow may try, in this order (MPO comes through the JPEG one).
DECODERS = [f.pillow for f in ACCEPTED if f.pillow != "MPO"]
# What a stored photo can be, with its file extension.
STORED_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}


def _names() -> list[str]:
    return list(dict.fromkeys(f.name for f in ACCEPTED))


def _listed(words: list[str]) -> str:
    return ", ".join(words[:-1]) + " or " + words[-1]


NAMES = _names()
LISTED = _listed(NAMES)  # "JPEG, PNG, WebP, GIF, HEIC or AVIF"
RULE = f"Photos must be {LISTED}"  # "Photos must be JPEG, PNG, ... or AVIF"
ACCEPT_ATTRIBUTE = ",".join(
    [t for f in ACCEPTED for t in f.media_types]
    + [s for f in ACCEPTED for s in f.suffixes]
)


def stored_format(pillow_format: str, *, has_alpha: bool) -> str:
    """Return the Pillow format a photo decoded as pillow_format is stored as."""
    photo_format = BY_PILLOW[pillow_format]
    return photo_format.stored_with_alpha if has_alpha else photo_format.stored


def name_of(pillow_format: str) -> str:
    """Return what users call a format Pillow names pillow_format."""
    return BY_PILLOW[pillow_format].name
