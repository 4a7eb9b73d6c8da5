"""
Encoding stored photos: the smallest encoding that suits the source.

A JPEG is never made larger than its own quality allows, a lossless WebP
graphic stays lossless when that is smaller, and PNG compression is bounded
in CPU. webinars.photos hands over clean sRGB pixels.
"""

from __future__ import annotations

import io

from PIL import Image

from webinars import colour, sniffing


def jpeg_quality(image: Image.Image) -> int | None:
    """Estimate a JPEG's quality (libjpeg's 1-100 scale) from its luminance table."""
    tables = getattr(image, "quantization", None) or {}
    if len(tables.get(0, ())) != 64:
        return None
    scale = sum(tables[0]) * 100 / sum(LIBJPEG_LUMINANCE)
    quality = 5000 / scale if scale > 100 else (200 - scale) / 2
    return max(1, min(100, round(quality)))


# libjpeg's luminance quantisation table at quality 50, which others scale.
LIBJPEG_LUMINANCE = (
    *(16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55),
    *(14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62),
    *(18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92),
    *(49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99),
)
# What a photo is re-encoded at, unless its source was smaller (below).
JPEG_QUALITY = 85
WEBP_QUALITY = 85
# zlib's default: about a tenth of optimize=True's CPU on a smooth photo, for
# files a few percent larger.
PNG_COMPRESS_LEVEL = 6


def encode(
    image: Image.Image, target: str, *, source_quality: int | None, data: bytes
) -> bytes:
    """Encode the pixels as target: the smallest encoding that suits the source."""
    if target == "JPEG":
        qualities = {JPEG_QUALITY, min(JPEG_QUALITY, source_quality or JPEG_QUALITY)}
        return min((_jpeg(image, q) for q in qualities), key=len)
    if target == "WEBP":
        encodings = [_webp(image, lossless=False)]
        if sniffing.is_lossless_webp(data):  # a graphic: keep it sharp if smaller
            encodings.append(_webp(image, lossless=True))
        return min(encodings, key=len)
    options = {"compress_level": PNG_COMPRESS_LEVEL} if target == "PNG" else {}
    if "transparency" in image.info:
        options["transparency"] = image.info["transparency"]
    return _saved(image, target, **options)


def _jpeg(image: Image.Image, quality: int) -> bytes:
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    # Baseline with optimised Huffman tables: progressive encoding made a
    # 2000 x 1500 photo 3 % smaller for twice the time (bench/, docs/benchmarks.md).
    return _saved(image, "JPEG", quality=quality, optimize=True)


def _webp(image: Image.Image, *, lossless: bool) -> bytes:
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if colour.has_alpha(image) else "RGB")
    if lossless:
        return _saved(image, "WEBP", lossless=True, quality=80, method=4)
    return _saved(image, "WEBP", quality=WEBP_QUALITY, method=4)


def _saved(image: Image.Image, target: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, target, **options)
    return buffer.getvalue()
