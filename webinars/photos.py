"""
What a photo is: deciding what an upload is, and preparing what is stored.

The only validation path for uploads: the admin, the staff page, the
endpoints and the management commands all call prepare_photo(). The type is
decided by decoding the content with Pillow, never by the name or the
client's Content-Type, and what is stored is re-encoded from the decoded
pixels, so no metadata and no foreign bytes survive. A refusal is a
ValidationError whose code names the rule (as Wagtail's image field does);
the views choose its HTTP status.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image, ImageOps, UnidentifiedImageError

from webinars import sniffing
from webinars.uploadhandler import MEGABYTE, max_upload_bytes

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


@dataclass(frozen=True)
class PreparedPhoto:
    """A validated photo, re-encoded without metadata."""

    format: str
    content: bytes
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
    """Validate an uploaded file and return what to store, or raise ValidationError."""
    data = _read(upload)
    image = _open(data)
    _refuse_polyglot(data, image)
    stored_format = "JPEG" if image.format == "MPO" else image.format
    try:
        try:
            content = _encode(_clean_pixels(image), stored_format)
        except (OSError, ValueError) as exc:  # a mode Pillow cannot write back
            raise ValidationError(
                f"This {ACCEPTED[image.format][0]} image uses a colour format that "
                "cannot be stored; save it as an ordinary RGB photo and try again.",
                code="unsupported",
            ) from exc
        return PreparedPhoto(
            format=stored_format,
            content=content,
            width=image.width,
            height=image.height,
            original_name=display_name(upload.name),
            original_size=len(data),
            upload_sha256=hashlib.sha256(data).hexdigest(),
        )
    finally:
        image.close()


def thumbnails_of(stored: bytes, edges: dict[str, int]) -> dict[str, bytes]:
    """Return square WebP thumbnails of a stored photo, by size name."""
    with Image.open(io.BytesIO(stored), formats=DECODERS) as image:
        return make_thumbnails(image, edges)


def make_thumbnails(image: Image.Image, edges: dict[str, int]) -> dict[str, bytes]:
    """Return square WebP thumbnails of an image, by size name, of the given edges."""
    image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    thumbnails = {}
    for size, edge in edges.items():
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
    # The one size check. An upload the handler stopped keeping arrives
    # empty, with its full size; others are read no further than the limit.
    upload.seek(0)
    data = upload.read(max_upload_bytes() + 1)
    size = max(upload.size or 0, len(data))
    if size > max_upload_bytes():
        raise ValidationError(
            f"Photos can be at most {settings.UPLOAD_MAX_MB:g} MB; "
            f"this file is {size / MEGABYTE:.1f} MB.",
            code="file_too_large",
        )
    if not data:
        raise ValidationError("The file is empty; choose a photo.", code="empty")
    return data


def _open(data: bytes) -> Image.Image:
    # The pixel limit is checked here, from the header, before any pixel is
    # decoded. Pillow's own bomb limit (MAX_IMAGE_PIXELS) is left as it is,
    # for the whole process; past it Pillow refuses to open the file at all.
    try:
        image = Image.open(io.BytesIO(data), formats=DECODERS)
    except UnidentifiedImageError as exc:
        raise ValidationError(
            f"{RULE}; this file is {sniffing.describe(data)}.", code="format"
        ) from exc
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(_pixels_in_message(exc)) from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise _damaged(sniffing.claimed_format(data)) from exc
    if image.width * image.height > settings.UPLOAD_MAX_PIXELS:
        image.close()
        raise _too_many_pixels(image.width * image.height)
    if getattr(image, "is_animated", False) and image.format != "MPO":
        image.close()
        raise ValidationError(
            "Animated images are not accepted; upload a still photo.", code="animated"
        )
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        image.close()
        raise _damaged(ACCEPTED[image.format][0]) from exc
    return image


def _damaged(format_name: str) -> ValidationError:
    return ValidationError(
        f"This {format_name} file is damaged or incomplete and cannot be read.",
        code="corrupt",
    )


def _refuse_polyglot(data: bytes, image: Image.Image) -> None:
    lowered = data.lower()
    if any(signature in lowered for signature in FOREIGN_SIGNATURES):
        image.close()
        raise ValidationError(
            f"This {ACCEPTED[image.format][0]} file also contains a web page, "
            "script or PDF, which is not allowed in a photo.",
            code="polyglot",
        )


def _too_many_pixels(pixels: int | None) -> ValidationError:
    limit = settings.UPLOAD_MAX_PIXELS / 1_000_000
    this = (
        f"this one has {pixels / 1_000_000:.1f} million"
        if pixels
        else "this one has more"
    )
    return ValidationError(
        f"Photos can have at most {limit:g} million pixels; {this}.",
        code="too_many_pixels",
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
