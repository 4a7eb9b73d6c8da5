"""
Demo photos drawn offline with Pillow, for seed_demo: people against a wall
or outdoors, with depth (a blurred background, light and shadow), colour
variety and film grain, some upright and some wide, so that they read as
photos, unlike the initials shown where there is none, and so that choosing
the crop matters. The same name always draws the same photo.
"""

from __future__ import annotations

import hashlib
import io
import random

from PIL import Image, ImageChops, ImageDraw, ImageFilter

SKIN = [(241, 194, 167), (224, 172, 138), (198, 134, 96), (141, 85, 58), (92, 56, 38)]
HAIR = [(28, 22, 20), (72, 46, 30), (140, 94, 52), (212, 176, 118), (150, 150, 150)]
CLOTHES = [
    (38, 70, 120),
    (170, 48, 58),
    (40, 110, 80),
    (230, 180, 60),
    (90, 60, 130),
    (60, 60, 66),
    (220, 220, 214),
]
UPRIGHT, WIDE = (600, 800), (960, 640)


def demo_photo(name: str, *, wide: bool) -> bytes:
    """Return a JPEG of one person (upright) or a few (wide), seeded by name."""
    rng = random.Random(hashlib.sha256(name.encode()).digest())
    size = WIDE if wide else UPRIGHT
    image = _background(rng, size, outdoors=wide and rng.random() < 0.6)
    people = rng.randint(1, 3) if wide else 1
    for number in range(people):
        if wide:
            # Off the centre, so the square crop must be chosen.
            x = (
                size[0] * (0.22 + 0.56 * number / max(people - 1, 1))
                if people > 1
                else (size[0] * rng.choice([0.28, 0.72]))
            )
        else:
            x = size[0] * rng.uniform(0.42, 0.58)
        _person(image, rng, x=x, scale=size[1] / 800 * rng.uniform(0.85, 1.05))
    image = _finish(image, rng)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def _gradient(size, top, bottom) -> Image.Image:
    column = Image.new("RGB", (1, 256))
    for y in range(256):
        t = y / 255
        column.putpixel(
            (0, y),
            tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    return column.resize(size, Image.Resampling.BICUBIC)


def _background(rng, size, *, outdoors: bool) -> Image.Image:
    hue = [rng.randint(40, 220) for _ in range(3)]
    if outdoors:
        sky = _gradient(size, (120, 170, 230), (220, 230, 240))
        ground = _gradient(size, (70 + hue[0] // 4, 110, 60), (40, 70, 40))
        mask = Image.new("L", size, 0)
        ImageDraw.Draw(mask).rectangle((0, int(size[1] * 0.62), *size), fill=255)
        image = Image.composite(ground, sky, mask)
        layer = ImageDraw.Draw(image)
        for _ in range(6):  # distant trees
            cx, cy = rng.uniform(0, size[0]), size[1] * rng.uniform(0.5, 0.62)
            r = rng.uniform(40, 110)
            tone = (40, rng.randint(80, 120), 50)
            layer.ellipse((cx - r, cy - r * 1.3, cx + r, cy + r * 0.4), fill=tone)
    else:
        dark = tuple(max(0, c - 90) for c in hue)
        image = _gradient(size, tuple(hue), dark)
    # Out-of-focus lights: the background is far behind the sitter.
    lights = Image.new("RGB", size, (0, 0, 0))
    draw = ImageDraw.Draw(lights)
    for _ in range(rng.randint(8, 18)):
        cx, cy, r = (
            rng.uniform(0, size[0]),
            rng.uniform(0, size[1] * 0.7),
            rng.uniform(10, 45),
        )
        glow = tuple(rng.randint(60, 140) for _ in range(3))
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=glow)
    image = ImageChops.add(image, lights.filter(ImageFilter.GaussianBlur(12)))
    return image.filter(ImageFilter.GaussianBlur(6))


def _person(image: Image.Image, rng, *, x: float, scale: float) -> None:
    width, height = image.size
    skin, hair = rng.choice(SKIN), rng.choice(HAIR)
    shirt = rng.choice(CLOTHES)
    head_r = 95 * scale
    head_y = height - 430 * scale
    # A soft shadow behind the figure lifts it off the background.
    shadow = Image.new("L", image.size, 0)
    ImageDraw.Draw(shadow).ellipse(
        (x - 250 * scale, head_y - 40 * scale, x + 270 * scale, height + 200 * scale),
        fill=110,
    )
    shadow = shadow.filter(ImageFilter.GaussianBlur(40 * scale))
    image.paste((0, 0, 0), mask=shadow)
    draw = ImageDraw.Draw(image)
    # Shoulders and body, lit from the left.
    body = (
        x - 230 * scale,
        height - 250 * scale,
        x + 230 * scale,
        height + 260 * scale,
    )
    draw.ellipse(body, fill=shirt)
    neck = (x - 38 * scale, head_y + 60 * scale, x + 38 * scale, height - 220 * scale)
    draw.rectangle(neck, fill=tuple(max(0, c - 30) for c in skin))
    # Hair behind the head, the head, then the fringe.
    draw.ellipse(
        (
            x - head_r * 1.12,
            head_y - head_r * 1.2,
            x + head_r * 1.12,
            head_y + head_r * 0.9,
        ),
        fill=hair,
    )
    draw.ellipse(
        (x - head_r * 0.86, head_y - head_r, x + head_r * 0.86, head_y + head_r * 1.08),
        fill=skin,
    )
    draw.pieslice(
        (
            x - head_r * 0.95,
            head_y - head_r * 1.15,
            x + head_r * 0.95,
            head_y + head_r * 0.5,
        ),
        180,
        360,
        fill=hair,
    )
    for side in (-1, 1):  # eyes and brows
        ex, ey = x + side * head_r * 0.33, head_y + head_r * 0.12
        draw.ellipse(
            (ex - 9 * scale, ey - 6 * scale, ex + 9 * scale, ey + 6 * scale),
            fill=(40, 30, 30),
        )
        draw.line(
            (ex - 16 * scale, ey - 20 * scale, ex + 16 * scale, ey - 22 * scale),
            fill=hair,
            width=max(2, int(6 * scale)),
        )
    mouth_y = head_y + head_r * 0.6
    draw.arc(
        (x - 30 * scale, mouth_y - 18 * scale, x + 30 * scale, mouth_y + 12 * scale),
        20,
        160,
        fill=(150, 70, 70),
        width=max(2, int(5 * scale)),
    )


def _finish(image: Image.Image, rng) -> Image.Image:
    """A vignette, warm or cool light and grain, as a camera gives."""
    vignette = (
        Image.radial_gradient("L").resize(image.size).point(lambda v: 255 - v // 3)
    )
    image = ImageChops.multiply(image, Image.merge("RGB", [vignette] * 3))
    # Light from one side: the far side of every face and shoulder falls off.
    light = Image.linear_gradient("L").rotate(rng.choice([90, -90])).resize(image.size)
    light = light.point(lambda v: 150 + v * 105 // 255)
    image = ImageChops.multiply(image, Image.merge("RGB", [light] * 3))
    tint = (rng.randint(-12, 18), 0, rng.randint(-12, 12))
    r, g, b = image.split()
    r = r.point(lambda v: max(0, min(255, v + tint[0])))
    b = b.point(lambda v: max(0, min(255, v + tint[2])))
    image = Image.merge("RGB", (r, g, b))
    grain = Image.effect_noise(image.size, 18).convert("RGB")
    return Image.blend(image, ImageChops.overlay(image, grain), 0.25).filter(
        ImageFilter.SMOOTH
    )
