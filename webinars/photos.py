"""
Deciding what is a photo, and preparing what is stored.

The only validation path for uploads: the admin, the staff page, the
endpoints and the management commands all call prepare_photo(). The type is
decided by decoding the content with Pillow, never by the name or the
client's Content-Type, and what is stored is re-encoded from the decoded
pixels, so no metadata and no foreign bytes survive.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from webinars import sniffing
from webinars.uploadhandler import RefusedUpload, max_upload_bytes, too_large_message

# Pillow format → what users call it and the stored extension.
ACCEPTED = {
    "JPEG": ("JPEG", "jpg"),
    "MPO": ("JPEG", "jpg"),  # phones' multi-picture JPEGs: the first picture
    "PNG": ("PNG", "png"),
    "WEBP": ("WebP", "webp"),
    "GIF": ("GIF", "gif"),
}
# The decoders Pillow may try (MPO comes through the JPEG one).
DECODERS = ["JPEG", "PNG", "WEBP", "GIF"]
RULE = "Photos must be JPEG, PNG, WebP or GIF"

# Stored originals are at most this many pixels on their longest edge:
# enough for a full-screen view on a 2K display, a few hundred kilobytes.
MAX_EDGE = 2048
# Square thumbnails: small for lists (2× a 64 px avatar), medium for the
# gallery (2× 192 px). Always WebP.
THUMBNAIL_EDGES = {"small": 128, "medium": 384}

# Byte strings that make a file something else too (a polyglot): a browser,
# PHP or a PDF reader would find their own content in it. Long enough that
# compressed pixels do not contain them by chance.
FOREIGN_SIGNATURES = (
    b"<script",
    b"<html>",
    b"<html ",
    b"<!doctype html",
    b"<body>",
    b"<body ",
    b"<svg ",
    b"<svg>",
    b"<iframe",
    b"<object",
    b"<embed ",
    b"javascript:",
    b"<?php",
    b"%pdf-",
)


class PhotoRejected(ValueError):
    """An upload that is not a photo we store; the message is for the user."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class PreparedPhoto:
    """A validated photo, re-encoded without metadata, with its thumbnails."""

    format: str
    content: bytes
    thumbnails: dict[str, bytes]
    width: int
    height: int
    original_name: str
    original_size: int
    upload_sha256: str  # of the bytes as received, for the audit log

    @property
    def extension(self) -> str:
        return ACCEPTED[self.format][1]

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def sha256(self) -> str:
        """Of the stored bytes: what is on disk and served."""
        return hashlib.sha256(self.content).hexdigest()


def prepare_photo(upload) -> PreparedPhoto:
    """Validate an uploaded file and return what to store, or raise PhotoRejected."""
    data = _read(upload)
    image = _open(data)
    _refuse_polyglot(data, image)
    stored_format = "JPEG" if image.format == "MPO" else image.format
    try:
        try:
            content = _encode(_clean_pixels(image), stored_format)
        except (OSError, ValueError) as exc:  # a mode Pillow cannot write back
            raise PhotoRejected(
                f"This {ACCEPTED[image.format][0]} image uses a colour format that "
                "cannot be stored; save it as an ordinary RGB photo and try again.",
                "unsupported",
            ) from exc
        return PreparedPhoto(
            format=stored_format,
            content=content,
            thumbnails=thumbnails_of(content),
            width=image.width,
            height=image.height,
            original_name=display_name(upload.name),
            original_size=len(data),
            upload_sha256=hashlib.sha256(data).hexdigest(),
        )
    finally:
        image.close()


def thumbnails_of(stored: bytes) -> dict[str, bytes]:
    """Thumbnails of a photo as stored (already validated and re-encoded)."""
    with Image.open(io.BytesIO(stored), formats=DECODERS) as image:
        return make_thumbnails(image)


def make_thumbnails(image: Image.Image) -> dict[str, bytes]:
    """Square WebP thumbnails of a stored photo, by size name."""
    image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    thumbnails = {}
    for size, edge in THUMBNAIL_EDGES.items():
        buffer = io.BytesIO()
        square = ImageOps.fit(image, (edge, edge), Image.Resampling.LANCZOS)
        square.save(buffer, "WEBP", quality=80, method=4)
        thumbnails[size] = buffer.getvalue()
    return thumbnails


def display_name(name: str | None) -> str:
    """The client's file name, safe to keep for display: no path, no control marks."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    # Drop control and format characters: NUL, newlines, bidi overrides.
    name = "".join(c for c in name if unicodedata.category(c) not in {"Cc", "Cf"})
    name = " ".join(name.split())
    if len(name) > 100:
        stem, dot, extension = name.rpartition(".")
        keep = extension[:10] if dot and len(extension) <= 10 else ""
        name = name[: 99 - len(keep) - 1] + "…" + (f".{keep}" if keep else "")
    return name or "photo"


def _read(upload) -> bytes:
    if isinstance(upload, RefusedUpload):
        raise PhotoRejected(upload.message, upload.code)
    upload.seek(0)
    data = upload.read(max_upload_bytes() + 1)
    if len(data) > max_upload_bytes():
        raise PhotoRejected(
            too_large_message(upload.size or len(data)), "file_too_large"
        )
    if not data:
        raise PhotoRejected("The file is empty; choose a photo.", "empty")
    return data


def _open(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data), formats=DECODERS)
    except UnidentifiedImageError as exc:
        raise PhotoRejected(
            f"{RULE}; this file is {sniffing.describe(data)}.", "format"
        ) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(_pixels_in_message(exc)) from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise _damaged(sniffing.claimed_format(data)) from exc
    if image.width * image.height > settings.UPLOAD_MAX_PIXELS:
        image.close()
        raise _too_many_pixels(image.width * image.height)
    if getattr(image, "is_animated", False) and image.format != "MPO":
        image.close()
        raise PhotoRejected(
            "Animated images are not accepted; upload a still photo.", "animated"
        )
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        image.close()
        raise _damaged(ACCEPTED[image.format][0]) from exc
    return image


def _damaged(format_name: str) -> PhotoRejected:
    return PhotoRejected(
        f"This {format_name} file is damaged or incomplete and cannot be read.",
        "corrupt",
    )


def _refuse_polyglot(data: bytes, image: Image.Image) -> None:
    lowered = data.lower()
    if any(signature in lowered for signature in FOREIGN_SIGNATURES):
        image.close()
        raise PhotoRejected(
            f"This {ACCEPTED[image.format][0]} file also contains a web page, "
            "script or PDF, which is not allowed in a photo.",
            "polyglot",
        )


def _too_many_pixels(pixels: int | None) -> PhotoRejected:
    limit = settings.UPLOAD_MAX_PIXELS / 1_000_000
    this = (
        f"this one has {pixels / 1_000_000:.1f} million"
        if pixels
        else "this one has more"
    )
    return PhotoRejected(
        f"Photos can have at most {limit:g} million pixels; {this}.", "too_many_pixels"
    )


def _pixels_in_message(exc: Exception) -> int | None:
    match = re.search(r"\((\d+) pixels\)", str(exc))
    return int(match.group(1)) if match else None


def _clean_pixels(image: Image.Image) -> Image.Image:
    """Upright pixels, at most MAX_EDGE, with nothing of the file's metadata."""
    upright = ImageOps.exif_transpose(image)  # a copy, orientation applied
    upright.thumbnail((MAX_EDGE, MAX_EDGE), Image.Resampling.LANCZOS)
    # Keep only what rendering needs; EXIF (GPS), XMP and comments go.
    kept = {
        k: upright.info[k] for k in ("icc_profile", "transparency") if k in upright.info
    }
    upright.info = kept
    return upright


def _encode(image: Image.Image, target: str) -> bytes:
    options = {"icc_profile": image.info.get("icc_profile")}
    if target == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        options |= {"quality": 85, "optimize": True, "progressive": True}
    elif target == "WEBP":
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if _has_alpha(image) else "RGB")
        options |= {"quality": 85, "method": 4}
    elif target == "PNG":
        options |= {"optimize": True}
    if "transparency" in image.info and target in ("PNG", "GIF"):
        options["transparency"] = image.info["transparency"]
    options = {key: value for key, value in options.items() if value is not None}
    buffer = io.BytesIO()
    image.save(buffer, target, **options)
    return buffer.getvalue()


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
