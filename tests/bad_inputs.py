"""
A catalogue of uploads that must be refused, each built here with Pillow and
bytes: (id, file name, content, expected status, words of the message).
"""

from __future__ import annotations

import io

from PIL import Image

from tests.factories import make_image_bytes

MB = 1024 * 1024


def _image(fmt: str, size=(40, 30), mode="RGB", **options) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "white" if mode != "1" else 0).save(buffer, fmt, **options)
    return buffer.getvalue()


def _animated_gif() -> bytes:
    frames = [Image.new("RGB", (20, 20), color) for color in ("red", "green", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)
    return buffer.getvalue()


JPEG = make_image_bytes("JPEG", size=(64, 48))
PNG = make_image_bytes("PNG", size=(64, 48))
HTML = (
    b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
)
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
    b'onload="alert(1)"><rect width="10" height="10"/></svg>'
)

FORMAT_RULE = "Photos must be JPEG, PNG, WebP, GIF, HEIC or AVIF; this file is"
DAMAGED = "file is damaged or incomplete and cannot be read"
POLYGLOT = "also contains a web page, script or PDF"

CATALOGUE = [
    ("empty", "empty.jpg", b"", 400, "The file is empty"),
    ("svg", "logo.svg", SVG, 400, f"{FORMAT_RULE} SVG."),
    ("svg-named-jpg", "photo.jpg", SVG, 400, f"{FORMAT_RULE} SVG."),
    ("html", "page.html", HTML, 400, f"{FORMAT_RULE} HTML or XML."),
    (
        "pdf",
        "cv.pdf",
        b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF",
        400,
        f"{FORMAT_RULE} PDF.",
    ),
    (
        "eps",
        "art.eps",
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n",
        400,
        "EPS",
    ),
    ("tiff", "scan.tiff", _image("TIFF"), 400, f"{FORMAT_RULE} TIFF."),
    ("bmp", "old.bmp", _image("BMP"), 400, f"{FORMAT_RULE} BMP."),
    (
        "heic",
        "IMG_0001.HEIC",
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64,
        400,
        f"This HEIC {DAMAGED}",
    ),
    (
        "text-named-png",
        "notes.png",
        b"just some text\n" * 20,
        400,
        f"{FORMAT_RULE} text.",
    ),
    ("jpeg-plus-html", "cat.jpg", JPEG + HTML, 400, POLYGLOT),
    ("jpeg-plus-pdf", "cat.jpg", JPEG + b"%PDF-1.4 trailer", 400, POLYGLOT),
    (
        "png-with-script-chunk",
        "cat.png",
        PNG[:-12]
        + b"\x00\x00\x00\x1dtEXtComment\x00<script>alert(1)</script>\x00\x00\x00\x00"
        + PNG[-12:],
        400,
        POLYGLOT,
    ),
    (
        "gif-with-script-comment",
        "cat.gif",
        _image("GIF", mode="P", comment=b"<script>alert(1)</script>"),
        400,
        POLYGLOT,
    ),
    ("truncated-jpeg", "half.jpg", JPEG[: len(JPEG) // 2], 400, f"This JPEG {DAMAGED}"),
    ("truncated-png", "half.png", PNG[: len(PNG) // 2], 400, f"This PNG {DAMAGED}"),
    (
        "corrupt-jpeg",
        "noise.jpg",
        JPEG[:200] + bytes(range(256)) * 8,
        400,
        DAMAGED,
    ),
    (
        "pixel-bomb",
        "bomb.png",
        _image("PNG", size=(10_000, 10_000), mode="1"),
        400,
        "at most 40 million pixels; this one has 100.0 million",
    ),
    (
        "huge-pixel-bomb",
        "bigger-bomb.png",
        _image("PNG", size=(20_000, 20_000), mode="1"),
        400,
        "at most 40 million pixels; this one has 400.0 million",
    ),
    (
        "animated-gif",
        "dance.gif",
        _animated_gif(),
        400,
        "Animated images are not accepted",
    ),
    (
        "oversize",
        "huge.jpg",
        JPEG[:-2] + b"\x00" * (6 * MB) + b"\xff\xd9",
        413,
        "Photos can be at most 5 MB; this file is 6.0 MB.",
    ),
]

# Hostile names on a real photo: accepted, stored under a generated name,
# shown as harmless text.
HOSTILE_NAMES = [
    ("dot-dot-slash", "../../etc/passwd.jpg", "passwd.jpg"),
    ("backslashes", "..\\..\\windows\\win.ini.jpg", "win.ini.jpg"),
    ("nul", "photo\x00.php.jpg", "photo.php.jpg"),
    ("right-to-left-override", "gpj\u202e.exe.jpg", "gpj.exe.jpg"),
    ("three-hundred-characters", "a" * 296 + ".jpg", "a" * 95 + "….jpg"),
    ("multi-byte", "фото-写真-📷.jpg", "фото-写真-📷.jpg"),
    (
        "markup",
        '<img src=x onerror="alert(1)">.jpg',
        '<img src=x onerror="alert(1)">.jpg',
    ),
]
