"""
What a photo is: deciding what an upload is, and preparing what is stored.

The only validation path for uploads: the admin, the staff page, the
endpoints and the management commands all call prepare_photo(). With
UPLOAD_SCAN=clamd the bytes are scanned for malware first. The type is
decided by decoding the content with Pillow (webinars.formats lists the
decoders), never by the name or the client's Content-Type, and what is
stored is re-encoded from the decoded pixels, upright and in sRGB, so no
metadata and no foreign bytes survive. A refusal is a
ValidationError whose code names the rule (as Wagtail's image field does);
the views choose its HTTP status.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import math
import re
import struct
import unicodedata
from dataclasses import dataclass, field, replace

import pillow_heif
from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import ExifTags, Image, UnidentifiedImageError

from webinars import colour, encoding, forked, formats, scanning, sniffing
from webinars.files import THUMBNAIL_EDGES
from webinars.formats import DECODERS, RULE, STORED_EXTENSIONS
from webinars.uploadhandler import max_upload_bytes, too_large_message

logger = logging.getLogger(__name__)

# HEIC/HEIF through libheif; AVIF is Pillow's own. Only the main picture is
# read: no embedded thumbnails, depth maps or auxiliary images.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
# Every Pillow plugin imported now, once: a child forked to decode a photo
# (webinars.forked) never imports one while another thread holds its lock.
Image.init()

# What Pillow's decoders raise on damaged input, found by fuzzing every
# accepted format (tests/test_damaged_photos.py): any of them is "damaged".
DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    RuntimeError,  # libheif
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
)

# Stored originals are at most this many pixels on their longest edge:
# enough for a full-screen view on a 2K display, a few hundred kilobytes.
MAX_EDGE = 2048
# A JPEG at least this many times MAX_EDGE is decoded reduced (draft).
DRAFT_FROM = 1.9

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

    format: str  # as stored: JPEG, PNG, WEBP or GIF
    content: bytes
    width: int
    height: int
    original_name: str
    original_size: int
    upload_sha256: str  # of the bytes as received, for the audit log
    source_format: str = ""  # as uploaded, in users' words: "HEIC"
    scan: str = ""  # "clean", "unscanned" (clamd gave no verdict) or "" (off)
    # The clean pixels, reduced to a little over the largest thumbnail, so
    # that thumbnails need no second decode of content; not part of its value.
    thumbnail_source: Image.Image | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def extension(self) -> str:
        return STORED_EXTENSIONS[self.format]

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def sha256(self) -> str:
        """Of the stored bytes: what is on disk and served."""
        return hashlib.sha256(self.content).hexdigest()


# A child decoding a photo is ended after this: sooner than the proxies' and
# gunicorn's 60 s, so the client gets the app's answer, not a 504.
DECODE_TIMEOUT_SECONDS = 45


def prepare_photo(upload) -> PreparedPhoto:
    """Validate an uploaded file and return what to store, or raise ValidationError."""
    data = _read(upload)
    scan = _scan(data)  # the raw bytes, before any decoder sees them
    name = display_name(upload.name)
    if settings.UPLOAD_DECODE_IN_CHILD:
        try:
            child = forked.start(_prepared, data, name, timeout=DECODE_TIMEOUT_SECONDS)
        except OSError as exc:  # no fork: out of processes or memory
            raise _processing_failed(exc) from exc
        try:
            polyglot = _is_polyglot(data)  # meanwhile, on another core
        except BaseException:
            child.kill()
            raise
        outcome = child.result
    else:
        polyglot = _is_polyglot(data)
        outcome = functools.partial(_prepared, data, name)
    # The refusals in the order of the checks: what cannot be decoded, then
    # foreign content, then the rest.
    try:
        prepared = outcome()
    except ValidationError as refusal:
        if polyglot and not getattr(refusal, "undecodable", False):
            raise _polyglot(_claimed_name(data)) from refusal
        raise
    except (forked.ChildFailed, MemoryError) as exc:
        if polyglot:
            raise _polyglot(_claimed_name(data)) from exc
        raise _processing_failed(exc) from exc
    if polyglot:
        raise _polyglot(prepared.source_format)
    return replace(prepared, scan=scan, upload_sha256=hashlib.sha256(data).hexdigest())


def _processing_failed(exc: Exception) -> ValidationError:
    logger.error("Photo processing failed in its child process: %s", exc)
    return ValidationError(
        "This photo could not be processed: the server ran out of memory or "
        "the decoder failed. Try a smaller photo, or tell an administrator.",
        code="processing_failed",
    )


def _claimed_name(data: bytes) -> str:
    """What the file says it is, for a refusal made without decoding it."""
    claimed = sniffing.claimed_format(data)
    if claimed in formats.BY_PILLOW:
        return formats.name_of(claimed)
    return claimed or "image"


def _prepared(data: bytes, original_name: str) -> PreparedPhoto:
    """Decode, check and re-encode the bytes of a photo (in a child, usually)."""
    try:
        image = _open(data)
    except ValidationError as refusal:
        refusal.undecodable = True  # refused before foreign content is looked at
        raise
    try:
        source = image.format
        quality = encoding.jpeg_quality(image)
        pixels = _clean_pixels(image)
        target = formats.stored_format(source, has_alpha=colour.has_alpha(pixels))
        try:
            content = encoding.encode(pixels, target, source_quality=quality, data=data)
        except (OSError, ValueError) as exc:  # a mode Pillow cannot write back
            raise ValidationError(
                f"This {formats.name_of(source)} image uses a colour format that "
                "cannot be stored; save it as an ordinary RGB photo and try again.",
                code="unsupported",
            ) from exc
        return PreparedPhoto(
            format=target,
            content=content,
            width=pixels.width,
            height=pixels.height,
            original_name=original_name,
            original_size=len(data),
            upload_sha256="",  # by prepare_photo, outside the child
            source_format=formats.name_of(source),
            thumbnail_source=_thumbnail_source(pixels),
        )
    finally:
        image.close()


def _thumbnail_source(pixels: Image.Image) -> Image.Image:
    """The pixels, box-reduced while their short side stays over 1.5x thumbnails'."""
    limit = 3 * max(THUMBNAIL_EDGES.values())
    factor = math.ceil(min(pixels.size) / limit)
    if factor == 1:
        return pixels.copy()
    if pixels.mode not in ("RGB", "RGBA", "L", "LA") or "transparency" in pixels.info:
        # reduce() averages: no palettes, and transparency as a channel.
        pixels = pixels.convert("RGBA" if colour.has_alpha(pixels) else "RGB")
    return pixels.reduce(factor)


# Where a square thumbnail is cut from a photo that is not square: the point
# (as fractions of the width and height) that stays as near the middle as
# the photo allows, as Pillow's ImageOps.fit centering.
Focus = tuple[float, float]
CENTRE: Focus = (0.5, 0.5)


def thumbnails_of_prepared(
    photo: PreparedPhoto, edges: dict[str, int]
) -> dict[str, bytes]:
    """Return the thumbnails of a photo just prepared, from its pixels in memory."""
    if photo.thumbnail_source is None:
        return thumbnails_of(photo.content, edges)
    return make_thumbnails(photo.thumbnail_source, edges)


def thumbnails_of(
    stored: bytes, edges: dict[str, int], *, focus: Focus = CENTRE
) -> dict[str, bytes]:
    """Return square WebP thumbnails of a stored photo, cut around focus."""
    stored_formats = list(STORED_EXTENSIONS)
    with Image.open(io.BytesIO(stored), formats=stored_formats) as image:
        return make_thumbnails(image, edges, focus=focus)


def make_thumbnails(
    image: Image.Image, edges: dict[str, int], *, focus: Focus = CENTRE
) -> dict[str, bytes]:
    """Return square sRGB WebP thumbnails of an image, by size name and edge."""
    image = colour.to_srgb(image)  # photos stored before sRGB was the rule
    mode = "RGBA" if colour.has_alpha(image) else "RGB"
    if image.mode != mode:
        image = image.convert(mode)
    thumbnails = {}
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) * focus[0], (height - side) * focus[1]
    crop = (left, top, left + side, top + side)  # as ImageOps.fit's centering
    for size, edge in edges.items():
        buffer = io.BytesIO()
        # reducing_gap: a box reduction to within 3x of the edge, then
        # LANCZOS; indistinguishable at thumbnail size, several times faster.
        square = image.resize(
            (edge, edge), Image.Resampling.LANCZOS, box=crop, reducing_gap=3.0
        )
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
        raise ValidationError(too_large_message(size), code="file_too_large")
    if not data:
        raise ValidationError("The file is empty; choose a photo.", code="empty")
    return data


def _scan(data: bytes) -> str:
    """Refuse malware; return "clean", "unscanned" or "" when scanning is off."""
    if not scanning.is_enabled():
        return ""
    try:
        signature = scanning.scan(data)
    except scanning.ScannerUnavailable as exc:
        if settings.UPLOAD_SCAN_ON_ERROR == "accept":
            logger.warning("Upload accepted unscanned for malware: %s", exc.reason)
            return "unscanned"
        logger.error("Upload refused: no malware scan: %s", exc.reason)
        raise ValidationError(
            "The photo was not saved because the malware scanner is not "
            "answering; please try again in a minute, or tell an administrator.",
            code="scanner_unavailable",
        ) from exc
    if signature:
        raise ValidationError(
            "This file contains malware (%(signature)s); nothing was saved.",
            code="malware",
            params={
                "signature": signature,
                "upload_sha256": hashlib.sha256(data).hexdigest(),
            },
        )
    return "clean"


def _open(data: bytes) -> Image.Image:
    # The pixel limit is checked here, from the header, before any pixel is
    # decoded. Pillow's own bomb limit (MAX_IMAGE_PIXELS) is left as it is,
    # for the whole process; past it Pillow refuses to open the file at all.
    try:
        image = Image.open(io.BytesIO(data), formats=DECODERS)
    except UnidentifiedImageError as exc:
        raise _unreadable(data) from exc
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(_pixels_in_message(exc)) from exc
    except DECODE_ERRORS as exc:
        raise _damaged(sniffing.claimed_format(data)) from exc
    try:
        _refuse_by_header(image)
        _reduce_while_decoding(image)
        image.load()
    except ValidationError:
        image.close()
        raise
    except DECODE_ERRORS as exc:
        image.close()
        raise _damaged(formats.name_of(image.format)) from exc
    return image


def _refuse_by_header(image: Image.Image) -> None:
    if image.width * image.height > settings.UPLOAD_MAX_PIXELS:
        raise _too_many_pixels(image.width * image.height)
    # is_animated reads on past the first frame: a GIF cut short there
    # raises, inside the caller's refusal path.
    if image.format != "MPO" and getattr(image, "is_animated", False):
        raise ValidationError(
            "Animated images are not accepted; this is an animated "
            f"{formats.name_of(image.format)}. Upload a still photo.",
            code="animated",
        )


def _reduce_while_decoding(image: Image.Image) -> None:
    """Let a large JPEG decode at 1/2, 1/4 or 1/8 of its size."""
    longest = max(image.size)
    if image.format in ("JPEG", "MPO") and longest >= DRAFT_FROM * MAX_EDGE:
        # Just under twice MAX_EDGE (a 12 MP phone's 4000 px), half size is a
        # little under MAX_EDGE: a 2000 px photo, from a quarter of the pixels
        # (9 MB decoded, not 36 MB).
        scale = min(MAX_EDGE / longest, 1 / 2)
        # draft() keeps at least the requested size: the stored edge stays exact.
        image.draft(
            image.mode,
            (math.ceil(image.width * scale), math.ceil(image.height * scale)),
        )


def _unreadable(data: bytes) -> ValidationError:
    """The refusal of a file no accepted decoder could open: what it really is."""
    claimed = sniffing.claimed_format(data)
    if claimed == "JPEG" and sniffing.jpeg_sample_bits(data) == 12:
        return ValidationError(
            "This JPEG uses 12-bit samples, which browsers cannot show; export it "
            "as an 8-bit JPEG and try again.",
            code="unsupported",
        )
    if claimed != "image":
        return _damaged(claimed)
    return ValidationError(
        f"{RULE}; this file is {sniffing.describe(data)}.", code="format"
    )


def _damaged(format_name: str) -> ValidationError:
    return ValidationError(
        f"This {format_name} file is damaged or incomplete and cannot be read.",
        code="corrupt",
    )


def _is_polyglot(data: bytes) -> bool:
    lowered = data.lower()
    return any(signature in lowered for signature in FOREIGN_SIGNATURES)


def _polyglot(format_name: str) -> ValidationError:
    """The refusal of a photo whose bytes are also something else."""
    return ValidationError(
        f"This {format_name} file also contains a web page, "
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


# EXIF orientation → the transposition that makes the pixels upright (as
# ImageOps.exif_transpose, which always copies the image, even when upright).
TRANSPOSES = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _clean_pixels(image: Image.Image) -> Image.Image:
    """Upright sRGB pixels, at most MAX_EDGE, with nothing of the file's metadata."""
    orientation = _orientation(image)
    # In place, before anything else: every later step works on the small copy.
    image.thumbnail((MAX_EDGE, MAX_EDGE), Image.Resampling.LANCZOS)
    pixels = colour.to_srgb(image)
    if orientation in TRANSPOSES:
        pixels = pixels.transpose(TRANSPOSES[orientation])
    if pixels.mode == "RGBA" and pixels.getchannel("A").getextrema()[0] == 255:
        pixels = pixels.convert("RGB")  # opaque: JPEG may store it
    # Keep only what rendering needs; EXIF (GPS), XMP, comments and the
    # profile (the pixels are sRGB now) go.
    kept = {k: v for k, v in pixels.info.items() if k == "transparency"}
    pixels.info = kept
    return pixels


def _orientation(image: Image.Image) -> int:
    # libheif has turned HEIC pixels upright already (pillow-heif then sets
    # the EXIF orientation to 1); AVIF's come as EXIF orientation.
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    except DECODE_ERRORS:
        return 1  # unreadable EXIF: take the pixels as they are
    return orientation if isinstance(orientation, int) else 1
