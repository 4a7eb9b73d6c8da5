"""
Naming what a file is, from its first bytes, for the user's message and the
choice of encoding.

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
# ISO base media files' major brands (bytes 8-12, after "ftyp"): HEIC/HEIF
# stills and sequences, and AVIF's.
HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
)
AVIF_BRANDS = frozenset({b"avif", b"avis"})


def describe(data: bytes) -> str:
    """What a file that is not an accepted image is, in words for a message."""
    for signature, name in SNIFFED_FORMATS:
        if data.startswith(signature):
            return name
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
    if data[4:8] == b"ftyp" and data[8:12] in AVIF_BRANDS:
        return "AVIF"
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return "HEIC"
    return "image"


def jpeg_sample_bits(data: bytes) -> int | None:
    """The sample precision (8, 12 or 16 bits) a JPEG's frame header declares."""
    position = 2
    while position + 5 < len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
        elif 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return data[position + 4]  # a start of frame: length, then precision
        elif marker == 0xD8 or 0xD0 <= marker <= 0xD7:
            position += 2
        else:
            position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
    return None


def is_lossless_webp(data: bytes) -> bool:
    """Whether a WebP file's image is compressed losslessly (a VP8L chunk)."""
    position = 12  # after "RIFF", the size and "WEBP": the chunks
    while position + 8 <= len(data):
        chunk = data[position : position + 4]
        if chunk in (b"VP8L", b"VP8 "):
            return chunk == b"VP8L"
        size = int.from_bytes(data[position + 4 : position + 8], "little")
        position += 8 + size + (size & 1)  # chunks are padded to even sizes
    return False
