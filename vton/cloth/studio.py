"""Studio-like training examples from flat-lay photos, silhouette features, sleeveless cuts.

Why: the shipped garment CNN learnt from phone photos of garments lying flat or on hangers
(clothing-small, CC0) and did not carry over to retail catalog shots (a garment centred on
white or light grey, filling most of the frame). No studio photo with a licence that lets
us ship weights is at hand, so studio shots are *made* from the flat lays: the project's
own masker cuts each garment out (`MaskCache`, so repeated runs do not re-mask thousands
of photos), and `studio_composite` puts the cut-out on a catalog-like backdrop (white,
light grey, a gentle vertical gradient, an optional soft drop shadow), centred and scaled
to fill 70-92 % of the frame height as catalog shots do.

clothing-small has no sleeveless garment, so the network never learnt the class.
`cut_sleeves` derives sleeveless tops and dresses from sleeved ones: the torso's width is
read off the mask below the sleeves, everything outside it above the armpit is removed, and
an armhole is carved as a quarter ellipse down to a strap (tank to cami widths). The
pixels left are the garment's own, so the result looks like the same fabric, sleeveless.

`silhouette_vector` turns the garment mask (the masker's, at inference as in training)
into a fixed-length, mirror-invariant vector beside the pixels: the bounding box's aspect,
the fill, the width profile at 12 heights, whether the centre column is garment at those
heights (trouser legs, a neckline), the top and bottom edge at five column pairs, where
the garment is widest and how far it reaches beyond its lower body (sleeves). A missing
mask is the zero vector (its first entry, "has a mask", is 0).

Everything is deterministic given the seed: each composite's randomness comes from a
digest of (seed, item key, variant index), never from the order items are visited.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vton.digest import digest_parts
from vton.errors import InvalidInputError
from vton.imageio import DecodedImage, decode_image

__all__ = [
    "COMPOSITE_SIZE",
    "MIN_MASK_CONFIDENCE",
    "N_SILHOUETTE",
    "MaskCache",
    "composite_rng",
    "CROP_SHARE",
    "SLEEVELESS_STYLES",
    "cut_sleeves",
    "default_mask_cache",
    "masker_fingerprint",
    "silhouette_vector",
    "studio_composite",
]

#: (height, width) composites are drawn at: 3x the network input (112x84), 3:4 portrait as
#: catalog shots (768x1024) are, so the letterbox to the input is a plain area resize.
COMPOSITE_SIZE = (336, 252)
#: Cut-outs whose mask confidence is below this are not composited (a wrong mask would
#: paste floor or bedding onto the studio backdrop).
MIN_MASK_CONFIDENCE = 0.5
#: Heights (fractions of the garment's box) at which the width profile is read.
_PROFILE_Y = np.linspace(0.04, 0.96, 12)
#: Column positions (fractions from the left; mirrored pairs averaged) of the edge profile.
_PROFILE_X = np.array([0.5, 0.4, 0.3, 0.2, 0.1])
#: Length of `silhouette_vector`.
N_SILHOUETTE = 3 + 2 * len(_PROFILE_Y) + 2 * len(_PROFILE_X) + 3
_CACHE_VERSION = "1"


# --------------------------------------------------------------------------------------------
# Mask cache
# --------------------------------------------------------------------------------------------


def masker_fingerprint(masker) -> str:
    """The masker's id plus a digest of the source file of its class: a masker improved in
    place (same id) must not reuse cut-outs of the old one, or the documented training
    command would no longer reproduce the shipped weights."""
    try:
        src = Path(inspect.getsourcefile(type(masker)) or "").read_bytes()
    except (OSError, TypeError):
        src = b""
    return f"{masker.id}-{hashlib.sha256(src).hexdigest()[:12]}"


def default_mask_cache() -> Path:
    """Where ``vton train-classifier`` and the classifier benchmark keep masks by default:
    ``$XDG_CACHE_HOME/vton/cloth-masks``, else ``~/.cache/vton/cloth-masks`` (read when
    called, never at import)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vton" / "cloth-masks"


class MaskCache:
    """Masks of photos by the given masker, kept on disk by content.

    Key: sha256 of the photo's bytes and `masker_fingerprint`; value: the (H, W) bool mask
    packed to bits and the masker's confidence, one ``.npz`` per photo written atomically
    (temporary file + rename), so a killed run leaves no half file and two runs may share
    the directory. `root` None keeps nothing on disk (tests, one-off runs).
    """

    def __init__(self, masker, root: str | os.PathLike | None = None) -> None:
        self.masker = masker
        self.fingerprint = masker_fingerprint(masker)
        self.root = Path(root) / self.fingerprint if root is not None else None
        self.hits = 0
        self.misses = 0

    def _path(self, data: bytes) -> Path | None:
        if self.root is None:
            return None
        key = hashlib.sha256(data).hexdigest()
        return self.root / key[:2] / f"{key}.npz"

    def get(self, data: bytes, item: str, decoded: DecodedImage | None = None):
        """(mask, confidence) of the photo `data` (encoded bytes): mask (H, W) uint8
        {0, 255}, or None when the masker finds no garment (confidence 0). `decoded`, the
        photo as `decode_image` gave it, saves decoding it again on a miss."""
        from vton.cloth.masking import segment  # masking imports nothing of this module

        path = self._path(data)
        if path is not None and path.is_file():
            try:
                with np.load(path) as z:
                    conf = float(z["confidence"])
                    if int(z["empty"]):
                        self.hits += 1
                        return None, conf
                    h, w = (int(v) for v in z["shape"])
                    bits = np.unpackbits(z["bits"], count=h * w).reshape(h, w)
                self.hits += 1
                return bits * np.uint8(255), conf
            except (OSError, ValueError, KeyError):
                pass  # unreadable entry: recompute and overwrite
        self.misses += 1
        if decoded is None:
            decoded = decode_image(data, item)
        rgb, alpha = decoded.rgb, decoded.alpha
        try:
            res = segment(self.masker, rgb, alpha, item)
            mask, conf = res.mask, float(res.confidence)
        except InvalidInputError:
            mask, conf = None, 0.0
        if path is not None:
            self._write(path, mask, conf, rgb.shape[:2])
        return mask, conf

    @staticmethod
    def _write(path: Path, mask: np.ndarray | None, conf: float, shape) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        bits = np.packbits(mask > 0) if mask is not None else np.zeros(0, np.uint8)
        np.savez_compressed(
            buf, bits=bits, shape=np.array(shape), confidence=np.float64(conf),
            empty=np.int8(mask is None), version=np.array(_CACHE_VERSION),
        )  # fmt: skip
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
        with os.fdopen(fd, "wb") as fh:
            fh.write(buf.getvalue())
        os.replace(tmp, path)


# --------------------------------------------------------------------------------------------
# Silhouette features
# --------------------------------------------------------------------------------------------


def _box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def silhouette_vector(mask: np.ndarray | None) -> np.ndarray:
    """Mirror-invariant shape features of an (H, W) uint8 {0, 255} garment mask.

    Returns (N_SILHOUETTE,) float32, each entry roughly in [-2, 2]; the zero vector for
    None or a mask of under 64 pixels. Widths are fractions of the box's width, heights of
    its height, so scale and position do not matter (a flat lay and a studio shot of the
    same garment give nearly the same vector).
    """
    out = np.zeros(N_SILHOUETTE, np.float32)
    if mask is None:
        return out
    if mask.ndim != 2:
        raise ValueError(f"expected an (H, W) mask, got {mask.shape}")
    fg = mask > 0
    if int(fg.sum()) < 64:
        return out
    y0, y1, x0, x1 = _box(fg)
    crop = fg[y0:y1, x0:x1].astype(np.uint8) * 255
    h, w = crop.shape
    m = cv2.resize(crop, (64, 96), interpolation=cv2.INTER_AREA) > 127
    rows = (_PROFILE_Y * 96).astype(int)
    ext, centre = [], []
    for r in rows:
        xs = np.flatnonzero(m[r])
        ext.append((xs[-1] - xs[0] + 1) / 64.0 if xs.size else 0.0)
        centre.append(float(m[r, 30:34].mean()))
    has_col = m.any(axis=0)
    top = np.where(has_col, m.argmax(axis=0), 96) / 96.0
    bottom = np.where(has_col, 95 - m[::-1].argmax(axis=0), 0) / 96.0
    tops, bottoms = [], []
    for f in _PROFILE_X:
        a, b = int(f * 63), int((1 - f) * 63)
        tops.append(0.5 * (top[a] + top[b]))
        bottoms.append(0.5 * (bottom[a] + bottom[b]))
    widths = m.sum(axis=1) / 64.0
    lower = float(np.median(widths[60:90])) if widths[60:90].any() else 1.0
    widest = float(np.argmax(widths)) / 96.0
    reach = float(widths[5:45].max()) / max(lower, 0.05)
    out[:] = [
        1.0,
        float(np.clip(np.log(h / max(w, 1)), -2, 2)),
        float(fg[y0:y1, x0:x1].mean()),
        *ext,
        *centre,
        *tops,
        *bottoms,
        widest,
        float(np.clip(np.log(reach), -2, 2)),
        lower,
    ]
    return out


# --------------------------------------------------------------------------------------------
# Sleeveless cuts
# --------------------------------------------------------------------------------------------


def _centre_run_width(row: np.ndarray, cx: float) -> tuple[int, int] | None:
    d = np.diff(np.concatenate([[0], row.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    if starts.size == 0:
        return None
    i = int(np.argmin([0 if s <= cx < e else min(abs(s - cx), abs(e - cx)) for s, e in
                       zip(starts, ends, strict=True)]))  # fmt: skip
    return int(starts[i]), int(ends[i])


#: Styles `cut_sleeves` derives: a tank or shell (an armhole carved down from a wide strap)
#: and a cami (thin straps over a top edge at the bust, straight or a V).
SLEEVELESS_STYLES = ("tank", "cami")
#: Share of derived tops also cropped (a crop tank or cami ends above the navel).
CROP_SHARE = 0.25
#: Least share of the garment outside the torso's columns above the body for it to have
#: sleeves to cut (a sleeveless dress cut as a cami would otherwise be labelled sleeved).
MIN_SLEEVE_AREA = 0.05


def cut_sleeves(
    mask: np.ndarray,
    rng: np.random.Generator,
    kind: str = "top",
    style: str | None = None,
    crop: bool | None = None,
) -> np.ndarray | None:
    """A sleeveless version of a sleeved garment's (H, W) uint8 {0, 255} mask, or None when
    the mask does not look like a sleeved `kind` (``top`` or ``dress``).

    The torso is the run of mask through the centre at the rows below the sleeves (a top's
    lower body at 60-85 % of its height; a dress's waist, its narrowest row at 25-45 %,
    widened 10 % for the bust). Above the armpit (a top: 28-40 % down, a dress: 14-22 %)
    nothing outside the torso is kept. `style` (drawn from `rng` when None, half each):
    ``tank``, the armhole narrowing as a quarter ellipse to a strap 45-75 % of the torso's
    half-width (tank to shell); ``cami``, the top edge at the bust (straight, or a V down
    to 12 % of the height) with two straps 3-7 % of the torso's width rising from it to
    the shoulders. Real catalogs' sleeveless tops are as often camis as tanks, and a cami
    is not a tee without sleeves: without them the network took camis for dresses. A top
    is also cropped (`crop`; drawn, `CROP_SHARE`) at 55-75 % of its height. Refused when
    there are no sleeves (`MIN_SLEEVE_AREA`), too little is removed (< 8 % of the area) or
    too much (> 45 % for a tank, > 60 % for a cami: not a torso). Returns the new (H, W)
    uint8 {0, 255} mask, the largest connected part of it.
    """
    if kind not in ("top", "dress"):
        raise ValueError(f"kind must be 'top' or 'dress', got {kind!r}")
    if style is not None and style not in SLEEVELESS_STYLES:
        raise ValueError(f"style must be one of {SLEEVELESS_STYLES}, got {style!r}")
    fg = mask > 0
    box = _box(fg)
    if box is None:
        return None
    y0, y1, x0, x1 = box
    h = y1 - y0
    if h < 24:
        return None
    cx = (x0 + x1) / 2
    if kind == "top":
        rows = np.linspace(y0 + 0.6 * h, y0 + 0.85 * h, 8).astype(int)
        runs = [r for r in (_centre_run_width(fg[y], cx) for y in rows) if r is not None]
        if len(runs) < 4:
            return None
        left = float(np.median([a for a, _ in runs]))
        right = float(np.median([b for _, b in runs]))
        arm = rng.uniform(0.28, 0.40)
    else:
        rows = np.linspace(y0 + 0.25 * h, y0 + 0.45 * h, 10).astype(int)
        runs = [r for r in (_centre_run_width(fg[y], cx) for y in rows) if r is not None]
        if len(runs) < 5:
            return None
        a, b = min(runs, key=lambda r: r[1] - r[0])
        mid, half = (a + b) / 2, 0.55 * (b - a)
        left, right = mid - half, mid + half
        arm = rng.uniform(0.14, 0.22)
    torso_w = right - left
    if not 0.3 * (x1 - x0) <= torso_w <= 0.9 * (x1 - x0):
        return None
    if style is None:
        style = SLEEVELESS_STYLES[int(rng.integers(len(SLEEVELESS_STYLES)))]
    if crop is None:
        crop = kind == "top" and bool(rng.random() < CROP_SHARE)
    mid, half = (left + right) / 2, torso_w / 2
    ya = y0 + arm * h
    ys = np.arange(mask.shape[0], dtype=np.float64)[:, None]
    xs = np.arange(mask.shape[1], dtype=np.float64)[None, :]
    if style == "tank":
        strap = rng.uniform(0.45, 0.75)
        t = np.clip((ya - ys) / max(ya - y0, 1.0), 0.0, 1.0)  # 0 at the armpit, 1 at the top
        allowed_half = half * (strap + (1 - strap) * (1 - np.sqrt(np.clip(1 - (1 - t) ** 2, 0, 1))))
        keep = np.abs(xs - mid) <= allowed_half
    else:
        # The top edge at the bust, from the armpits (its sides) to the centre, V or not;
        # above it only the straps, thin bands over the shoulders.
        bust = ya + rng.uniform(-0.02, 0.04) * h
        dip = rng.uniform(0.0, 0.12) * h * float(rng.random() < 0.6)
        edge = bust + dip * np.clip(1.0 - np.abs(xs - mid) / half, 0.0, 1.0)
        at, width = rng.uniform(0.45, 0.7) * half, rng.uniform(0.03, 0.07) * torso_w
        strap_band = np.abs(np.abs(xs - mid) - at) <= width / 2
        keep = ((ys >= edge) & (np.abs(xs - mid) <= half)) | ((ys < edge) & strap_band)
    limit = y0 + (0.6 if kind == "top" else 0.45) * h  # below: the body (or skirt) as it is
    keep |= ys >= limit
    keep &= (ys >= ya) | (np.abs(xs - mid) <= half)
    # Rows between the armpit and the limit: the torso's columns only (sleeves hang there).
    keep &= (ys >= limit) | (np.abs(xs - mid) <= half)
    if crop:
        keep &= ys < y0 + rng.uniform(0.55, 0.75) * h
    # Sleeves to cut: garment outside the torso's columns above the body. (A cami's top
    # edge removes the upper chest of any garment, so what is removed does not tell.)
    sleeves = fg & (np.abs(xs - mid) > half) & (ys < limit)
    if sleeves.sum() < MIN_SLEEVE_AREA * fg.sum():
        return None
    cut = fg & keep
    removed = 1.0 - cut.sum() / max(fg.sum(), 1)
    most = 0.45 if style == "tank" else 0.6
    if crop:
        most += 0.25
    if not 0.08 <= removed <= most:
        return None
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cut.astype(np.uint8), 8)
    if n < 2:
        return None
    big = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return (labels == big).astype(np.uint8) * 255


# --------------------------------------------------------------------------------------------
# Compositing
# --------------------------------------------------------------------------------------------


def composite_rng(seed: int, key: str, variant: int) -> np.random.Generator:
    """The generator of one composite: from a digest of (seed, item key, variant), so an
    item's composites do not depend on which other items there are or their order."""
    return np.random.default_rng(int(digest_parts("studio", str(seed), key, str(variant)), 16))


@dataclass(frozen=True)
class Composite:
    """A studio-like shot: image (H, W, 3) uint8 RGB at `COMPOSITE_SIZE`, and the garment's
    (H, W) uint8 {0, 255} mask in it."""

    image: np.ndarray
    mask: np.ndarray


def _backdrop(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """White, light grey, or a gentle vertical gradient, with a slight warm/cool tint and a
    little sensor noise; (H, W, 3) float32 in 0..255."""
    h, w = size
    kind = rng.choice(3, p=[0.45, 0.3, 0.25])
    if kind == 0:
        base = rng.uniform(243, 255)
        col = np.full((h, 1), base)
    elif kind == 1:
        col = np.full((h, 1), rng.uniform(215, 242))
    else:
        a, b = rng.uniform(225, 255, 2)
        col = np.linspace(a, b, h)[:, None]
    tint = 1.0 + rng.uniform(-0.015, 0.015, 3)
    bg = np.broadcast_to(col[:, :, None] * tint, (h, w, 3)).astype(np.float32)
    return np.clip(bg + rng.normal(0, 0.8, (h, w, 3)).astype(np.float32), 0, 255)


def studio_composite(
    rgb: np.ndarray,
    mask: np.ndarray,
    rng: np.random.Generator,
    size: tuple[int, int] = COMPOSITE_SIZE,
) -> Composite:
    """The garment of an (H, W, 3) uint8 RGB photo, cut out by its (H, W) uint8 {0, 255}
    mask, as a catalog shot of `size` = (height, width).

    The cut-out fills 70-92 % of the frame's height (or at most 92 % of its width, for wide
    garments), centred within +-3 %; its edge is feathered by about a pixel. With
    probability 0.5 a soft drop shadow (the mask blurred, offset down-right, 6-22 % darker)
    lies under it. Returns a `Composite`; raises ValueError for an empty mask.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or mask.shape != rgb.shape[:2]:
        raise ValueError(f"expected (H, W, 3) photo and (H, W) mask, got {rgb.shape} {mask.shape}")
    box = _box(mask > 0)
    if box is None:
        raise ValueError("empty mask")
    y0, y1, x0, x1 = box
    crop, cmask = rgb[y0:y1, x0:x1], mask[y0:y1, x0:x1]
    out_h, out_w = size
    gh, gw = y1 - y0, x1 - x0
    scale = min(rng.uniform(0.70, 0.92) * out_h / gh, rng.uniform(0.80, 0.92) * out_w / gw)
    nh, nw = max(2, round(gh * scale)), max(2, round(gw * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    g = cv2.resize(crop, (nw, nh), interpolation=interp).astype(np.float32)
    a = cv2.resize(cmask, (nw, nh), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255
    a = cv2.GaussianBlur(a, (3, 3), 0.7)
    top = round((out_h - nh) / 2 + float(rng.uniform(-0.03, 0.03)) * out_h)
    left = round((out_w - nw) / 2 + float(rng.uniform(-0.03, 0.03)) * out_w)
    top, left = int(np.clip(top, 0, out_h - nh)), int(np.clip(left, 0, out_w - nw))
    alpha = np.zeros((out_h, out_w), np.float32)
    alpha[top : top + nh, left : left + nw] = a
    fg = np.zeros((out_h, out_w, 3), np.float32)
    fg[top : top + nh, left : left + nw] = g
    bg = _backdrop(rng, size)
    if rng.random() < 0.5:
        k = int(rng.integers(4, 12)) * 2 + 1
        dx, dy = rng.integers(0, 8), rng.integers(2, 10)
        shadow = cv2.GaussianBlur(np.roll(alpha, (int(dy), int(dx)), axis=(0, 1)), (k, k), 0)
        bg *= 1.0 - rng.uniform(0.06, 0.22) * shadow[:, :, None]
    out = fg * alpha[:, :, None] + bg * (1.0 - alpha[:, :, None])
    image = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    return Composite(image, (alpha > 0.5).astype(np.uint8) * 255)
