"""Hard synthetic product photos with exact masks and labels, for the cloth benchmark and tests.

Why: `vton.synthetic_garments` draws clean tops on pure white, which every masker gets
right. Real catalogs are harder, and the cloth stage also has to tell a top from trousers.
This module draws the cases that break naive maskers, with the ground truth known exactly
because the photo is made from the silhouette:

* silhouettes of every category: tees, tanks, long sleeves (hanging or spread), shirts,
  jackets with hoods or collars (outerwear), dresses, trousers, shorts, skirts, and a few
  non-garments (caps, shoes, bags) for ``other``;
* garments of every colour, including white and light grey on white and the backdrop's own
  colour, plain or with stripes, checks, dots, blotchy prints, text and knit noise, with
  folds, lighting and darkened edges;
* backdrops that are white, off-white, grey, pastel or dark, with linear and radial
  gradients, mottling, soft drop shadows and the occasional hanger hook;
* camera effects: blur, sensor noise and JPEG artefacts; varied sizes, aspect ratios,
  framing, small rotations and garments cut off by the frame.

The ground-truth mask is the garment's coverage >= 0.5 (4x supersampled), the same raster
the photo is composited from, so a perfect masker scores IoU 1. Everything random comes
from ``numpy.random.default_rng(seed)``: a seed always renders identical arrays.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vton.synthetic_garments import (
    FIXED_SHIFT,
    bezier,
    close_outline,
    fixed_point,
    quarter_ellipse,
    supersampled_coverage,
)

__all__ = ["KINDS", "HardSample", "hard_samples", "render_catalog", "render_hard"]

#: Garment kinds drawn, with their (category, sleeve) labels and sampling weights.
KINDS: dict[str, tuple[str, str | None, float]] = {
    "tee": ("top", "short", 0.12),
    "tank": ("top", "sleeveless", 0.08),
    "longsleeve": ("top", "long", 0.08),
    "shirt": ("top", "long", 0.06),
    "jacket": ("outerwear", "long", 0.14),
    "dress": ("dress", None, 0.14),  # sleeve drawn per sample
    "pants": ("bottom", None, 0.12),
    "shorts": ("bottom", None, 0.07),
    "skirt": ("bottom", None, 0.07),
    "cap": ("other", None, 0.04),
    "shoe": ("other", None, 0.04),
    "bag": ("other", None, 0.04),
}


@dataclass(frozen=True, eq=False)
class HardSample:
    """One photo: image (H, W, 3) uint8 RGB, mask (H, W) uint8 {0, 255}, labels, traits.

    `sleeve` is None for garments without sleeves to speak of (bottoms, other). `traits`
    names what makes the photo hard (background kind, shadow, white-on-white...), so a
    benchmark can say where a masker fails.
    """

    image: np.ndarray = field(repr=False)
    mask: np.ndarray = field(repr=False)
    kind: str
    category: str
    sleeve: str | None
    seed: int
    traits: dict = field(default_factory=dict)
    #: (H, W) uint8 {0, 255}: the thin straps of a cami (`render_catalog`), else None.
    straps: np.ndarray | None = field(default=None, repr=False)


# --------------------------------------------------------------------------------------------
# Silhouettes, in garment units: y down from the top (0) to the hem (1), x from the centre line.
# Each builder returns the right half from the centre top to the centre bottom, closed by
# `close_outline` (or the whole outline for asymmetric shapes), and a few decoration hints.
# --------------------------------------------------------------------------------------------


def _sensor(
    img: np.ndarray,
    rng: np.random.Generator,
    noise: tuple[float, float],
    p_jpeg: float,
    quality: tuple[int, int],
    traits: dict,
) -> np.ndarray:
    """A camera's sensor noise (sigma drawn from `noise`) on an (H, W, 3) float32 0..255
    image, then, with probability `p_jpeg`, a JPEG round trip at a quality drawn from
    `quality`; (H, W, 3) uint8. Records ``noise`` and ``jpeg`` in `traits`. The draws are
    made in this order for every scene, so a seed always renders the same photo."""
    sigma = rng.uniform(*noise)
    img = img + rng.standard_normal(img.shape).astype(np.float32) * sigma
    image = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    traits["noise"] = round(float(sigma), 2)
    if rng.random() < p_jpeg:
        q = int(rng.integers(*quality))
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, format="JPEG", quality=q)
        image = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")).copy()
        traits["jpeg"] = q
    return image


def _arc(c: np.ndarray, r: tuple[float, float], a0: float, a1: float, n: int = 12) -> np.ndarray:
    t = np.linspace(a0, a1, n)
    return np.stack([c[0] + r[0] * np.cos(t), c[1] + r[1] * np.sin(t)], axis=1)


def _neck(rng: np.random.Generator, width: float, depth: float) -> np.ndarray:
    """Right half of a neckline from the centre dip to the neck side at y = 0."""
    if rng.random() < 0.3:  # V neck
        t = np.linspace(0, math.pi / 2, 10)
        return np.stack([width * t / t[-1], depth * (1 - t / t[-1])], axis=1)
    return quarter_ellipse(width, depth, n=10)


def _top_half(rng: np.random.Generator, sleeve: str, body: float, neck_w: float) -> np.ndarray:
    """Right half of a top-like upper body: neck, shoulder, sleeve, armpit (no hem)."""
    neck = _neck(rng, neck_w, rng.uniform(0.05, 0.16))
    shoulder = np.array([body - rng.uniform(0.02, 0.05), rng.uniform(0.03, 0.07)])
    if sleeve == "sleeveless":
        armpit = np.array([body, rng.uniform(0.28, 0.36)])
        strap = np.array([neck_w + rng.uniform(0.05, 0.09), 0.0])
        ctrl = np.array([strap[0] + 0.02, armpit[1] - 0.06])
        return np.concatenate([neck, bezier(strap, ctrl, armpit, n=10)])
    if sleeve == "short":
        ang = math.radians(rng.uniform(22, 50))
        length, opening = rng.uniform(0.17, 0.28), rng.uniform(0.13, 0.19)
    elif rng.random() < 0.5:  # long, spread out as in a flat lay
        ang = math.radians(rng.uniform(25, 55))
        length, opening = rng.uniform(0.5, 0.7), rng.uniform(0.09, 0.13)
    else:  # long, hanging beside the body
        ang = math.radians(rng.uniform(68, 80))
        length, opening = rng.uniform(0.78, 0.92), rng.uniform(0.1, 0.14)
    d = np.array([math.cos(ang), math.sin(ang)])
    inward = np.array([-math.sin(ang), math.cos(ang)])
    cuff_out = shoulder + length * d
    cuff_in = cuff_out + opening * inward
    armpit = np.array([body, rng.uniform(0.24, 0.3)])
    if cuff_in[0] < body + 0.03:  # hanging sleeve: the inner edge meets the body lower down
        armpit = np.array([body + 0.005, min(cuff_in[1] - 0.05, 0.55)])
        cuff_in[0] = max(cuff_in[0], body + 0.015)
    return np.concatenate([neck, np.stack([shoulder, cuff_out, cuff_in, armpit])])


def _shape(kind: str, rng: np.random.Generator, sleeve: str | None) -> tuple[np.ndarray, dict]:
    """Outline (N, 2) in garment units and decoration hints for `kind`."""
    info: dict = {"chest": 0.35, "zip": False, "placket": False, "waist": None}
    if kind in ("tee", "tank", "longsleeve", "shirt", "jacket"):
        body = rng.uniform(0.3, 0.37) if kind != "jacket" else rng.uniform(0.34, 0.42)
        neck_w = rng.uniform(0.09, 0.13)
        upper = _top_half(rng, sleeve or "long", body, neck_w)
        if kind == "jacket" and rng.random() < 0.5:  # hood above the neck
            hood = _arc(np.array([0.0, 0.02]), (neck_w + 0.05, 0.2), -math.pi / 2, 0, 8)
            upper = np.concatenate([hood[:-1], upper[np.argmax(upper[:, 1] <= 1e-6) :]])
            upper[0, 0] = 0.0
        elif kind in ("shirt", "jacket"):  # collar points out over the shoulders
            collar = np.array([[0.0, 0.1], [neck_w * 0.5, 0.16], [neck_w + 0.03, -0.02]])
            upper = np.concatenate([collar, upper[np.argmax(upper[:, 1] <= 1e-6) + 1 :]])
        hem = np.array([body + rng.uniform(-0.03, 0.03), 1.0])
        right = np.concatenate([upper, hem[None], [[0.0, 1.0]]])
        info.update(zip=kind == "jacket", placket=kind == "shirt")
        return close_outline(right), info
    if kind == "dress":
        body = rng.uniform(0.17, 0.22)
        upper = _top_half(rng, sleeve or "sleeveless", body, rng.uniform(0.06, 0.08))
        waist_y = rng.uniform(0.3, 0.42)
        waist = np.array([body - rng.uniform(0.0, 0.04), waist_y])
        hem = np.array([rng.uniform(0.26, 0.45), 1.0])
        t = np.linspace(0, 1, 6)[1:, None]
        skirt = waist + t * (hem - waist) + np.array([0.03, 0.0]) * np.sin(math.pi * t)
        right = np.concatenate([upper, waist[None], skirt, [[0.0, 1.0]]])
        info.update(chest=0.2, waist=waist_y)
        return close_outline(right), info
    if kind in ("pants", "shorts"):
        if kind == "pants":
            waist, crotch = rng.uniform(0.17, 0.22), rng.uniform(0.26, 0.34)
            hem_out, hem_in = rng.uniform(0.17, 0.25), rng.uniform(0.02, 0.05)
        else:
            waist, crotch = rng.uniform(0.36, 0.45), rng.uniform(0.5, 0.66)
            hem_out, hem_in = rng.uniform(0.44, 0.55), rng.uniform(0.04, 0.1)
        hip = np.array([waist + rng.uniform(0.01, 0.04), crotch * 0.6])
        right = np.array(
            [[0.0, 0.0], [waist, 0.0], hip, [hem_out, 1.0], [hem_in, 1.0], [0.0, crotch]]
        )
        return close_outline(right), info
    if kind == "skirt":
        waist, hem = rng.uniform(0.22, 0.32), rng.uniform(0.4, 0.62)
        t = np.linspace(0, 1, 8)[:, None]
        side = np.array([waist, 0.0]) + t * np.array([hem - waist, 1.0])
        side[:, 0] += 0.04 * np.sin(math.pi * t[:, 0])
        right = np.concatenate([[[0.0, 0.0]], side, [[0.0, 1.0 + rng.uniform(0, 0.04)]]])
        return close_outline(right), info
    if kind == "cap":
        w = rng.uniform(0.55, 0.7)
        dome = _arc(np.array([0.0, 0.8]), (w, 0.8), math.pi, 2 * math.pi, 24)
        brim = np.array([[w, 0.8], [w + rng.uniform(0.3, 0.5), 0.9], [w + 0.3, 1.0], [-w, 1.0]])
        return np.concatenate([dome, brim]), info
    if kind == "shoe":
        L = rng.uniform(1.6, 2.2)
        pts = np.array(
            [[-L / 2, 1.0], [-L / 2, 0.15], [-L / 2 + 0.45, 0.0], [-0.05, 0.3], [L / 2 - 0.2, 0.55],
             [L / 2, 0.8], [L / 2, 1.0]]
        )  # fmt: skip
        return pts, info
    # bag: a wide rounded rectangle (a clutch or tote seen from the front)
    half, rad = rng.uniform(0.6, 0.85), rng.uniform(0.06, 0.16)
    right = np.concatenate(
        [[[0.0, 0.0]], _arc(np.array([half - rad, rad]), (rad, rad), -math.pi / 2, 0, 6),
         _arc(np.array([half - rad, 1 - rad]), (rad, rad), 0, math.pi / 2, 6), [[0.0, 1.0]]]
    )  # fmt: skip
    return close_outline(right), info


# --------------------------------------------------------------------------------------------
# Rasterisation and texture
# --------------------------------------------------------------------------------------------


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cell: float) -> np.ndarray:
    """Low-frequency noise in about [-1, 1] with features of `cell` pixels."""
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    grid = rng.standard_normal((gh, gw)).astype(np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC) * 0.7


def _hsv_colour(
    rng: np.random.Generator, saturation: tuple[int, int], value: tuple[int, int]
) -> np.ndarray:
    """A random hue with saturation and value drawn from [low, high) (OpenCV's 0..255
    scales), as a (3,) uint8 RGB colour."""
    hsv = np.uint8([[[rng.integers(0, 180), rng.integers(*saturation), rng.integers(*value)]]])
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0]


def _colour(rng: np.random.Generator, bg: np.ndarray) -> tuple[np.ndarray, str]:
    """Garment base colour and its kind; white and backdrop-like colours are deliberate."""
    r = rng.random()
    if r < 0.2:
        v = rng.uniform(228, 248)
        return np.array([v, v, v]) + rng.uniform(-3, 3, 3), "white"
    if r < 0.3:
        v = rng.uniform(185, 228)
        return np.array([v, v, v]) + rng.uniform(-4, 4, 3), "light-grey"
    if r < 0.4:
        return rng.uniform(10, 60, 3), "dark"
    if r < 0.47:  # close to the backdrop: beige on beige, grey on grey
        return np.clip(bg - rng.uniform(14, 30) + rng.uniform(-6, 6, 3), 0, 255), "like-bg"
    return _hsv_colour(rng, (60, 240), (70, 235)).astype(np.float64), "colour"


def _pattern(
    rng: np.random.Generator, h: int, w: int, size: float, chest: tuple[float, float]
) -> tuple[np.ndarray | None, str]:
    """Accent coverage (h, w) in [0, 1] over the garment box, or None for plain."""
    kind = str(rng.choice(["plain", "plain", "stripes", "check", "dots", "print", "text", "knit"]))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "stripes":
        period = size * rng.uniform(0.03, 0.1)
        coord = yy if rng.random() < 0.7 else xx
        return (np.mod(coord, period) < period * rng.uniform(0.3, 0.6)).astype(np.float32), kind
    if kind == "check":
        p = size * rng.uniform(0.04, 0.09)
        a = (np.mod(yy, p) < p / 2).astype(np.float32)
        b = (np.mod(xx, p) < p / 2).astype(np.float32)
        return 0.5 * (a + b), kind
    if kind == "dots":
        p = size * rng.uniform(0.04, 0.08)
        r = p * rng.uniform(0.15, 0.3)
        d = np.hypot(np.mod(yy, p) - p / 2, np.mod(xx, p) - p / 2)
        return np.clip(r - d + 0.5, 0, 1), kind
    if kind == "print":
        n = _smooth_noise(rng, h, w, size * rng.uniform(0.05, 0.15))
        return np.clip((n - 0.3) * 4, 0, 1), kind
    if kind == "knit":
        n = rng.standard_normal((h, w)).astype(np.float32)
        n = cv2.GaussianBlur(n, (0, 0), max(0.6, size / 500))
        return np.clip(0.5 + n * 1.5, 0, 1) * rng.uniform(0.3, 0.7), kind
    if kind == "text":
        img = Image.new("L", (w, h), 0)
        font = ImageFont.load_default(size=max(8, int(size * rng.uniform(0.06, 0.12))))
        word = "".join(rng.choice(list("ABCDEFGHKMNRSTVXYZ"), size=int(rng.integers(3, 7))))
        ImageDraw.Draw(img).text((chest[0], chest[1]), word, fill=255, font=font, anchor="mm")
        return np.asarray(img, np.float32) / 255.0, kind
    return None, "plain"


def _background(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, str]:
    """Backdrop (h, w, 3) float32 0..255 and its kind."""
    r = rng.random()
    if r < 0.45:
        base, kind = np.full(3, rng.uniform(243, 255)), "white"
    elif r < 0.65:
        base = rng.uniform(228, 248) + rng.uniform(-7, 7, 3)
        kind = "off-white"
    elif r < 0.8:
        base, kind = np.full(3, rng.uniform(165, 228)) + rng.uniform(-3, 3, 3), "grey"
    elif r < 0.9:
        base, kind = _hsv_colour(rng, (25, 90), (170, 240)).astype(np.float64), "pastel"
    else:
        base, kind = np.full(3, rng.uniform(25, 80)) + rng.uniform(-4, 4, 3), "dark"
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    shade = np.zeros((h, w), np.float32)
    if rng.random() < 0.6:  # linear gradient
        a = rng.uniform(0, 2 * math.pi)
        g = (np.cos(a) * xx / w + np.sin(a) * yy / h).astype(np.float32)
        shade += (g - g.mean()) * rng.uniform(5, 28)
    if rng.random() < 0.4:  # vignette
        rr = ((xx / w - 0.5) ** 2 + (yy / h - 0.5) ** 2).astype(np.float32)
        shade -= rr * rng.uniform(10, 45)
    if rng.random() < 0.4:  # mottled paper or fabric backdrop
        shade += _smooth_noise(rng, h, w, min(h, w) * 0.1) * rng.uniform(1, 4)
    bg = np.empty((h, w, 3), np.float32)
    for c in range(3):
        bg[..., c] = base[c] + shade
    return bg, kind


def _flatlay_background(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, str]:
    """A home backdrop for a garment laid flat: (h, w, 3) float32 0..255 and its kind.

    Marketplace sellers photograph on beds, floors, rugs and tables: striped or printed
    bedding with wrinkles, wood planks, tiles, knitted or woven rugs, plain sheets under
    uneven room light. These have texture and edges of their own, which a backdrop model
    fitted as a smooth surface cannot explain.
    """
    kind = str(rng.choice(["stripes", "wood", "tiles", "rug", "print", "sheet"]))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    side = float(min(h, w))

    def colour() -> np.ndarray:
        return _hsv_colour(rng, (10, 160), (60, 235)).astype(np.float32)

    base = colour()
    bg = np.empty((h, w, 3), np.float32)
    bg[:] = base
    if kind == "stripes":  # bedding: bands of a few colours, at an angle
        a = rng.uniform(0, math.pi)
        coord = np.cos(a) * xx + np.sin(a) * yy
        period = side * rng.uniform(0.04, 0.2)
        cols = [base] + [colour() for _ in range(int(rng.integers(1, 4)))]
        band = (np.floor(coord / (period / len(cols))).astype(np.int64)) % len(cols)
        for i, c in enumerate(cols):
            bg[band == i] = c
    elif kind == "wood":  # planks with grain and dark seams
        vertical = rng.random() < 0.5
        across = xx if vertical else yy
        width = side * rng.uniform(0.08, 0.2)
        plank = np.floor(across / width)
        tone = (np.sin(plank * 12.9898) * 43758.5453) % 1.0  # a fixed tone per plank
        grain = np.sin(across * rng.uniform(0.3, 0.8) + 3 * _smooth_noise(rng, h, w, side * 0.1))
        f = 1 + 0.12 * (tone - 0.5) + 0.05 * grain
        f *= 1 - 0.35 * (np.mod(across, width) < max(1.0, side * 0.004))
        bg *= f[..., None]
    elif kind == "tiles":  # square tiles and grout
        size = side * rng.uniform(0.1, 0.3)
        grout = (np.mod(xx, size) < side * 0.006) | (np.mod(yy, size) < side * 0.006)
        tone = ((np.floor(xx / size) * 7 + np.floor(yy / size) * 13) % 5) / 5.0
        bg *= (1 + 0.06 * (tone - 0.5))[..., None]
        bg[grout] = bg[grout] * 0.6 + 90
    elif kind == "rug":  # knitted or woven: fine high-contrast texture of two colours
        other = colour()
        n = rng.standard_normal((h, w)).astype(np.float32)
        n = cv2.GaussianBlur(n, (0, 0), max(0.7, side / 400))
        t = np.clip(0.5 + n * rng.uniform(1.0, 2.5), 0, 1)[..., None]
        bg = bg * (1 - t) + other * t
    elif kind == "print":  # floral or patterned bedding: blobs of 2-3 colours
        for _ in range(int(rng.integers(1, 3))):
            blob = _smooth_noise(rng, h, w, side * rng.uniform(0.03, 0.08)) > rng.uniform(0.2, 0.5)
            bg[blob] = colour()
    # Wrinkles and room light over everything: soft shading, a light gradient.
    shade = _smooth_noise(rng, h, w, side * rng.uniform(0.1, 0.3)) * rng.uniform(0.03, 0.12)
    a = rng.uniform(0, 2 * math.pi)
    g = np.cos(a) * xx / w + np.sin(a) * yy / h
    shade += (g - g.mean()) * rng.uniform(0.0, 0.35)
    bg *= (1 + shade)[..., None]
    return np.clip(bg, 0, 255), kind


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


def _pick_kind(rng: np.random.Generator) -> str:
    names = list(KINDS)
    p = np.array([KINDS[k][2] for k in names])
    return str(rng.choice(names, p=p / p.sum()))


def render_hard(
    seed: int, *, long_side: int | None = None, kind: str | None = None, scene: str = "studio"
) -> HardSample:
    """Render one hard product photo for `seed` (deterministic).

    Parameters
    ----------
    seed : int
        Selects everything: garment kind (unless given), shape, colours, backdrop, framing.
    long_side : int, optional
        Pixels on the long side of the photo; default random in [480, 1600].
    kind : str, optional
        One of `KINDS`; default drawn by the seed with the `KINDS` weights.
    scene : str
        ``studio`` (a product backdrop, see `_background`) or ``flatlay`` (laid flat on
        bedding, wood, tiles or a rug, see `_flatlay_background`). Studio photos of a seed
        are the same whatever other scenes exist.
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {tuple(KINDS)}, got {kind!r}")
    if scene not in ("studio", "flatlay"):
        raise ValueError(f"scene must be 'studio' or 'flatlay', got {scene!r}")
    rng = np.random.default_rng(seed)
    kind = kind or _pick_kind(rng)
    category, sleeve, _ = KINDS[kind]
    if kind == "dress":
        sleeve = str(rng.choice(["sleeveless", "sleeveless", "short", "long"]))
    long_side = long_side or int(rng.integers(480, 1601))
    aspect = float(rng.choice([0.75, 0.8, 1.0, 2 / 3, 1.25]))  # width / height
    if aspect <= 1:
        H, W = long_side, max(64, round(long_side * aspect))
    else:
        W, H = long_side, max(64, round(long_side / aspect))

    outline, info = _shape(kind, rng, sleeve)
    if kind in ("dress", "pants", "skirt") and rng.random() < 0.5:
        outline = outline * np.array([1.0, rng.uniform(0.9, 1.1)])
    # Framing: a scale, an offset, a small rotation; one in ten is cut off by the frame.
    rot = math.radians(rng.uniform(-5, 5) if rng.random() < 0.5 else 0.0)
    cr, sr = math.cos(rot), math.sin(rot)
    pts = outline @ np.array([[cr, sr], [-sr, cr]])
    span = pts.max(0) - pts.min(0)
    fill = rng.uniform(0.5, 0.93)
    scale = fill * min(W / span[0], H / span[1])
    room = np.array([W, H]) - span * scale
    origin = np.array([W, H]) / 2 + rng.uniform(-0.4, 0.4, 2) * room / 2
    origin = origin - (pts.min(0) + span / 2) * scale
    cropped = rng.random() < 0.1
    if cropped:  # pushed past one side of the frame by 3-12 % of its extent
        axis, sign = int(rng.integers(0, 2)), float(rng.choice([-1.0, 1.0]))
        lo = origin[axis] + pts.min(0)[axis] * scale
        target = -rng.uniform(0.03, 0.12) * span[axis] * scale
        if sign > 0:
            target = (W, H)[axis] - span[axis] * scale - target
        origin[axis] += target - lo
    poly = pts * scale + origin
    size = float(scale)  # garment height in px

    # Garment box (clipped to the image), coverage and the exact mask.
    x0, y0 = (np.floor(poly.min(0)) - 2).astype(int).clip(0, [W, H])
    x1, y1 = (np.ceil(poly.max(0)) + 3).astype(int).clip(0, [W, H])
    bh, bw = y1 - y0, x1 - x0
    # Area coverage in [0, 1], (bh, bw) float32.
    cov = supersampled_coverage(poly - [x0, y0], bh, bw).astype(np.float32) / 255.0
    mask = np.zeros((H, W), np.uint8)
    mask[y0:y1, x0:x1] = np.where(cov >= 0.5, 255, 0).astype(np.uint8)

    if scene == "flatlay":
        bg, bg_kind = _flatlay_background(rng, H, W)
    else:
        bg, bg_kind = _background(rng, H, W)
    bg_mean = bg[::8, ::8].reshape(-1, 3).mean(0)
    colour, colour_kind = _colour(rng, bg_mean)
    if bg_kind == "dark" and colour_kind == "dark":
        colour = colour + 120
    traits = {
        "scene": scene,
        "kind": kind,
        "background": bg_kind,
        "colour": colour_kind,
        "cropped": cropped,
    }

    # Soft drop shadow under the garment (darkens the backdrop only).
    if rng.random() < 0.6:
        sigma = size * rng.uniform(0.01, 0.04)
        shift = rng.uniform(-0.02, 0.03, 2) * size
        m = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
        full = np.zeros((H, W), np.float32)
        full[y0:y1, x0:x1] = cov
        sh = cv2.warpAffine(full, m, (W, H), borderMode=cv2.BORDER_CONSTANT)
        sh = cv2.GaussianBlur(sh, (0, 0), sigma)
        bg *= (1 - rng.uniform(0.06, 0.25) * sh)[..., None]
        traits["shadow"] = True
    # A hanger hook above a top's neck, drawn on the backdrop (not part of the garment).
    if category in ("top", "outerwear") and rng.random() < 0.15:
        top_y = poly[:, 1].min()
        cx = float(np.mean(poly[:, 0]))
        hook = np.array([[cx, top_y + 0.05 * size], [cx, top_y - 0.06 * size]])
        t = np.linspace(0, math.pi * 1.3, 10)
        r = 0.03 * size
        curl = np.stack([cx + r * np.sin(t) - 0 * t, top_y - 0.06 * size - r + r * np.cos(t)], 1)
        line = np.concatenate([hook, curl[1:]])
        tone = rng.uniform(40, 140)
        cv2.polylines(
            bg, [fixed_point(line)], False, (tone, tone, tone), max(2, int(size * 0.008)),
            cv2.LINE_AA, FIXED_SHIFT,
        )  # fmt: skip
        traits["hanger"] = True

    # Garment texture and shading over its box.
    chest = ((poly[:, 0].mean() - x0), (poly[:, 1].min() + info["chest"] * size - y0))
    amount, pattern = _pattern(rng, bh, bw, size, chest)
    traits["pattern"] = pattern
    accent = colour + rng.uniform(-150, 150, 3) if rng.random() < 0.7 else 255 - colour
    accent = np.clip(accent, 0, 255)
    yy = np.arange(bh, dtype=np.float32)[:, None]
    factor = 1.0 - rng.uniform(0, 0.08) * (yy / max(bh, 1)) + np.zeros((1, bw), np.float32)
    for _ in range(int(rng.integers(1, 4))):  # folds
        a = rng.uniform(0, math.pi)
        c = rng.uniform([0, 0], [bw, bh])
        d = np.abs(
            (np.arange(bw)[None, :] - c[0]) * math.sin(a) - (yy - c[1]) * math.cos(a)
        ).astype(np.float32)
        factor *= 1 - rng.uniform(0.03, 0.12) * np.exp(-((d / (size * 0.015)) ** 2))
    inside = (cov > 0).astype(np.uint8)
    dist = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
    edge_dark = rng.uniform(0.02, 0.12)
    factor *= 1 - edge_dark * np.exp(-dist / max(1.0, size * rng.uniform(0.004, 0.012)))
    traits["edge_dark"] = round(float(edge_dark), 3)
    garment = np.empty((bh, bw, 3), np.float32)
    for c in range(3):
        plane = np.full((bh, bw), colour[c], np.float32)
        if amount is not None:
            plane += np.float32(accent[c] - colour[c]) * amount
        garment[..., c] = plane * factor
    cx = round(float(poly[:, 0].mean())) - x0
    if info["zip"]:  # outerwear: a dark zip down the centre and two pocket flaps
        half = max(1, int(size * 0.006))
        garment[:, cx - half : cx + half + 1] *= 0.5
        py = int(poly[:, 1].min() + 0.62 * size) - y0
        for side in (-1, 1):
            px0 = cx + side * int(0.08 * size) - (int(0.14 * size) if side < 0 else 0)
            cv2.rectangle(
                garment, (px0, py), (px0 + int(0.14 * size), py + int(0.025 * size)),
                tuple(float(v) * 0.7 for v in colour), -1,
            )  # fmt: skip
    elif info["placket"]:  # shirt: a thin placket line with buttons
        garment[:, cx : cx + max(1, int(size * 0.003))] *= 0.85
        top = int(poly[:, 1].min() + 0.12 * size) - y0
        for i in range(6):
            cy = top + int(i * 0.14 * size)
            cv2.circle(garment, (cx + 3, cy), max(1, int(size * 0.008)), (235, 232, 225), -1)
    a = cov[..., None]
    region = bg[y0:y1, x0:x1]
    bg[y0:y1, x0:x1] = region * (1 - a) + garment * a

    # Camera: blur, noise, JPEG.
    if rng.random() < 0.5:
        bg = cv2.GaussianBlur(bg, (0, 0), rng.uniform(0.3, 0.9))
    image = _sensor(bg, rng, (0.3, 4.0), 0.8, (55, 96), traits)
    white_on_white = bg_kind in ("white", "off-white") and colour_kind in ("white", "like-bg")
    traits["white_on_white"] = white_on_white
    return HardSample(image, mask, kind, category, sleeve, seed, traits)


def _cami_body(rng: np.random.Generator) -> tuple[np.ndarray, list[np.ndarray]]:
    """A cami's body outline (N, 2) and its two straps ((M, 2) centre lines), garment units.

    The body starts at y ~0.22 (a straight or sweetheart top edge); the straps run from
    its top edge up to y = 0 and are drawn as lines a few pixels wide, so the masker has to
    keep a thin structure attached to the body.
    """
    top = rng.uniform(0.18, 0.26)
    dip = rng.uniform(0.0, 0.06)
    body = rng.uniform(0.26, 0.34)
    hem = rng.uniform(0.3, 0.4)
    length = rng.uniform(0.75, 1.0)
    right = np.array(
        [
            [0.0, top + dip],
            [0.08, top + 0.4 * dip],
            [0.16, top],
            [body, top + rng.uniform(0.04, 0.1)],
            [body + 0.01, top + 0.25],
            [hem, length],
            [0.0, length],
        ]
    )
    sx = rng.uniform(0.12, 0.17)
    straps = []
    for side in (-1.0, 1.0):
        a = np.array([side * sx, top + 0.005])
        b = np.array([side * (sx - rng.uniform(0.0, 0.04)), 0.0])
        straps.append(bezier(a, (a + b) / 2 + [side * 0.01, 0.0], b, n=8))
    return close_outline(right), straps


def render_catalog(seed: int, *, long_side: int | None = None) -> HardSample:
    """A clean catalog shot: a white or near-white garment on a white or light-grey backdrop.

    Why: real studio catalogs are shot on a backdrop of 240-255 that is almost free of
    noise, and a white garment on it differs by a few levels only (~237 on ~246), its
    outline a faint step of its own shading; a cami's straps are 2-5 px wide. `render_hard`
    adds sensor noise to every photo and draws tanks with wide straps, so it covers neither.
    Here: backdrop 236-253 with a gentle gradient or vignette, noise <= 0.8, high-quality
    JPEG; the garment 4-12 levels darker (or, on light grey, brighter) than the backdrop,
    with a faint darkened edge and folds; half with a coloured chest print, the rest plain;
    soft drop shadows (which are backdrop); 40 % camis with straps (`HardSample.straps`).
    Deterministic in `seed`; traits ``scene`` = ``catalog``, ``white_on_white`` True.
    """
    rng = np.random.default_rng(seed)
    cami = rng.random() < 0.4
    if cami:
        kind = "tank"
    else:
        kind = str(rng.choice(["tee", "longsleeve", "shirt", "dress", "pants", "skirt"]))
    category, sleeve, _ = KINDS[kind]
    if kind == "dress":
        sleeve = str(rng.choice(["sleeveless", "short"]))
    H = long_side or int(rng.integers(640, 1281))
    W = round(H * 0.75)
    straps: list[np.ndarray] = []
    if cami:
        outline, straps = _cami_body(rng)
    else:
        outline, _info = _shape(kind, rng, sleeve)
    span = outline.max(0) - outline.min(0)
    scale = rng.uniform(0.6, 0.85) * min(W / span[0], H / span[1])
    origin = np.array([W, H]) / 2 - (outline.min(0) + span / 2) * scale
    origin = origin + rng.uniform(-0.03, 0.03, 2) * [W, H]
    poly = outline * scale + origin
    size = float(scale)

    # Coverage of the body and the straps, 4x supersampled: the exact mask.
    ss = 4
    big = np.zeros((H * ss, W * ss), np.uint8)
    cv2.fillPoly(big, [fixed_point(poly, (ss - 1) / 2.0, ss)], 255, cv2.LINE_8, FIXED_SHIFT)
    strap_big = np.zeros_like(big)
    strap_w = float(rng.uniform(2.5, 5.0))
    for line in straps:
        pts = fixed_point(line * scale + origin, (ss - 1) / 2.0, ss)
        cv2.polylines(strap_big, [pts], False, 255, round(strap_w * ss), cv2.LINE_8, FIXED_SHIFT)
    cov_strap = cv2.resize(strap_big, (W, H), interpolation=cv2.INTER_AREA)
    big = np.maximum(big, strap_big)
    cov = cv2.resize(big, (W, H), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    mask = np.where(cov >= 0.5, 255, 0).astype(np.uint8)

    base = rng.uniform(236, 253)
    bg_kind = "white" if base >= 244 else "light-grey"
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    a = rng.uniform(0, 2 * math.pi)
    g = (np.cos(a) * xx / W + np.sin(a) * yy / H).astype(np.float32)
    shade = (g - g.mean()) * rng.uniform(0, 8)
    if rng.random() < 0.5:
        shade -= ((xx / W - 0.5) ** 2 + (yy / H - 0.5) ** 2) * rng.uniform(4, 16)
    bg = np.repeat((base + shade)[..., None], 3, axis=2) + rng.uniform(-1, 1, 3).astype(np.float32)
    traits: dict = {"scene": "catalog", "kind": kind, "background": bg_kind, "colour": "white"}
    if rng.random() < 0.6:  # a soft drop shadow on the backdrop
        sh = cv2.GaussianBlur(cov, (0, 0), size * rng.uniform(0.01, 0.03))
        shift = rng.uniform(-0.01, 0.02, 2) * size
        sh = cv2.warpAffine(sh, np.float32([[1, 0, shift[0]], [0, 1, shift[1]]]), (W, H))
        bg *= (1 - rng.uniform(0.03, 0.1) * sh)[..., None]
        traits["shadow"] = True

    # Darker than the backdrop, or (on a light-grey one) brighter.
    delta = rng.uniform(4, 12) * (1 if rng.random() < 0.75 or base > 243 else -1)
    colour = np.clip(base - delta + rng.uniform(-2, 2, 3), 0, 255)
    inside = (cov > 0).astype(np.uint8)
    dist = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
    factor = 1 - rng.uniform(0.015, 0.05) * np.exp(-dist / max(1.0, size * 0.006))
    for _ in range(int(rng.integers(1, 4))):  # folds
        ang = rng.uniform(0, math.pi)
        c = rng.uniform([0, 0], [W, H])
        d = np.abs((xx - c[0]) * math.sin(ang) - (yy - c[1]) * math.cos(ang))
        factor *= 1 - rng.uniform(0.01, 0.04) * np.exp(-((d / (size * 0.02)) ** 2))
    garment = colour[None, None, :] * factor[..., None]
    if rng.random() < 0.5:  # a coloured chest print
        cx, cy = poly[:, 0].mean(), poly[:, 1].min() + rng.uniform(0.3, 0.45) * size
        r = size * rng.uniform(0.06, 0.12)
        blob = np.clip(_smooth_noise(rng, H, W, r * 0.5) + 0.6, 0, 1)
        blob *= np.exp(-((((xx - cx) / r) ** 2 + ((yy - cy) / (1.3 * r)) ** 2) ** 2)) > 0.5
        ink = _hsv_colour(rng, (80, 240), (60, 220)).astype(np.float32)
        garment = garment * (1 - blob[..., None]) + ink * blob[..., None]
        traits["pattern"] = "print"
    else:
        traits["pattern"] = "plain"
    out = bg * (1 - cov[..., None]) + garment * cov[..., None]
    image = _sensor(out, rng, (0.0, 0.8), 0.7, (85, 98), traits)
    traits["white_on_white"] = True
    strap_mask = None
    if cami:
        strap_mask = np.where((cov_strap >= 128) & (mask > 0), 255, 0).astype(np.uint8)
        traits["straps"] = round(strap_w, 1)
    return HardSample(image, mask, kind, category, sleeve, seed, traits, strap_mask)


def hard_samples(
    n: int, *, seed: int = 0, long_side: int | None = None, scene: str = "studio"
) -> list[HardSample]:
    """`n` samples with seeds ``seed .. seed + n - 1``."""
    return [render_hard(seed + i, long_side=long_side, scene=scene) for i in range(n)]
