"""
ICC profiles built byte by byte (ICC.1:2001-04, version 2), for the colour
tests: Display P3 and Adobe RGB (matrix and curves) and a small CMYK printer
profile (an 8-bit lookup table). ImageCms can only create sRGB and Lab.
"""

from __future__ import annotations

import itertools
import struct

D50 = (0.9642, 1.0, 0.8249)
D65_XY = (0.3127, 0.3290)
BRADFORD = (
    (0.8951, 0.2664, -0.1614),
    (-0.7502, 1.7135, 0.0367),
    (0.0389, -0.0685, 1.0296),
)
BRADFORD_INVERSE = (
    (0.9869929, -0.1470543, 0.1599627),
    (0.4323053, 0.5183603, 0.0492912),
    (-0.0085287, 0.0400428, 0.9684867),
)
DISPLAY_P3 = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))
ADOBE_RGB = ((0.64, 0.33), (0.21, 0.71), (0.15, 0.06))
SRGB_CURVE = (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)


def rgb_profile(primaries, *, curve, description: str) -> bytes:
    """A display profile: primaries (xy, D65 white) and one tone curve for all."""
    columns = _adapted_columns(primaries)
    trc = _parametric(curve) if isinstance(curve, tuple) else _gamma(curve)
    tags = {
        b"desc": _text_description(description),
        b"wtpt": _xyz(D50),
        b"rXYZ": _xyz(columns[0]),
        b"gXYZ": _xyz(columns[1]),
        b"bXYZ": _xyz(columns[2]),
        b"rTRC": trc,
        b"gTRC": trc,
        b"bTRC": trc,
        b"cprt": _text(b"No copyright, use freely"),
    }
    return _profile(b"mntr", b"RGB ", b"XYZ ", tags)


def rgb_profile_without_colorants() -> bytes:
    """A display profile LittleCMS reads but cannot convert with: no colorants."""
    tags = {b"desc": _text_description("Broken"), b"wtpt": _xyz(D50)}
    return _profile(b"mntr", b"RGB ", b"XYZ ", tags)


def cmyk_profile(description: str = "Test press") -> bytes:
    """A printer profile whose inks differ from Pillow's naive CMYK formula."""
    tags = {
        b"desc": _text_description(description),
        b"wtpt": _xyz(D50),
        b"A2B0": _cmyk_to_lab_lut(),
        b"cprt": _text(b"No copyright, use freely"),
    }
    return _profile(b"prtr", b"CMYK", b"Lab ", tags)


def _profile(device_class, space, pcs, tags: dict[bytes, bytes]) -> bytes:
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags.items():
        data += b"\x00" * (-len(data) % 4)
        table += struct.pack(">4sII", signature, offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = struct.pack(
        ">I4sI4s4s4s12s4s4sI4s4sQI12s4s16s28s",
        size,
        b"lcms",
        0x02100000,
        device_class,
        space,
        pcs,
        b"\x00" * 12,
        b"acsp",
        b"APPL",
        0,
        b"none",
        b"none",
        0,
        0,
        b"".join(_s15(v) for v in D50),
        b"lcms",
        b"\x00" * 16,
        b"\x00" * 28,
    )
    return header + struct.pack(">I", len(tags)) + table + body


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(xyz) -> bytes:
    return b"XYZ \x00\x00\x00\x00" + b"".join(_s15(v) for v in xyz)


def _gamma(gamma: float) -> bytes:
    return b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, round(gamma * 256))


def _parametric(parameters) -> bytes:
    return (
        b"para\x00\x00\x00\x00"
        + struct.pack(">HH", 3, 0)
        + b"".join(_s15(v) for v in parameters)
    )


def _text(text: bytes) -> bytes:
    return b"text\x00\x00\x00\x00" + text + b"\x00"


def _text_description(description: str) -> bytes:
    ascii_text = description.encode("ascii") + b"\x00"
    return (
        b"desc\x00\x00\x00\x00"
        + struct.pack(">I", len(ascii_text))
        + ascii_text
        + struct.pack(">II", 0, 0)  # no Unicode description
        + struct.pack(">HB", 0, 0)
        + b"\x00" * 67  # no Macintosh description
    )


def _matrix_vector(matrix, vector):
    return tuple(sum(m * v for m, v in zip(row, vector, strict=True)) for row in matrix)


def _solve(matrix, vector):
    """Solve a 3x3 linear system by Cramer's rule."""

    def det(m):
        return (
            m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
        )

    whole = det(matrix)
    result = []
    for column in range(3):
        replaced = [
            [vector[r] if c == column else matrix[r][c] for c in range(3)]
            for r in range(3)
        ]
        result.append(det(replaced) / whole)
    return result


def _xyz_of(xy) -> tuple[float, float, float]:
    x, y = xy
    return (x / y, 1.0, (1 - x - y) / y)


def _adapted_columns(primaries):
    """The primaries' XYZ (white Y = 1) adapted from D65 to D50 (Bradford)."""
    columns = [_xyz_of(xy) for xy in primaries]
    white = _xyz_of(D65_XY)
    matrix = [[columns[c][r] for c in range(3)] for r in range(3)]
    scales = _solve(matrix, white)
    scaled = [tuple(v * scales[c] for v in columns[c]) for c in range(3)]
    source_cone = _matrix_vector(BRADFORD, white)
    target_cone = _matrix_vector(BRADFORD, D50)
    ratio = [t / s for t, s in zip(target_cone, source_cone, strict=True)]

    def adapt(xyz):
        cone = _matrix_vector(BRADFORD, xyz)
        return _matrix_vector(
            BRADFORD_INVERSE, [c * r for c, r in zip(cone, ratio, strict=True)]
        )

    return [adapt(column) for column in scaled]


def _lab_of_ink(c, m, y, k):
    """Lab (D50) of inks 0..1, with a dot gain that darkens every tone."""
    rgb = [((1 - ink) * (1 - k)) ** 1.6 for ink in (c, m, y)]
    x, yy, z = _matrix_vector(
        ((0.4361, 0.3851, 0.1431), (0.2225, 0.7169, 0.0606), (0.0139, 0.0971, 0.7141)),
        rgb,
    )

    def f(t):
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    fx, fy, fz = f(x / D50[0]), f(yy / D50[1]), f(z / D50[2])
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def _cmyk_to_lab_lut(points: int = 5) -> bytes:
    identity = bytes(range(256))
    clut = b""
    grid = [i / (points - 1) for i in range(points)]
    for c, m, y, k in itertools.product(grid, repeat=4):
        lightness, a, b = _lab_of_ink(c, m, y, k)
        clut += bytes(
            [
                max(0, min(255, round(lightness * 255 / 100))),
                max(0, min(255, round(a + 128))),
                max(0, min(255, round(b + 128))),
            ]
        )
    matrix = b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    return (
        b"mft1\x00\x00\x00\x00"
        + bytes([4, 3, points, 0])
        + matrix
        + identity * 4
        + clut
        + identity * 3
    )
