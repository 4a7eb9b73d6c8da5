"""
Colour: every stored photo and thumbnail is 8-bit sRGB with no profile.

The source's ICC profile, when LittleCMS (PIL.ImageCms) can parse it and it
fits the pixels, converts them to sRGB; any other profile is dropped and the
pixels are taken as sRGB, as browsers take untagged images. No profile is
ever copied, so no foreign bytes carried in one survive. High-bit-depth
greys are scaled to 8 bits, not clipped.
"""

from __future__ import annotations

import io

from PIL import Image, ImageCms, ImageMath

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
# A profile's colour space (its header), by the mode whose pixels it describes.
PROFILE_SPACES = {"RGB": "RGB ", "RGBA": "RGB ", "L": "GRAY", "CMYK": "CMYK"}
# Pillow's 16- and 32-bit integer greys: 16-bit samples, scaled to 8 bits.
WIDE_GREYS = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})
# Modes that stored formats cannot hold, and the mode that keeps their look.
PLAIN_MODES = {"1": "L", "LA": "RGBA", "La": "RGBA", "PA": "RGBA", "RGBa": "RGBA"}


def to_srgb(image: Image.Image) -> Image.Image:
    """Return the image as 8-bit L, RGB, RGBA or P pixels in sRGB, without profile."""
    profile = _profile(image.info.get("icc_profile"))
    image = _eight_bit(image)
    if image.mode == "P" and profile is None:
        return _without_profile(image)
    if image.mode == "P":
        image = image.convert("RGBA" if has_alpha(image) else "RGB")
    if image.mode in PLAIN_MODES:
        image = image.convert(PLAIN_MODES[image.mode])
    if profile is not None and PROFILE_SPACES.get(image.mode) == _space(profile):
        try:
            return _converted(image, profile)
        except ImageCms.PyCMSError:
            pass  # parsed, but not usable (tags missing): taken as sRGB
    if image.mode not in ("L", "RGB", "RGBA"):
        image = image.convert("RGB")  # CMYK or YCbCr without a usable profile
    return _without_profile(image)


def _profile(data: bytes | None) -> ImageCms.ImageCmsProfile | None:
    if not data:
        return None
    try:
        return ImageCms.ImageCmsProfile(io.BytesIO(data))
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # not a profile LittleCMS can read: the pixels are sRGB


def _space(profile: ImageCms.ImageCmsProfile) -> str:
    try:
        return profile.profile.xcolor_space
    except ValueError:  # a header that is not ASCII: no colour space we know
        return ""


def _eight_bit(image: Image.Image) -> Image.Image:
    if image.mode not in WIDE_GREYS:
        return image
    wide = image.convert("I")
    # convert("L") clips a 16-bit sample to 255 (white); 257 maps 65535 to 255.
    grey = wide.point(lambda value: value / 257 + 0.5).convert("L")  # rounded
    transparent = grey.info.pop("transparency", None)  # a 16-bit grey value
    if not isinstance(transparent, int):
        return grey
    # The transparent grey, exact in 16 bits, becomes an alpha channel.
    alpha = ImageMath.lambda_eval(
        lambda pixels: (pixels["wide"] != transparent) * 255, wide=wide
    )
    return Image.merge("LA", (grey, alpha.convert("L")))


def _converted(image: Image.Image, profile: ImageCms.ImageCmsProfile) -> Image.Image:
    out_mode = "RGBA" if image.mode == "RGBA" else "RGB"
    transform = ImageCms.buildTransform(profile, SRGB, image.mode, out_mode)
    return _without_profile(ImageCms.applyTransform(image, transform))


def _without_profile(image: Image.Image) -> Image.Image:
    image.info.pop("icc_profile", None)
    return image


def has_alpha(image: Image.Image) -> bool:
    """Return whether the image has an alpha channel or a transparent colour."""
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
