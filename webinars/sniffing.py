"""
Naming what a refused file is, from its first bytes, for the user's message.

Pillow is never asked: only its accepted decoders see a file (webinars.photos).
"""

from __future__ import annotations

SNIFFED_FORMATS = (
    (b"%PDF-", "PDF"),
    (b"%!PS", "PostScript (EPS)"),
    (b"\xc5\xd0\xd3\xc6", "PostScript (EPS)"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"8BPS", "Photoshop (PSD)"),
)
HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif")


def describe(data: bytes) -> str:
    """What a file that is not an accepted image is, in words for a message."""
    for signature, name in SNIFFED_FORMATS:
        if data.startswith(signature):
            return name
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        kind = "AVIF" if data[8:12] == b"avif" else "HEIC"
        return f"{kind}; export it as JPEG and try again"
    head = data[:512].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")) and b"<svg" in data[:4096].lower():
        return "SVG"
    if head.startswith(b"<"):
        return "HTML or XML"
    if _is_text(data[:512]):
        return "text"
    return "not an image we can read"


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def claimed_format(data: bytes) -> str:
    """The accepted format a file claims to be by its first bytes."""
    if data.startswith(b"\xff\xd8"):
        return "JPEG"
    if data.startswith(b"\x89PNG"):
        return "PNG"
    if data.startswith(b"GIF8"):
        return "GIF"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "WebP"
    return "image"
