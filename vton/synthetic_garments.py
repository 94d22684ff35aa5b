"""Deterministic synthetic product photos of garments, with exact ground-truth masks.

Why this module exists:

* The try-on pipeline needs a bundled sample catalogue that works offline: no downloaded
  data sets, no font files, no network. Drawing the garments ourselves gives that.
* Cloth-masking benchmarks need images whose true silhouette is known exactly. Real product
  photos never come with pixel-exact masks, so we make the photo from the mask instead.

How: a front-view silhouette polygon is built from named landmarks (neckline, shoulders,
sleeve ends, armpits, hem corners) expressed in "garment units" (fractions of the garment
height, x measured from the centre line) and scaled into the image. The polygon is rasterised
once without anti-aliasing -- that *is* the mask -- and once more at 4x supersampling to get a
coverage (alpha) map for the photo, so edges look like a camera image rather than stairs.

Contract between image and mask (what benchmarks rely on): the anti-aliased edge is kept on
the inside of the mask. Pixels outside the mask are exactly studio white (255, 255, 255), and
every pixel inside the mask differs from white (garment colours are capped at 250 and the
edge alpha is floored), so ``mask == 255`` equals ``image != white`` pixel for pixel.

Everything random (neck style for tees, small shape jitter, fold lines) comes from a
``numpy.random.Generator`` seeded with ``spec.seed``; the global RNG is never touched, so a
spec always renders to identical arrays.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "FIXED_SHIFT",
    "PATTERNS",
    "STYLES",
    "GarmentSpec",
    "SyntheticGarment",
    "bezier",
    "close_outline",
    "fixed_point",
    "quarter_ellipse",
    "render_garment",
    "sample_catalog_specs",
    "supersampled_coverage",
]

STYLES: tuple[str, ...] = ("tee", "tank", "longsleeve")
PATTERNS: tuple[str, ...] = ("plain", "stripes", "text", "logo", "check")

_SLEEVE_BY_STYLE: dict[str, str] = {"tee": "short", "tank": "sleeveless", "longsleeve": "long"}

_WHITE = 255
# Garment pixels never exceed this value, so a white (or white print) garment is still
# distinguishable from the studio background and ``image != white`` stays equal to the mask.
_MAX_GARMENT_VALUE = 250.0
# Lowest alpha given to an edge pixel that is inside the mask: with the 250 cap it still
# differs from white after rounding (255 - 0.35 * 5 = 253.25).
_MIN_EDGE_ALPHA = 0.35
_MIN_SIZE = 64
_MAX_SIZE = 8192
#: cv2 fixed-point fractional bits: drawing coordinates are given in 1/16 px.
FIXED_SHIFT = 4
_SUPERSAMPLE = 4  # per axis, for the photo's anti-aliased coverage
_FIT_WIDTH = 0.96  # the garment may use at most this fraction of the image width
_PRODUCT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

RGB = tuple[int, int, int]


# --------------------------------------------------------------------------------------------
# Public data types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GarmentSpec:
    """Everything needed to render one garment; validated on construction.

    Validation happens here rather than in :func:`render_garment` so that a bad catalogue
    entry fails where it is written, with a ``ValueError`` that names the field and value.

    ``scale`` is the garment height as a fraction of the image height. It is an upper bound:
    wide garments (long sleeves, narrow images) are shrunk uniformly so that they fit inside
    the image width with a margin, because a clipped product photo is useless as a sample.
    """

    product_id: str
    style: str
    pattern: str
    colour: RGB
    accent: RGB
    text: str = ""
    width: int = 600
    height: int = 800
    scale: float = 0.8
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.product_id, str) or not _PRODUCT_ID_RE.match(self.product_id):
            raise ValueError(
                f"product_id must be a safe path component matching {_PRODUCT_ID_RE.pattern}, "
                f"got {self.product_id!r}"
            )
        if self.style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}, got {self.style!r}")
        if self.pattern not in PATTERNS:
            raise ValueError(f"pattern must be one of {PATTERNS}, got {self.pattern!r}")
        object.__setattr__(self, "colour", _validate_rgb("colour", self.colour))
        object.__setattr__(self, "accent", _validate_rgb("accent", self.accent))
        if not isinstance(self.text, str):
            raise ValueError(f"text must be a str, got {self.text!r}")
        if self.pattern == "text" and not self.text.strip():
            raise ValueError(f"text must be non-empty when pattern is 'text', got {self.text!r}")
        for name in ("width", "height"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"{name} must be an int, got {value!r}")
            if not _MIN_SIZE <= value <= _MAX_SIZE:
                raise ValueError(f"{name} must be in [{_MIN_SIZE}, {_MAX_SIZE}], got {value!r}")
            object.__setattr__(self, name, int(value))
        if (
            isinstance(self.scale, bool)
            or not isinstance(self.scale, (int, float, np.floating, np.integer))
            or not math.isfinite(float(self.scale))
            or not 0.1 <= float(self.scale) <= 1.0
        ):
            raise ValueError(f"scale must be a number in [0.1, 1.0], got {self.scale!r}")
        object.__setattr__(self, "scale", float(self.scale))
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)):
            raise ValueError(f"seed must be an int, got {self.seed!r}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed!r}")
        object.__setattr__(self, "seed", int(self.seed))


@dataclass(frozen=True, eq=False)
class SyntheticGarment:
    """A rendered garment: the photo, its exact mask, and the labels a catalogue needs.

    ``eq=False`` because field-wise ``==`` on numpy arrays is ambiguous (it would raise);
    compare ``image``/``mask`` with ``np.array_equal`` instead.
    """

    spec: GarmentSpec
    image: np.ndarray = field(repr=False)  # (H, W, 3) uint8 RGB, garment on white
    mask: np.ndarray = field(repr=False)  # (H, W) uint8 in {0, 255}, exact silhouette
    category: str  # always "top" for the styles drawn here
    sleeve: str  # "short" | "sleeveless" | "long"


# --------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Shape:
    """Silhouette and trim lines in garment units (x from centre line, y from top, /height)."""

    outline: np.ndarray  # (N, 2) closed polygon, clockwise in image coordinates
    landmarks: dict[str, tuple[float, float]]  # named points of the right-hand (image) side
    neckline: np.ndarray  # (M, 2) polyline from left neck side to right neck side
    hems: list[np.ndarray]  # finished edges (hem, sleeve openings, armholes): band + stitch
    seams: list[np.ndarray]  # interior stitch lines (sleeve seams)
    shadows: list[np.ndarray]  # 2-point segments where a sleeve lies on the body
    chest_y: float  # where prints go


# The outline helpers below (and the rasterisation ones further down) are shared with
# `vton.cloth.synthetic_hard`, whose photos must stay bit-identical for a seed.


def quarter_ellipse(width: float, depth: float, n: int = 24) -> np.ndarray:
    """Right half of a U-shaped neckline from the centre dip (0, depth) to (width, 0)."""
    t = np.linspace(0.0, math.pi / 2, n)
    return np.stack([width * np.sin(t), depth * np.cos(t)], axis=1)


def _v_neck(width: float, depth: float, n: int = 12) -> np.ndarray:
    """Right half of a V neckline: nearly straight, slightly bowed so the point stays sharp."""
    t = np.linspace(0.0, 1.0, n)
    x = width * t
    y = depth * (1.0 - t) - 0.12 * depth * np.sin(math.pi * t)
    return np.stack([x, y], axis=1)


def bezier(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, n: int = 16) -> np.ndarray:
    """Quadratic Bezier from p0 to p2 with control point p1 (armholes, sleeve seams)."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2


def _mirror(points: np.ndarray) -> np.ndarray:
    return points * np.array([-1.0, 1.0])


def close_outline(right: np.ndarray) -> np.ndarray:
    """Mirror a right half (x >= 0, from the top of the centre line, e.g. the neck dip,
    down to the hem) into a closed symmetric (N, 2) polygon.

    Order: first point -> right side down to the last point (the right hem corner) ->
    mirrored back up the left side. In image coordinates (y down) that is clockwise. An end
    on the centre line (x == 0: a neck dip, a hem's centre) is not duplicated.
    """
    left = _mirror(right[::-1])
    if abs(right[0, 0]) < 1e-9:
        left = left[:-1]
    if abs(right[-1, 0]) < 1e-9:
        left = left[1:]
    return np.concatenate([right, left], axis=0)


def _both_sides(line: np.ndarray) -> list[np.ndarray]:
    return [line, _mirror(line)]


def _intersect(p: np.ndarray, r: np.ndarray, q: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Intersection of the lines p + t*r and q + u*s (they must not be parallel)."""
    t = ((q[0] - p[0]) * s[1] - (q[1] - p[1]) * s[0]) / (r[0] * s[1] - r[1] * s[0])
    return p + t * r


def _tank_shape(jitter: np.ndarray) -> _Shape:
    """Sleeveless: scoop neck, narrow straps, deep curved armholes, straight body."""
    neck_w = 0.10 + 0.008 * jitter[0]
    neck = quarter_ellipse(neck_w, 0.19 + 0.02 * jitter[1])
    strap_outer = np.array([neck_w + 0.068, 0.006])
    armpit = np.array([0.31 + 0.01 * jitter[2], 0.35 + 0.02 * jitter[3]])
    hem = np.array([armpit[0] + 0.012, 1.0])
    control = np.array([strap_outer[0] + 0.01, armpit[1] - 0.05])
    armhole = bezier(strap_outer, control, armpit)
    right = np.concatenate([neck, armhole, hem[None]], axis=0)
    landmarks = {
        "neck_centre": (0.0, float(neck[0, 1])),
        "neck_side": (float(neck[-1, 0]), float(neck[-1, 1])),
        "strap_outer": (float(strap_outer[0]), float(strap_outer[1])),
        "armpit": (float(armpit[0]), float(armpit[1])),
        "hem": (float(hem[0]), float(hem[1])),
    }
    return _Shape(
        outline=close_outline(right),
        landmarks=landmarks,
        neckline=np.concatenate([_mirror(neck[::-1]), neck[1:]], axis=0),
        hems=[np.array([_mirror(hem[None])[0], hem]), *_both_sides(armhole)],
        seams=[],
        shadows=[],
        chest_y=0.45,
    )


def _sleeved_shape(style: str, jitter: np.ndarray, v_neck: bool) -> _Shape:
    """Tee (short sleeves angled down) or long-sleeve (sleeves hanging to about the hem).

    Sleeves are described by their outer edge (from the shoulder point, at ``angle`` below
    horizontal), their opening width and, for long sleeves, the inner edge. A long sleeve
    hanging down overlaps the body, so the silhouette follows the sleeve's inner edge only
    below the point where it leaves the body; above that the edge is drawn as a shadow.
    """
    neck_w = 0.11 + 0.006 * jitter[0]
    if v_neck:
        neck = _v_neck(neck_w, 0.17 + 0.015 * jitter[1])
    else:
        neck = quarter_ellipse(neck_w, 0.08 + 0.008 * jitter[1])
    shoulder = np.array([0.30 + 0.008 * jitter[2], 0.055])
    body_x = 0.34 + 0.006 * jitter[2]
    hem = np.array([body_x - 0.01, 1.0])
    shadows: list[np.ndarray] = []
    if style == "tee":
        angle = math.radians(35.0 + 3.0 * jitter[3])  # sleeve top edge, below horizontal
        length, opening = 0.24, 0.17
        direction = np.array([math.cos(angle), math.sin(angle)])
        inward = np.array([-math.sin(angle), math.cos(angle)])
        sleeve_top = shoulder + length * direction
        sleeve_bottom = sleeve_top + opening * inward
        armpit = np.array([body_x, 0.27])
        seam = bezier(shoulder, np.array([shoulder[0] + 0.03, 0.17]), armpit, n=12)
        sleeve_points = [sleeve_top, sleeve_bottom, armpit]
        chest_y = 0.37 if v_neck else 0.33
    else:
        angle = math.radians(76.0 + 1.5 * jitter[3])
        direction = np.array([math.cos(angle), math.sin(angle)])
        inward = np.array([-math.sin(angle), math.cos(angle)])
        length = (0.93 - shoulder[1]) / math.sin(angle)
        sleeve_top = shoulder + length * direction  # outer corner of the cuff
        sleeve_bottom = sleeve_top + 0.12 * inward  # inner corner of the cuff
        root_inner = shoulder + 0.155 * inward
        side_dir = hem - np.array([body_x, 0.27])
        armpit = _intersect(sleeve_bottom, root_inner - sleeve_bottom, hem, side_dir)
        shadow_top = root_inner + 0.3 * (sleeve_bottom - root_inner)
        shadows.append(np.array([shadow_top, armpit]))
        seam = bezier(shoulder, np.array([shoulder[0] - 0.005, 0.16]), shadow_top, n=12)
        sleeve_points = [sleeve_top, sleeve_bottom, armpit]
        chest_y = 0.33
    right = np.concatenate([neck, shoulder[None], np.stack(sleeve_points), hem[None]], axis=0)
    landmarks = {
        "neck_centre": (0.0, float(neck[0, 1])),
        "neck_side": (float(neck[-1, 0]), float(neck[-1, 1])),
        "shoulder": (float(shoulder[0]), float(shoulder[1])),
        "sleeve_top": (float(sleeve_top[0]), float(sleeve_top[1])),
        "sleeve_bottom": (float(sleeve_bottom[0]), float(sleeve_bottom[1])),
        "armpit": (float(armpit[0]), float(armpit[1])),
        "hem": (float(hem[0]), float(hem[1])),
    }
    return _Shape(
        outline=close_outline(right),
        landmarks=landmarks,
        neckline=np.concatenate([_mirror(neck[::-1]), neck[1:]], axis=0),
        hems=[
            np.array([_mirror(hem[None])[0], hem]),
            *_both_sides(np.array([sleeve_top, sleeve_bottom])),
        ],
        seams=_both_sides(seam),
        shadows=[line for s in shadows for line in _both_sides(s)],
        chest_y=chest_y,
    )


def _build_shape(style: str, rng: np.random.Generator) -> _Shape:
    """Landmark-based silhouette for a style, with small seed-dependent jitter.

    The jitter (a few percent) keeps benchmark shapes from being pixel-identical across
    seeds without ever turning a tee into something that no longer reads as a tee. Tees get
    a V neck for about 30% of seeds, otherwise a crew neck.
    """
    jitter = rng.uniform(-1.0, 1.0, size=4)
    v_neck = bool(rng.random() < 0.3)
    if style == "tank":
        return _tank_shape(jitter)
    return _sleeved_shape(style, jitter, v_neck=v_neck and style == "tee")


@dataclass(frozen=True)
class _Placement:
    """Maps garment units to image pixels: px = (cx + x * size, top + y * size)."""

    cx: float
    top: float
    size: float  # garment height in px

    def to_px(self, points: np.ndarray) -> np.ndarray:
        return np.stack(
            [self.cx + points[:, 0] * self.size, self.top + points[:, 1] * self.size], axis=1
        )


def _place(shape: _Shape, spec: GarmentSpec) -> _Placement:
    """Centre the garment; shrink it if its width would not fit in the image."""
    half_width = float(np.abs(shape.outline[:, 0]).max())
    size = spec.scale * spec.height
    size = min(size, _FIT_WIDTH * spec.width / (2.0 * half_width))
    return _Placement(cx=(spec.width - 1) / 2.0, top=(spec.height - 1 - size) / 2.0, size=size)


def _offset_polyline(points: np.ndarray, distance: float, towards: np.ndarray) -> np.ndarray:
    """Offset a polyline along its normals, on the side facing ``towards`` (a point)."""
    tangents = np.gradient(points, axis=0)
    tangents /= np.maximum(np.linalg.norm(tangents, axis=1, keepdims=True), 1e-9)
    normals = np.stack([-tangents[:, 1], tangents[:, 0]], axis=1)
    flip = np.sum(normals * (towards - points), axis=1) < 0
    normals[flip] *= -1.0
    return points + distance * normals


def fixed_point(points: np.ndarray, offset: float = 0.0, factor: float = 1.0) -> np.ndarray:
    """Pixel coordinates -> cv2 fixed-point int32 (1/16 px)."""
    return np.round((points * factor + offset) * (1 << FIXED_SHIFT)).astype(np.int32)


# --------------------------------------------------------------------------------------------
# Rasterisation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Box:
    """Bounding box (inclusive-exclusive) of the garment, where all texture work happens."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.y1 - self.y0, self.x1 - self.x0)

    @property
    def origin(self) -> np.ndarray:
        return np.array([self.x0, self.y0], dtype=np.float64)


def _box_for(poly_px: np.ndarray, width: int, height: int) -> _Box:
    x0 = max(math.floor(poly_px[:, 0].min()) - 2, 0)
    y0 = max(math.floor(poly_px[:, 1].min()) - 2, 0)
    x1 = min(math.ceil(poly_px[:, 0].max()) + 3, width)
    y1 = min(math.ceil(poly_px[:, 1].max()) + 3, height)
    return _Box(x0, y0, x1, y1)


def _rasterise(poly_px: np.ndarray, box: _Box) -> tuple[np.ndarray, np.ndarray]:
    """Binary mask (no AA) and photo alpha (4x supersampled area coverage) inside ``box``.

    The alpha is zero outside the mask and at least ``_MIN_EDGE_ALPHA`` inside it, so the
    anti-aliased edge never leaks outside the ground-truth silhouette.
    """
    local = poly_px - box.origin
    h, w = box.shape
    mask = np.zeros((h, w), dtype=np.uint8)
    cv2.fillPoly(mask, [fixed_point(local)], 255, cv2.LINE_8, FIXED_SHIFT)
    coverage = supersampled_coverage(local, h, w)
    # Floor the coverage inside the mask and zero it outside, all in uint8 (fast), then scale.
    floor = math.ceil(_MIN_EDGE_ALPHA * 255)
    np.maximum(coverage, floor, out=coverage)
    coverage &= mask
    alpha = coverage.astype(np.float32)
    alpha *= np.float32(1.0 / 255.0)
    return mask, alpha


def supersampled_coverage(poly_px: np.ndarray, h: int, w: int) -> np.ndarray:
    """(h, w) uint8 area coverage (0..255) of the polygon `poly_px`, (N, 2) pixel coordinates
    with pixel centres at integers, from a raster `_SUPERSAMPLE` times finer per axis: an
    anti-aliased edge, as a camera sees it."""
    ss = _SUPERSAMPLE
    big = np.zeros((h * ss, w * ss), dtype=np.uint8)
    # Sub-pixel k of pixel i has its centre at i - 0.5 + (k + 0.5) / ss.
    corners = fixed_point(poly_px, offset=(ss - 1) / 2.0, factor=ss)
    cv2.fillPoly(big, [corners], 255, cv2.LINE_8, FIXED_SHIFT)
    return cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA)


def _aa_canvas(box: _Box) -> np.ndarray:
    return np.zeros(box.shape, dtype=np.uint8)


# --------------------------------------------------------------------------------------------
# Patterns (each returns an accent-coverage map in [0, 1] over the box)
# --------------------------------------------------------------------------------------------


def _band_coverage(coords: np.ndarray, origin: float, period: float, duty: float) -> np.ndarray:
    """1-D area coverage of periodic bands ``[origin + k*period, + duty*period)``.

    Evaluated with 8 sub-samples per pixel so stripe edges are anti-aliased like a photo.
    """
    sub = (np.arange(8, dtype=np.float64) + 0.5) / 8.0 - 0.5
    samples = coords[:, None] + sub[None, :]
    phase = np.mod(samples - origin, period)
    return (phase < duty * period).mean(axis=1).astype(np.float32)


def _stripes(box: _Box, place: _Placement) -> np.ndarray:
    ys = np.arange(box.y0, box.y1, dtype=np.float64)
    period = place.size / 12.0
    rows = _band_coverage(ys, place.top + 0.25 * period, period, 0.42)
    return np.broadcast_to(rows[:, None], box.shape)


def _check(box: _Box, place: _Placement) -> np.ndarray:
    """Gingham: accent bands both ways at half strength; crossings are full accent."""
    period = place.size / 14.0
    ys = np.arange(box.y0, box.y1, dtype=np.float64)
    xs = np.arange(box.x0, box.x1, dtype=np.float64)
    rows = _band_coverage(ys, place.top, period, 0.5)
    cols = _band_coverage(xs, place.cx - 0.25 * period, period, 0.5)
    return 0.5 * (rows[:, None] + cols[None, :])


def _text(box: _Box, place: _Placement, text: str, chest_y: float) -> np.ndarray:
    """Large bold text centred on the chest, from Pillow's built-in scalable font."""
    out = np.zeros(box.shape, dtype=np.float32)
    target_w, target_h = 0.40 * place.size, 0.12 * place.size
    probe_size = 100
    probe = ImageFont.load_default(size=probe_size)
    left, top, right, bottom = probe.getbbox(text, stroke_width=probe_size // 30)
    probe_w, probe_h = max(right - left, 1), max(bottom - top, 1)
    size = max(int(probe_size * min(target_w / probe_w, target_h / probe_h)), 6)
    font = ImageFont.load_default(size=size)
    stroke = max(size // 30, 1)  # a little bolder than the regular built-in face
    left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    pad = 2
    canvas = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 0)
    ImageDraw.Draw(canvas).text(
        (pad - left, pad - top), text, fill=255, font=font, stroke_width=stroke, stroke_fill=255
    )
    glyphs = np.asarray(canvas, dtype=np.float32) / 255.0
    gh, gw = glyphs.shape
    if gw > target_w * 1.15 or gh > target_h * 1.3:  # e.g. a bitmap fallback font
        scale = min(target_w / gw, target_h / gh)
        new_size = (max(int(gw * scale), 1), max(int(gh * scale), 1))
        glyphs = cv2.resize(glyphs, new_size, interpolation=cv2.INTER_AREA)
        gh, gw = glyphs.shape
    cy = place.top + chest_y * place.size
    x0 = round(place.cx - gw / 2.0) - box.x0
    y0 = round(cy - gh / 2.0) - box.y0
    _paste_max(out, glyphs, x0, y0)
    return out


def _paste_max(dst: np.ndarray, src: np.ndarray, x0: int, y0: int) -> None:
    """Paste ``src`` into ``dst`` at (x0, y0) with max-blending, clipping at the borders."""
    h, w = dst.shape
    sy0, sx0 = max(-y0, 0), max(-x0, 0)
    dy0, dx0 = max(y0, 0), max(x0, 0)
    dy1, dx1 = min(y0 + src.shape[0], h), min(x0 + src.shape[1], w)
    if dy1 <= dy0 or dx1 <= dx0:
        return
    region = src[sy0 : sy0 + (dy1 - dy0), sx0 : sx0 + (dx1 - dx0)]
    np.maximum(dst[dy0:dy1, dx0:dx1], region, out=dst[dy0:dy1, dx0:dx1])


def _logo(box: _Box, place: _Placement, chest_y: float) -> np.ndarray:
    """A simple emblem: a ring around a five-pointed star, centred on the chest."""
    canvas = _aa_canvas(box)
    centre = np.array([place.cx, place.top + chest_y * place.size]) - box.origin
    radius = 0.085 * place.size
    ring = max(round(0.014 * place.size), 1)
    cv2.circle(
        canvas,
        tuple(int(v) for v in fixed_point(centre)),
        round(radius * (1 << FIXED_SHIFT)),
        255,
        ring,
        cv2.LINE_AA,
        FIXED_SHIFT,
    )
    angles = -math.pi / 2 + np.arange(10) * math.pi / 5
    radii = np.where(np.arange(10) % 2 == 0, 0.72 * radius, 0.29 * radius)
    star = centre + np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)
    cv2.fillPoly(canvas, [fixed_point(star)], 255, cv2.LINE_AA, FIXED_SHIFT)
    return canvas.astype(np.float32) / 255.0


# --------------------------------------------------------------------------------------------
# Shading (multiplicative luminance factor over the box)
# --------------------------------------------------------------------------------------------


def _fold(
    factor: np.ndarray,
    box: _Box,
    start: np.ndarray,
    end: np.ndarray,
    sigma: float,
    depth: float,
    fade_end: bool = True,
) -> None:
    """Darken a soft line from ``start`` to ``end`` (pixels), fading out at the ends.

    Folds fade at both ends; a sleeve's shadow fades only at its start (``fade_end=False``)
    because it runs into the silhouette edge where the sleeve leaves the body.
    """
    lo = np.floor(np.minimum(start, end) - 4 * sigma).astype(int)
    hi = np.ceil(np.maximum(start, end) + 4 * sigma).astype(int)
    x0, y0 = max(lo[0], box.x0), max(lo[1], box.y0)
    x1, y1 = min(hi[0], box.x1), min(hi[1], box.y1)
    if x1 <= x0 or y1 <= y0:
        return
    xs = np.arange(x0, x1, dtype=np.float32)[None, :] - np.float32(start[0])
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] - np.float32(start[1])
    seg = (end - start).astype(np.float32)
    length2 = float(seg @ seg)
    t = np.clip((xs * seg[0] + ys * seg[1]) / length2, 0.0, 1.0)
    dx = xs - t * seg[0]
    dy = ys - t * seg[1]
    profile = np.exp(-(dx * dx + dy * dy) / np.float32(2.0 * sigma * sigma))
    if fade_end:
        taper = np.sin(np.float32(math.pi) * t)
    else:
        taper = np.sin(np.float32(math.pi / 2) * np.minimum(t * 4.0, 1.0))
    region = factor[y0 - box.y0 : y1 - box.y0, x0 - box.x0 : x1 - box.x0]
    region *= 1.0 - np.float32(depth) * profile * taper


def _shading(box: _Box, place: _Placement, shape: _Shape, rng: np.random.Generator) -> np.ndarray:
    """Faint studio lighting, 1-2 soft folds, a darker collar band and stitched hems."""
    ys = np.arange(box.y0, box.y1, dtype=np.float32)
    xs = np.arange(box.x0, box.x1, dtype=np.float32)
    v = np.clip((ys - place.top) / place.size, 0.0, 1.0)
    u = np.clip(np.abs(xs - place.cx) / (0.5 * place.size), 0.0, 1.5)
    # Light from slightly above: top ~2% brighter than the hem; sides fall off a little.
    factor = (1.0 - 0.05 * v)[:, None] * (1.0 - 0.025 * u * u)[None, :]
    factor = np.ascontiguousarray(factor, dtype=np.float32)

    # Folds: diagonal soft valleys from an armpit region towards the lower centre.
    n_folds = int(rng.integers(1, 3))
    sides = rng.permutation([-1.0, 1.0])
    for i in range(n_folds):
        side = sides[i]
        start = np.array([side * rng.uniform(0.16, 0.26), rng.uniform(0.3, 0.42)])
        end = np.array([side * rng.uniform(-0.02, 0.14), rng.uniform(0.72, 0.92)])
        sigma = rng.uniform(0.01, 0.018) * place.size
        depth = rng.uniform(0.045, 0.08)  # at most 8% darker
        ends = place.to_px(np.stack([start, end]))
        _fold(factor, box, ends[0], ends[1], sigma, depth)

    size = place.size
    chest = np.array([0.0, shape.chest_y])
    trims = _aa_canvas(box)  # 255 = collar band
    stitches = _aa_canvas(box)  # 255 = stitch line
    thin = max(round(size / 450.0), 1)

    # Collar band along the neckline (half of it falls outside the garment and is clipped).
    band = 0.028
    neck = shape.neckline
    outer = _offset_polyline(neck, -0.02, chest)
    inner = _offset_polyline(neck, band, chest)
    collar = place.to_px(np.concatenate([outer, inner[::-1]])) - box.origin
    cv2.fillPoly(trims, [fixed_point(collar)], 255, cv2.LINE_AA, FIXED_SHIFT)
    stitch = place.to_px(_offset_polyline(neck, band + 0.008, chest)) - box.origin
    cv2.polylines(stitches, [fixed_point(stitch)], False, 255, thin, cv2.LINE_AA, FIXED_SHIFT)

    # Hems and bindings: a faint band and a stitch line just inside each finished edge.
    hem_bands = _aa_canvas(box)
    for line in shape.hems:
        dense = _densify(line)
        hem_outer = _offset_polyline(dense, -0.02, chest)
        hem_inner = _offset_polyline(dense, 0.03, chest)
        poly = place.to_px(np.concatenate([hem_outer, hem_inner[::-1]])) - box.origin
        cv2.fillPoly(hem_bands, [fixed_point(poly)], 255, cv2.LINE_AA, FIXED_SHIFT)
        seam = place.to_px(_offset_polyline(dense, 0.03, chest)) - box.origin
        cv2.polylines(stitches, [fixed_point(seam)], False, 255, thin, cv2.LINE_AA, FIXED_SHIFT)

    # Sleeve seams (shoulder to armpit) and, where a long sleeve lies on the body, its edge.
    for line in shape.seams:
        seam = place.to_px(line) - box.origin
        cv2.polylines(stitches, [fixed_point(seam)], False, 255, thin, cv2.LINE_AA, FIXED_SHIFT)
    for line in shape.shadows:
        edge = place.to_px(line)
        cv2.polylines(
            stitches, [fixed_point(edge - box.origin)], False, 255, thin, cv2.LINE_AA, FIXED_SHIFT
        )
        sigma = 0.008 * size
        towards_centre = np.array([-np.sign(line[0, 0]) * 1.5 * sigma, 0.0])
        _fold(
            factor,
            box,
            edge[0] + towards_centre,
            edge[1] + towards_centre,
            sigma,
            0.09,
            fade_end=False,
        )

    factor *= 1.0 - np.float32(0.16 / 255.0) * trims
    factor *= 1.0 - np.float32(0.04 / 255.0) * hem_bands
    factor *= 1.0 - np.float32(0.10 / 255.0) * stitches
    return factor


def _densify(line: np.ndarray, n: int = 16) -> np.ndarray:
    """Resample a 2-point segment into ``n`` points so offsetting/normals behave."""
    if len(line) > 2:
        return line
    t = np.linspace(0.0, 1.0, n)[:, None]
    return line[0] * (1 - t) + line[1] * t


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


def render_garment(spec: GarmentSpec) -> SyntheticGarment:
    """Render ``spec`` to an RGB product photo on studio white plus its exact binary mask.

    Deterministic: the same spec always gives identical arrays. Pixels outside the mask are
    exactly (255, 255, 255) and every pixel inside differs from white, so
    ``(image != 255).any(-1) == (mask == 255)`` holds everywhere.
    """
    rng = np.random.default_rng(spec.seed)
    shape = _build_shape(spec.style, rng)
    place = _place(shape, spec)
    poly_px = place.to_px(shape.outline)
    box = _box_for(poly_px, spec.width, spec.height)
    mask_box, alpha = _rasterise(poly_px, box)

    if spec.pattern == "stripes":
        amount = _stripes(box, place)
    elif spec.pattern == "check":
        amount = _check(box, place)
    elif spec.pattern == "text":
        amount = _text(box, place, spec.text, shape.chest_y)
    elif spec.pattern == "logo":
        amount = _logo(box, place, shape.chest_y)
    else:
        amount = None

    factor = _shading(box, place, shape, rng)
    # Composite per channel on contiguous 2-D float32 planes: several times faster than
    # broadcasting over (h, w, 3), which matters at catalogue scale.
    background = _WHITE * (1.0 - alpha)
    planes = []
    for c in range(3):
        plane = np.full(box.shape, spec.colour[c], dtype=np.float32)
        if amount is not None:
            plane += np.float32(spec.accent[c] - spec.colour[c]) * amount
        plane *= factor
        np.minimum(plane, _MAX_GARMENT_VALUE, out=plane)
        plane *= alpha
        plane += background
        plane += 0.5  # round half up; values are >= 0 so truncation below is rounding
        planes.append(plane.astype(np.uint8))
    image = np.full((spec.height, spec.width, 3), _WHITE, dtype=np.uint8)
    image[box.y0 : box.y1, box.x0 : box.x1] = np.stack(planes, axis=-1)
    mask = np.zeros((spec.height, spec.width), dtype=np.uint8)
    mask[box.y0 : box.y1, box.x0 : box.x1] = mask_box
    return SyntheticGarment(
        spec=spec,
        image=image,
        mask=mask,
        category="top",
        sleeve=_SLEEVE_BY_STYLE[spec.style],
    )


def sample_catalog_specs() -> list[GarmentSpec]:
    """The bundled sample catalogue: 10 varied tops.

    Chosen to exercise the pipeline and maskers: tees, tanks and a long-sleeve; dark, bright
    and near-white garments (light grey on white is the hard case for background removal);
    every pattern; and several image sizes and aspect ratios.
    """
    navy, red, light_grey = (24, 37, 72), (196, 32, 44), (235, 235, 235)
    green, yellow, black = (34, 118, 62), (242, 198, 42), (22, 22, 24)
    off_white, charcoal = (246, 244, 238), (40, 40, 44)
    return [
        GarmentSpec("tee-plain-navy", "tee", "plain", navy, off_white, seed=1),
        GarmentSpec(
            "tee-stripes-red",
            "tee",
            "stripes",
            red,
            off_white,
            width=800,
            height=800,
            scale=0.75,
            seed=2,
        ),
        GarmentSpec(
            "tee-text-lightgrey",
            "tee",
            "text",
            light_grey,
            charcoal,
            text="VTON",
            scale=0.85,
            seed=3,
        ),
        GarmentSpec(
            "tank-plain-black",
            "tank",
            "plain",
            black,
            off_white,
            width=480,
            height=640,
            scale=0.8,
            seed=4,
        ),
        GarmentSpec(
            "tank-stripes-green",
            "tank",
            "stripes",
            green,
            off_white,
            scale=0.7,
            seed=5,
        ),
        GarmentSpec(
            "tee-logo-yellow",
            "tee",
            "logo",
            yellow,
            navy,
            width=1000,
            height=1200,
            scale=0.9,
            seed=6,
        ),
        GarmentSpec(
            "tee-check-blue",
            "tee",
            "check",
            (44, 86, 170),
            off_white,
            width=800,
            height=800,
            scale=0.8,
            seed=7,
        ),
        GarmentSpec(
            "tank-text-red",
            "tank",
            "text",
            red,
            off_white,
            text="HELLO",
            width=480,
            height=640,
            scale=0.9,
            seed=8,
        ),
        GarmentSpec(
            "longsleeve-plain-green",
            "longsleeve",
            "plain",
            (46, 92, 60),
            off_white,
            width=800,
            height=800,
            scale=0.75,
            seed=9,
        ),
        GarmentSpec(
            "tee-plain-lightgrey",
            "tee",
            "plain",
            light_grey,
            charcoal,
            width=1000,
            height=1200,
            scale=0.6,
            seed=10,
        ),
    ]


def _validate_rgb(name: str, value: object) -> RGB:
    """Accept any length-3 sequence of ints in 0..255; normalise to a tuple of ints."""
    try:
        items = tuple(value)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"{name} must be an (R, G, B) tuple, got {value!r}") from None
    if len(items) != 3 or any(
        isinstance(c, bool) or not isinstance(c, (int, np.integer)) or not 0 <= c <= 255
        for c in items
    ):
        raise ValueError(f"{name} must be three ints in 0..255, got {value!r}")
    return (int(items[0]), int(items[1]), int(items[2]))
