"""
Photos of every accepted format, built with Pillow and pillow-heif: the
samples the format, colour and damage tests start from.
"""

from __future__ import annotations

import io

from PIL import ExifTags, Image, ImageDraw

from webinars import photos  # noqa: F401  (registers the HEIC opener)


def scene(size=(96, 64), mode="RGB") -> Image.Image:
    """A photo-like picture: gradients and shapes, no flat areas only."""
    width, height = size
    gradient = Image.linear_gradient("L").resize(size)
    image = Image.merge(
        "RGB",
        (
            gradient,
            gradient.transpose(Image.Transpose.ROTATE_90).resize(size),
            Image.radial_gradient("L").resize(size),
        ),
    )
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 4, height // 4, width // 2, height // 2), fill=(200, 30, 40))
    draw.rectangle((width * 2 // 3, 0, width - 1, height // 3), fill=(20, 40, 220))
    return image.convert(mode)


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def animated(fmt: str, frames: int = 3, size=(48, 32)) -> bytes:
    images = [scene(size).rotate(angle) for angle in range(0, 30 * frames, 30)]
    return encoded(
        images[0], fmt, save_all=True, append_images=images[1:], duration=100
    )


def exif_of(orientation: int = 1) -> bytes:
    """EXIF with an orientation, a camera maker and a GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 29.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 17.0, 40.0)
    return exif.tobytes()


def one_of_each() -> dict[str, bytes]:
    """A small file of every accepted format and variant, by name."""
    picture = scene()
    return {
        "jpeg": encoded(picture, "JPEG", quality=90),
        "progressive-jpeg": encoded(picture, "JPEG", progressive=True),
        "png": encoded(picture, "PNG"),
        "palette-png": encoded(picture.convert("P"), "PNG"),
        "lossy-webp": encoded(picture, "WEBP"),
        "lossless-webp": encoded(picture, "WEBP", lossless=True),
        "gif": encoded(picture.convert("P"), "GIF"),
        "animated-gif": animated("GIF"),
        "heic": encoded(picture, "HEIF", exif=exif_of(6)),
        "avif": encoded(picture, "AVIF", exif=exif_of(6)),
    }
