"""What kind of garment is it: category (top, bottom, dress, outerwear, other) and sleeve length
(sleeveless, short, long).

Catalog metadata wins where the catalog has it (`resolve_classification`); otherwise the
garment is classified from its photo and mask by one of two back-ends with one interface
(`GarmentClassifier`), chosen by `make_classifier`:

* `CnnClassifier` (`vton.cloth.classifier_cnn`, the default): a small CNN on the photo.
  The package ships one trained on real flat-lay and hanger photos (CC0 clothing-small;
  ``weights/MODEL_CARD.md``); users can train their own on their labelled catalog with
  ``vton train-classifier``.
* `SilhouetteClassifier` (``silhouette``, no weights): rules on the mask's shape, the way a
  person would tell garments apart from their outline: trousers split into legs below the
  crotch, tops and dresses have a neckline dip and shoulders, skirts and bags have a straight
  top, a dress flares below a narrow waist, sleeves stick out beyond the body, and a
  jacket's zip is a dark line down its centre. Good on clean product shots with exact
  masks; on real flat-lay photos the masks, and so the rules, are unreliable.

Only upper-body garments are rendered; the planner skips the others with the reason.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from vton.catalog import CATEGORIES, SLEEVES
from vton.cloth.normalise import CP_VTON_SIZE, normalise_garment

__all__ = [
    "CATEGORIES",
    "SHIPPED_WEIGHTS",
    "SLEEVED_CATEGORIES",
    "SLEEVES",
    "Classification",
    "GarmentClassifier",
    "SilhouetteClassifier",
    "make_classifier",
    "resolve_classification",
    "silhouette_features",
]

#: Categories for which a sleeve length means something.
SLEEVED_CATEGORIES = ("top", "dress", "outerwear")
#: The CNN weights shipped with the package (`make_classifier(None)`).
SHIPPED_WEIGHTS = Path(__file__).parent / "weights" / "garment_classifier.pt"

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Classification:
    """A garment's category and sleeve length, where they came from and how sure they are.

    `source` is ``catalog``, ``classifier`` or ``silhouette``; confidences are in [0, 1]
    (1.0 for catalog metadata). `sleeve` is None for categories without sleeves.
    """

    category: str
    sleeve: str | None
    category_confidence: float
    sleeve_confidence: float | None
    source: str

    def to_dict(self) -> dict:
        return asdict(self)


@runtime_checkable
class GarmentClassifier(Protocol):
    """Classification back-end.

    `classify` takes the product photo as decoded, (H, W, 3) uint8 RGB, and the masker's
    (H, W) uint8 {0, 255} mask of it; each back-end takes what it trusts (the CNN the
    photo, the rules the mask's outline). The garment already normalised onto its canvas
    (`normalise_garment`) with its mask works too. `id` goes into the asset digest, so a
    new classifier re-classifies every garment.
    """

    id: str

    def classify(self, image: np.ndarray, mask: np.ndarray) -> Classification: ...


def make_classifier(path: str | None = None) -> GarmentClassifier:
    """The configured classifier.

    None: the CNN shipped with the package (`SHIPPED_WEIGHTS`); if that file is missing (a
    source tree without it), the silhouette rules, with a warning. ``"silhouette"``: the
    rules. Anything else: the CNN saved at that path by ``vton train-classifier`` (raises
    `CheckpointError` naming what is wrong; a configured file is never silently replaced).
    A CNN's answers are fused with what the garment's mask measures
    (`vton.cloth.silhouette_reading.FusedClassifier`: sleeve style and legs read off the
    outline of an upright studio shot, which the CNN, trained on flat lays, misreads).
    """
    if path == "silhouette":
        return SilhouetteClassifier()
    from vton.cloth.classifier_cnn import load_classifier  # torch only when needed
    from vton.cloth.silhouette_reading import FusedClassifier

    if path is None:
        if not SHIPPED_WEIGHTS.is_file():
            _log.warning(
                "shipped garment classifier %s is missing; classifying by silhouette rules",
                SHIPPED_WEIGHTS,
            )
            return SilhouetteClassifier()
        return _shipped(SHIPPED_WEIGHTS)
    return FusedClassifier(load_classifier(path))


@functools.lru_cache(maxsize=2)
def _shipped(path: Path) -> GarmentClassifier:
    """The shipped CNN with the silhouette reading, loaded (and its sha256 checked) once per
    process: every prep task asks for it. Inference does not change it, so sharing it is
    safe."""
    from vton.cloth.classifier_cnn import load_classifier
    from vton.cloth.silhouette_reading import FusedClassifier

    return FusedClassifier(load_classifier(path))


def resolve_classification(
    predicted: Classification | None, category: str | None, sleeve: str | None
) -> Classification | None:
    """Catalog metadata wins: `category`/`sleeve` from the catalog where given, the
    prediction for what the catalog leaves out."""
    if category is None:
        if predicted is None:
            return None
        if sleeve is None:
            return predicted
        return Classification(
            predicted.category, sleeve, predicted.category_confidence, 1.0, predicted.source
        )
    if (
        sleeve is None
        and predicted is not None
        and category in SLEEVED_CATEGORIES
        and predicted.sleeve is not None
    ):
        return Classification(
            category, predicted.sleeve, 1.0, predicted.sleeve_confidence, "catalog"
        )
    return Classification(category, sleeve, 1.0, 1.0 if sleeve else None, "catalog")


# --------------------------------------------------------------------------------------------
# Silhouette rules
# --------------------------------------------------------------------------------------------


def _runs(row: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True in a 1-D bool array."""
    d = np.diff(np.concatenate([[0], row.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def upright(mask: np.ndarray, image: np.ndarray | None = None, max_deg: float = 8.0):
    """Rotate a slightly tilted garment upright: the angle in [-max_deg, max_deg] that
    makes the (H, W) uint8 mask most left-right symmetric (garments are, seen from the
    front). Returns (mask, image), the image rotated alike (white fill) when given."""
    ys, xs = np.nonzero(mask)
    if ys.size < 16:
        return mask, image
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop = mask[y0:y1, x0:x1]
    side = max(crop.shape)
    pad = side // 4
    sq = np.zeros((side + 2 * pad, side + 2 * pad), np.uint8)
    oy, ox = pad + (side - crop.shape[0]) // 2, pad + (side - crop.shape[1]) // 2
    sq[oy : oy + crop.shape[0], ox : ox + crop.shape[1]] = crop
    small = cv2.resize(sq, (96, 96), interpolation=cv2.INTER_AREA)
    c = (47.5, 47.5)

    def score(deg: float) -> float:
        r = cv2.warpAffine(small, cv2.getRotationMatrix2D(c, deg, 1.0), (96, 96)) > 127
        cols = np.flatnonzero(r.any(axis=0))
        if cols.size == 0:
            return 0.0
        r = r[:, cols[0] : cols[-1] + 1]
        f = r[:, ::-1]
        return float((r & f).sum()) / max(float((r | f).sum()), 1.0)

    angles = np.arange(-max_deg, max_deg + 0.1, 2.0)
    best = float(angles[int(np.argmax([score(a) for a in angles]))])
    if best == 0.0:
        return mask, image
    h, w = mask.shape
    rot = cv2.getRotationMatrix2D(((x0 + x1) / 2, (y0 + y1) / 2), best, 1.0)
    out = cv2.warpAffine(mask, rot, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
    if image is not None:
        image = cv2.warpAffine(
            image, rot, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255)
        )
    return out, image


def silhouette_features(
    mask: np.ndarray, image: np.ndarray | None = None, body_at: float = 0.6
) -> dict[str, float]:
    """Shape measurements of an (H, W) uint8 {0, 255} garment mask (upright, centred).

    Lengths are in units of the garment's height, positions as fractions of its bounding
    box (y = 0 top, 1 bottom). The body is the run of mask through the middle of the row
    at `body_at` (below a top's sleeves; a dress's chest is higher). With the (H, W, 3)
    image, also the strength of a dark line down the centre (a zip).
    """
    if mask.ndim != 2:
        raise ValueError(f"expected an (H, W) mask, got {mask.shape}")
    fg = mask > 0
    ys, xs = np.nonzero(fg)
    if ys.size < 16:
        raise ValueError("empty mask")
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    m = fg[y0:y1, x0:x1]
    h, w = m.shape

    def runs_at(f: float) -> list[tuple[int, int]]:
        return _runs(m[min(h - 1, int(f * h))])

    def centre_run(f: float) -> tuple[int, int]:
        runs = runs_at(f)
        if not runs:
            return (w // 2, w // 2 + 1)
        mid = (runs[0][0] + runs[-1][1]) / 2
        return min(runs, key=lambda r: 0 if r[0] <= mid < r[1] else abs((r[0] + r[1]) / 2 - mid))

    def cwidth(f: float) -> float:
        a, b = centre_run(f)
        return (b - a) / h

    def extent(f: float) -> float:
        runs = runs_at(f)
        return (runs[-1][1] - runs[0][0]) / h if runs else 0.0

    # Legs: rows low down made of two similar runs with the gap in the middle.
    legs = []
    for f in np.linspace(0.62, 0.95, 12):
        runs = runs_at(float(f))
        if len(runs) != 2:
            legs.append(0.0)
            continue
        (a0, a1), (b0, b1) = runs
        wa, wb = a1 - a0, b1 - b0
        gap_mid, row_mid = (a1 + b0) / 2, (a0 + b1) / 2
        centred = abs(gap_mid - row_mid) < 0.15 * (b1 - a0)
        legs.append(float(centred and min(wa, wb) > 0.5 * max(wa, wb)))
    # Top edge: a neckline dips at the centre; a waistband is flat; a hood or cap peaks.
    top = np.where(m.any(axis=0), m.argmax(axis=0), h) / h
    cols = np.flatnonzero(m.any(axis=0))
    mid = (cols[0] + cols[-1]) // 2
    band = max(1, w // 50)
    centre_top = float(top[max(0, mid - band) : mid + band + 1].max())
    shoulder_top = float(np.percentile(top[cols], 10))
    # Body and sleeves: mask outside the body's columns, measured from the shoulders.
    bl, br = centre_run(body_at)
    outside = m.copy()
    outside[:, max(0, bl - band) : br + band] = False
    if body_at < 0.5:  # a dress: the skirt below the waist is not a sleeve
        outside[int(0.55 * h) :] = False
    sleeve_area = float(outside.sum()) / max(float(m.sum()), 1.0)
    sy, sx = np.nonzero(outside)
    if sy.size:
        sh_y = shoulder_top * h
        reach = np.where(sx < bl, np.hypot(sx - bl, sy - sh_y), np.hypot(sx - br, sy - sh_y))
        sleeve_reach = float(np.percentile(reach, 99)) / max(br - bl, 1)
        sleeve_low = float(np.percentile(sy, 99)) / h
    else:
        sleeve_reach, sleeve_low = 0.0, 0.0
    # Straightness of the top edge over its middle 30 %, a tilt removed: ~0 for a waistband
    # or a bag, large for a neckline dip or a hood's dome.
    mcols = cols[int(0.35 * len(cols)) : max(int(0.65 * len(cols)), int(0.35 * len(cols)) + 2)]
    line = np.polyfit(mcols.astype(np.float64), top[mcols], 1)
    top_curve = float(np.ptp(top[mcols] - np.polyval(line, mcols)))
    ext = [extent(float(f)) for f in np.linspace(0.0, 1.0, 21)]
    # Left-right symmetry about the garment's own middle (caps and shoes are lopsided).
    flipped = m[:, ::-1]
    sym = float((m & flipped).sum()) / max(float((m | flipped).sum()), 1.0)
    feats = {
        "aspect": h / w,
        "fill": float(m.mean()),
        "legs": float(np.mean(legs)),
        "neck_dip": centre_top - shoulder_top,
        "top_curve": top_curve,
        "e_up": max(ext[2:8]),
        "e_mid": max(ext[11:18]),
        "e_low": float(np.median(ext[16:20])),
        "body_w": (br - bl) / h,
        "w_top": extent(0.05),
        "w_waist": min(cwidth(f) for f in (0.4, 0.45, 0.5)),
        "w_chest": cwidth(0.2),
        "w_hem": cwidth(0.95),
        "w_bottom": cwidth(0.98),
        "w_max": w / h,
        "sleeve_area": sleeve_area,
        "sleeve_reach": sleeve_reach,
        "sleeve_low": sleeve_low,
        "symmetry": sym,
        "zip": 0.0,
    }
    if image is not None:
        feats["zip"] = _zip_strength(image[y0:y1, x0:x1], m)
    return feats


def _zip_strength(crop: np.ndarray, m: np.ndarray) -> float:
    """How much darker than its surroundings a vertical line at the centre is, over the
    garment's height: high for a jacket's zip, low for a plain or printed front."""
    h, w = m.shape
    gray = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY).astype(np.float32)
    gray = 40.0 * np.log1p(gray / 16.0)  # contrast relative to brightness: dark garments too
    cx = w // 2
    half = max(2, w // 12)
    lo, hi = max(0, cx - half), min(w, cx + half + 1)
    band = gray[int(0.2 * h) : int(0.9 * h), lo:hi]
    inside = m[int(0.2 * h) : int(0.9 * h), lo:hi]
    if band.size == 0 or inside.mean() < 0.9:
        return 0.0
    smooth = cv2.blur(band, (max(3, (half // 2) | 1), 1))
    dark = smooth - band  # positive where a pixel is darker than its row neighbourhood
    col = np.median(dark, axis=0)  # a line that runs the whole height survives the median
    return float(col.max() / (np.median(np.abs(dark)) + 2.0))


class SilhouetteClassifier:
    """Rule-based classifier on the mask's silhouette (and a zip cue in the image).

    The rules and their thresholds were set on the synthetic benchmark
    (`benchmarks/bench_cloth.py`, which prints their accuracy); they encode how garments
    differ in outline, so they carry over to real photos as far as the outline does. The
    confidence is the margin of the deciding measurement from its threshold, mapped to
    [0.5, 1].
    """

    id = "silhouette-v1"
    zip_threshold = 2.0

    def classify(self, image: np.ndarray, mask: np.ndarray) -> Classification:
        """(H, W, 3) uint8 RGB photo and its (H, W) uint8 {0, 255} mask -> Classification.

        The garment is normalised onto CP-VTON's canvas first (a no-op for one already
        there), so the thresholds see the same scale whatever the photo's size."""
        image, mask = normalise_garment(image, mask, CP_VTON_SIZE)
        mask, image = upright(mask, image)
        f = silhouette_features(mask, image)
        category, c_conf = self._category(f)
        sleeve, s_conf = (None, None)
        if category in SLEEVED_CATEGORIES:
            sleeve, s_conf = self._sleeve(f, category)
        return Classification(category, sleeve, c_conf, s_conf, "silhouette")

    @staticmethod
    def _margin(value: float, threshold: float, scale: float) -> float:
        return float(np.clip(0.5 + abs(value - threshold) / (2 * scale), 0.5, 1.0))

    def _category(self, f: dict[str, float]) -> tuple[str, float]:
        if f["symmetry"] < 0.68:  # caps, shoes: lopsided
            return "other", self._margin(f["symmetry"], 0.68, 0.1)
        if f["legs"] > 0.5:  # trousers, shorts
            return "bottom", self._margin(f["legs"], 0.5, 0.3)
        if f["top_curve"] < 0.03:  # a straight top edge: a waistband, or a bag
            if f["aspect"] < 0.85 and f["fill"] > 0.9:
                return "other", self._margin(f["fill"], 0.9, 0.05)
            return "bottom", self._margin(f["top_curve"], 0.03, 0.05)
        flare = f["w_hem"] / max(f["w_waist"], 1e-3)
        if flare > 1.25:  # narrow waist, wide hem
            return "dress", self._margin(flare, 1.25, 0.3)
        if f["zip"] > self.zip_threshold:  # a dark line down the front
            return "outerwear", self._margin(f["zip"], self.zip_threshold, 4.0)
        return "top", self._margin(f["top_curve"], 0.03, 0.05)

    def _sleeve(self, f: dict[str, float], category: str) -> tuple[str, float]:
        """Sleeves widen the garment beyond its body near the shoulders; long ones also
        hang beside the body lower down or reach far from the shoulder."""
        if category == "dress":
            up = f["e_up"] / max(f["w_waist"], 1e-3)
            if up < 1.3:
                return "sleeveless", self._margin(up, 1.3, 0.3)
            if up > 2.3:
                return "long", self._margin(up, 2.3, 0.5)
            return "short", self._margin(up, 2.3, 0.5)
        body = max(f["w_bottom"], 1e-3)
        up, mid = f["e_up"] / body, f["e_mid"] / body
        if up < 1.12 and mid < 1.1:
            return "sleeveless", self._margin(up, 1.12, 0.15)
        if f["sleeve_reach"] > 0.7 or f["sleeve_low"] > 0.5 or mid > 1.4:
            return "long", self._margin(max(f["sleeve_reach"] / 0.7, mid / 1.4), 1.0, 0.3)
        return "short", self._margin(f["sleeve_reach"], 0.7, 0.3)
