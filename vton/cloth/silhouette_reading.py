"""What a garment's mask measures about its category and sleeves, fused with the CNN.

The shipped CNN (`vton.cloth.classifier_cnn`) learned from flat lays and hangers; on studio
catalog shots it takes fitted tees for dresses and misreads sleeves that the outline shows
plainly. Some answers can be measured off the mask directly (`read_silhouette`):

* **an upright front-view top**: `vton.render.garment_geometry.garment_geometry`, the
  renderer's own reader, run on the mask normalised as the renderer gets it, accepts the
  silhouette only when it finds a neckline, level shoulders, armpits between shoulder and
  waist and a hem. Then its sleeve style (sleeveless / short / long, where the sleeve ends
  relative to shoulder and armpit) is a measurement, and so is the body's length from
  shoulder to hem over its width (the chest, or a sleeved cut's shoulder seams where
  they are wider: a form narrows the chest a studio shot shows): a top ends at the hip,
  a dress at mid-thigh or below (`DRESS_MIN_LENGTH`);
* **a long garment, read as a top would be**: the renderer's reader is made for tops and
  refuses a body more than about three chest widths long (most dresses, long tunics). A
  silhouette it refuses that is taller than 1.6 times its body's width (the median row's)
  is read again squashed vertically to a top's proportions (`SQUASH_ASPECTS`); what it
  finds (neckline, shoulders, armpits, sleeves, hem) is mapped back to the real heights,
  so the length over chest width is the real one and a dress is `dress-length` evidence.
  Its sleeve style is then the sleeve's own length over the chest width
  (`LONG_SLEEVE_CHEST`, fitted on the training tops), since the reader's rule (a fraction
  of the body's length) would call a dress's long sleeves short;
* **two legs with a crotch gap**: below the crotch the silhouette is two similar runs with
  the gap in the middle, above it one run (the waistband): trousers or shorts.

How far each measurement is to be trusted was measured, not assumed: on clothing-small's
``train/`` masks (crumpled flat lays and hangers among them; never the evaluation sets)
`CATEGORY_LIKELIHOOD` / `SLEEVE_LIKELIHOOD` hold how often each reading comes out for each
true category / sleeve. `fuse` multiplies the CNN's calibrated probabilities by those
likelihoods (Bayes' rule, the two taken as independent evidence): a reading that is
usually right moves an unsure CNN, a confident CNN keeps its answer against a reading that
flat lays often get wrong, and a mask nothing can be read from (a crumpled garment, a
silhouette refused even squashed) leaves the CNN's answer exactly as it was. The fused
probabilities are the confidences, so the cloth stage's low-confidence flag sees where
photo and outline disagree. `FusedClassifier` is a classifier with that fusion: what
`vton.cloth.classify.make_classifier` gives the cloth stage for a CNN. It reads the mask
only of a photo on a smooth studio backdrop (`smooth_backdrop`, the classical masker's own
test): a garment laid on bedding or a floor is often crumpled or folded, which an outline
reading cannot see, and there the CNN, trained on such photos, is left alone.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from vton.catalog import CATEGORIES, SLEEVES
from vton.cloth.classify import SLEEVED_CATEGORIES, Classification, GarmentClassifier, _runs
from vton.cloth.normalise import HIRES_SIZE
from vton.errors import InvalidInputError
from vton.render.garment_geometry import GarmentGeometry, garment_geometry, shoulders_are_seams

__all__ = [
    "CATEGORY_LIKELIHOOD",
    "DRESS_MIN_LENGTH",
    "LEGS_MIN_FRACTION",
    "LONG_SLEEVE_CHEST",
    "MAX_SQUASHED_CUFF",
    "READING_VERSION",
    "SQUASH_ASPECTS",
    "SLEEVE_LIKELIHOOD",
    "FusedClassifier",
    "SilhouetteReading",
    "category_evidence",
    "fuse",
    "likelihood_table",
    "read_silhouette",
    "sleeve_evidence",
    "smooth_backdrop",
]

#: Bump when the reading or the fusion changes: it is part of `FusedClassifier.id`.
READING_VERSION = "5"
#: Shoulder-to-hem length over chest width (armpit to armpit) at and above which an upright
#: garment may be a dress. Body proportions: a top ends at the hip, about 1.2-1.6 chest
#: widths below the shoulder (a 44-52 cm flat chest, 60-75 cm long); the shortest dress
#: reaches mid-thigh, 80+ cm (1.8 and more), a knee-length one 2.0-2.4.
DRESS_MIN_LENGTH = 1.8
#: Share of the rows between 60 % and 95 % of the garment's height that must be two legs.
LEGS_MIN_FRACTION = 0.75
#: A silhouette the reader refuses that is taller than the first of these many times its
#: body's width (the median row's extent; sleeves beside the body widen the box, not
#: that) is read again squashed to that aspect, then (refused again) to the next: a top
#: laid out (tee, tank, blouse) is about 1.2-1.6 times as long as its body is wide, the
#: proportions the reader's checks are made for.
SQUASH_ASPECTS = (1.6, 1.3)
#: In a squashed reading, a sleeve's cuff lies above this fraction of the garment's height:
#: a long sleeve ends at the wrist, about the hip, well above the middle of a long dress.
MAX_SQUASHED_CUFF = 0.6
#: Sleeve length (root centre to cuff centre) over chest width at and above which a squashed
#: reading's sleeve is long: the threshold that best tells clothing-small ``train/``
#: t-shirts from long-sleeves by this measure (balanced accuracy 0.89 on their plain
#: readings; flat-laid long sleeves are often folded or overlap the body, so it is low).
LONG_SLEEVE_CHEST = 0.45
#: P(evidence | true category) and P(evidence | true sleeve) of `category_evidence` and
#: `sleeve_evidence`, fitted on clothing-small's ``train/`` masks (classical masker
#: ``classical-v5-ab9b595b47bb``; the squashed second reading included;
#: sleeveless: t-shirt masks cut to tanks and camis, `vton.cloth.studio.cut_sleeves`),
#: Laplace-smoothed, over all items of the class (nothing read counts in the denominator).
#: Reproduce: ``python benchmarks/bench_classifier.py --fit-reading``.
CATEGORY_LIKELIHOOD: dict[str, dict[str, float]] = {
    "legs": {
        "bottom": 0.4326,
        "dress": 0.0041,
        "other": 0.0062,
        "outerwear": 0.0053,
        "top": 0.0019,
    },
    "top-length": {
        "bottom": 0.1819,
        "dress": 0.1796,
        "other": 0.3046,
        "outerwear": 0.516,
        "top": 0.6975,
    },
    "dress-length": {
        "bottom": 0.0573,
        "dress": 0.3918,
        "other": 0.0831,
        "outerwear": 0.117,
        "top": 0.0479,
    },
}
SLEEVE_LIKELIHOOD: dict[str, dict[str, float]] = {
    "sleeveless": {"long": 0.2333, "short": 0.03, "sleeveless": 0.6103},
    "short": {"long": 0.056, "short": 0.6433, "sleeveless": 0.0578},
    "long": {"long": 0.4199, "short": 0.1252, "sleeveless": 0.0471},
}
_FILL = 0.9  # normalise_garment's default fill


@dataclass(frozen=True)
class SilhouetteReading:
    """What the mask measured.

    upright_top: `garment_geometry` accepted it as an upright front view of a top-like cut.
    sleeve: its sleeve style then (else None). length_to_chest: shoulder-to-hem length over
    the garment's width then (`_width`: the chest, or the shoulder seams where wider;
    else None). legs: share of the low rows that are two legs with a
    centred gap under a single-run waist (0 when the waist is not one run). symmetry (IoU
    with the mirror image) and sleeve_length (mean sleeve over shoulder-to-hem length)
    are kept for diagnosis; the fusion does not use them (on the training masks neither
    told a right sleeve reading from a wrong one). squashed: the reading is the second
    one, of the silhouette squashed to a top's aspect (`SQUASH_ASPECTS`: a long garment);
    its lengths are mapped back to the real heights.
    """

    upright_top: bool
    sleeve: str | None
    length_to_chest: float | None
    legs: float
    symmetry: float = 0.0
    sleeve_length: float | None = None
    squashed: bool = False


def _canvas_mask(mask: np.ndarray) -> np.ndarray | None:
    """The garment's (1024, 768) bool mask as the cloth stage normalises it for the renderer
    (`vton.cloth.normalise.normalise_garment` at `HIRES_SIZE`, its mask steps only), so the
    reading is the renderer's own reading of the garment; None when (nearly) empty."""
    on = mask > 0
    if cv2.countNonZero(on.view(np.uint8)) < 64:
        return None
    # the garment's box from its rows and columns (np.nonzero of a whole photo's mask is
    # slower than the rest of the reading together)
    ys, xs = np.flatnonzero(on.any(axis=1)), np.flatnonzero(on.any(axis=0))
    y0, y1, x0, x1 = ys[0], ys[-1] + 1, xs[0], xs[-1] + 1
    crop = np.ascontiguousarray(mask[y0:y1, x0:x1])
    ch, cw = crop.shape
    out_h, out_w = HIRES_SIZE
    scale = min(_FILL * out_h / ch, _FILL * out_w / cw)
    new_w, new_h = max(1, round(cw * scale)), max(1, round(ch * scale))
    soft = cv2.resize(crop, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    out = np.zeros((out_h, out_w), bool)
    top, left = (out_h - new_h) // 2, (out_w - new_w) // 2
    out[top : top + new_h, left : left + new_w] = soft >= 128
    return out


def _legs(fg: np.ndarray) -> float:
    """Share of the rows at 60-95 % of the garment's height made of two similar runs with
    the gap in the middle, 0 unless the row at 10 % (the waistband) is a single run."""
    ys = np.flatnonzero(fg.any(axis=1))
    y0, y1 = ys[0], ys[-1] + 1
    h = y1 - y0
    significant = lambda row: [r for r in _runs(row) if r[1] - r[0] >= 0.02 * h]  # noqa: E731
    if len(significant(fg[y0 + int(0.1 * h)])) != 1:
        return 0.0
    hits = []
    for f in np.linspace(0.6, 0.95, 15):
        runs = significant(fg[y0 + min(h - 1, int(f * h))])
        if len(runs) != 2:
            hits.append(False)
            continue
        (a0, a1), (b0, b1) = runs
        wa, wb = a1 - a0, b1 - b0
        centred = abs((a1 + b0) / 2 - (a0 + b1) / 2) < 0.15 * (b1 - a0)
        hits.append(centred and min(wa, wb) > 0.5 * max(wa, wb) and b0 - a1 >= 0.02 * h)
    return float(np.mean(hits))


def read_silhouette(mask: np.ndarray) -> SilhouetteReading:
    """Read an (H, W) uint8 {0, 255} garment mask (the whole photo's, or a normalised
    canvas: it is normalised as the cloth stage normalises it for the renderer first, so
    the photo's size and the garment's place in it do not matter)."""
    if mask.ndim != 2:
        raise ValueError(f"expected an (H, W) mask, got {mask.shape}")
    fg = _canvas_mask(mask)
    if fg is None:
        return SilhouetteReading(False, None, None, 0.0)
    legs = _legs(fg)
    sym = _symmetry(fg)
    g = _geometry(fg.astype(np.uint8) * np.uint8(255))
    if g is None:
        return _squashed_reading(fg, legs, sym)
    width = _width(g)
    body = max(g.hem_y - g.shoulder_y, 1.0)
    length = body / width if width > 0 else None
    sleeves = [s.length / body for s in (g.sleeve_left, g.sleeve_right) if s is not None]
    sl = float(np.mean(sleeves)) if sleeves else None
    return SilhouetteReading(True, g.sleeve, length, legs, sym, sl)


def _width(g: GarmentGeometry, chest: float | None = None) -> float:
    """The garment's width that its length is compared with: its chest (armpit to armpit,
    `chest` when given), or for a sleeved cut its shoulder seams' distance where that is
    wider. A garment laid flat is widest at the chest; on a form or a ghost mannequin
    (studio shots) the body's turn narrows the chest seen from the front by about a
    quarter, which would make a tee look a dress's length, while the shoulder seams seen
    from the front stay as wide. The shoulder points count as seams only where the
    renderer takes them so (`shoulders_are_seams`: not a dropped, off-shoulder or misread
    corner), and a sleeveless cut's "shoulders" are its straps or armhole corners: no
    measure of its width."""
    chest = 2.0 * g.chest_half_width if chest is None else chest
    if g.sleeve_left is None or g.sleeve_right is None:
        return chest
    shoulders = float(g.shoulder_right[0] - g.shoulder_left[0])
    if not shoulders_are_seams(chest, shoulders):
        return chest
    return max(chest, shoulders)


def _geometry(mask: np.ndarray) -> GarmentGeometry | None:
    """The renderer's reading of an (H, W) uint8 {0, 255} mask, None where it refuses it."""
    try:
        return garment_geometry(mask, "garment")
    except InvalidInputError:
        return None
    except (IndexError, ValueError):  # a silhouette the reader trips over: nothing read
        return None


def _squashed_reading(fg: np.ndarray, legs: float, sym: float) -> SilhouetteReading:
    """The second reading of a canvas `fg` the reader refused: when the garment is taller
    than the first of `SQUASH_ASPECTS` body widths, its box squashed vertically to each aspect
    in turn (on a margin of backdrop) and read again; heights mapped back, sleeve style by
    `LONG_SLEEVE_CHEST`. Nothing read (not upright) when it is not that tall or every
    squashed copy is refused too."""
    nothing = SilhouetteReading(False, None, None, legs, sym)
    ys, xs = np.flatnonzero(fg.any(axis=1)), np.flatnonzero(fg.any(axis=0))
    h, w = int(ys[-1] - ys[0] + 1), int(xs[-1] - xs[0] + 1)
    crop = fg[ys[0] : ys[-1] + 1, xs[0] : xs[-1] + 1]
    # the body's width: the median row's extent (sleeves beside the body widen the box)
    rows = crop.any(axis=1)
    extent = crop.shape[1] - np.argmax(crop[:, ::-1], axis=1) - np.argmax(crop, axis=1)
    body_w = float(np.median(extent[rows]))
    if h <= SQUASH_ASPECTS[0] * body_w:
        return nothing
    crop = crop.astype(np.uint8) * np.uint8(255)
    pad = max(4, round(0.05 * w))
    for aspect in SQUASH_ASPECTS:
        new_h = max(16, round(aspect * body_w))
        squashed = cv2.resize(crop, (w, new_h), interpolation=cv2.INTER_AREA)
        canvas = np.zeros((new_h + 2 * pad, w + 2 * pad), np.uint8)
        canvas[pad : pad + new_h, pad : pad + w] = np.where(squashed >= 128, 255, 0)
        g = _geometry(canvas)
        if g is None or g.chest_half_width <= 0:
            continue
        # A "sleeve" ending in the lower part of a long garment is its skirt read as sleeves
        # merged with the body (the reader's bell-sleeve reading): not a reading of it.
        cuffs = [s.cuff_centre[1] for s in (g.sleeve_left, g.sleeve_right) if s is not None]
        if cuffs and max(cuffs) > pad + MAX_SQUASHED_CUFF * new_h:
            continue
        return _unsquashed(g, new_h / h, pad, legs, sym)
    return nothing


def _unsquashed(
    g: GarmentGeometry, f: float, pad: int, legs: float, sym: float
) -> SilhouetteReading:
    """The reading of geometry `g` found on a copy squashed by `f` (rows per real row,
    offset by `pad`), with its lengths at the real heights."""

    def real(p) -> np.ndarray:
        return np.array([p[0], (p[1] - pad) / f])

    chest = 2.0 * g.chest_half_width
    body = max((g.hem_y - g.shoulder_y) / f, 1.0)
    width = _width(g, chest)
    lengths = [
        float(np.hypot(*(real(s.root_centre) - real(s.cuff_centre)))) / chest
        for s in (g.sleeve_left, g.sleeve_right)
        if s is not None
    ]
    if not lengths:
        sleeve = "sleeveless"
    else:
        sleeve = "long" if max(lengths) >= LONG_SLEEVE_CHEST else "short"
    sl = float(np.mean(lengths)) * chest / body if lengths else None
    return SilhouetteReading(True, sleeve, body / width, legs, sym, sl, squashed=True)


def _symmetry(fg: np.ndarray) -> float:
    """IoU of the garment with its mirror image about its own middle: near 1 for a
    garment laid out straight (a studio shot), lower for a crumpled or folded one."""
    cols = np.flatnonzero(fg.any(axis=0))
    m = fg[:, cols[0] : cols[-1] + 1]
    f = m[:, ::-1]
    return float((m & f).sum()) / max(float((m | f).sum()), 1.0)


def category_evidence(reading: SilhouetteReading) -> str | None:
    """What the reading says about the category: ``legs`` (two legs under a waistband),
    ``top-length`` / ``dress-length`` (an upright top-like cut shorter / longer than
    `DRESS_MIN_LENGTH` chest widths), or None (nothing read: no evidence)."""
    if reading.legs >= LEGS_MIN_FRACTION:
        return "legs"
    if reading.upright_top and reading.length_to_chest is not None:
        return "top-length" if reading.length_to_chest < DRESS_MIN_LENGTH else "dress-length"
    return None


def sleeve_evidence(reading: SilhouetteReading) -> str | None:
    """The sleeve style read off an upright top-like cut, None when nothing was read."""
    return reading.sleeve if reading.upright_top else None


def likelihood_table(
    observations: Sequence[tuple[str, str | None]], evidences: Sequence[str]
) -> dict[str, dict[str, float]]:
    """P(evidence | truth) from (truth, evidence or None) pairs, Laplace-smoothed over the
    evidences and "nothing read": {evidence: {truth: probability}}."""
    truths = sorted({t for t, _ in observations})
    table: dict[str, dict[str, float]] = {e: {} for e in evidences}
    for t in truths:
        seen = [e for tt, e in observations if tt == t]
        for e in evidences:
            table[e][t] = round((seen.count(e) + 1) / (len(seen) + len(evidences) + 1), 4)
    return table


def _posterior(prior: dict[str, float], likelihood: dict[str, float] | None) -> dict[str, float]:
    if likelihood is None:
        return prior
    post = {k: p * likelihood.get(k, 1.0) for k, p in prior.items()}
    z = sum(post.values())
    return {k: v / z for k, v in post.items()} if z > 0 else prior


def fuse(
    category_p: dict[str, float], sleeve_p: dict[str, float], reading: SilhouetteReading
) -> Classification:
    """The CNN's probabilities times the likelihood of what the reading saw (Bayes' rule,
    reading and photo taken as independent evidence), as a Classification.

    `category_p` / `sleeve_p`: the CNN's calibrated probabilities by name (they sum to 1).
    Where the reading saw nothing, the CNN's answer stands unchanged; where it did, its
    likelihoods (`CATEGORY_LIKELIHOOD`, `SLEEVE_LIKELIHOOD`, measured on clothing-small's
    training masks, crumpled flat lays included) decide how far it moves the answer: a
    measurement that is often wrong on flat lays moves it little. The confidences are the
    fused posteriors, so the cloth stage's low-confidence flag sees the combined certainty.
    """
    cat_ev, sl_ev = category_evidence(reading), sleeve_evidence(reading)
    pc = _posterior(category_p, CATEGORY_LIKELIHOOD.get(cat_ev) if cat_ev else None)
    ps = _posterior(sleeve_p, SLEEVE_LIKELIHOOD.get(sl_ev) if sl_ev else None)
    category = max(pc, key=pc.__getitem__)
    if category not in SLEEVED_CATEGORIES:
        return Classification(category, None, round(pc[category], 4), None, "classifier")
    sleeve = max(ps, key=ps.__getitem__)
    return Classification(
        category, sleeve, round(pc[category], 4), round(ps[sleeve], 4), "classifier"
    )


@functools.cache
def _studio_test() -> tuple[int, float]:
    from vton.cloth.masking import ClassicalMasker

    m = ClassicalMasker()
    return m.work_side, m.studio_noise


def smooth_backdrop(image: np.ndarray) -> bool:
    """Whether the (H, W, 3) uint8 RGB photo was taken on a smooth (studio) backdrop, by the
    classical masker's own test: the noise of its backdrop model of the photo's border
    (`vton.cloth.masking`, ``studio_noise``). Flat lays on bedding, floors or rugs fail it;
    only then are their garments often crumpled or folded, which the reading is not for."""
    from vton.cloth.masking import _fit_background, _resize_long

    side, studio_noise = _studio_test()
    small = _resize_long(image, side)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)
    band = max(2, min(small.shape[:2]) // 64)
    _, noise, _ = _fit_background(lab, band)
    return 0.7 * noise <= studio_noise  # as ClassicalMasker._maps weighs it


def _as_distribution(pred: Classification, names: Sequence[str], value, conf) -> dict:
    """A back-end that gives only its top answer: that answer at its confidence, the rest
    shared evenly (all even when it gave none)."""
    if value is None or conf is None:
        return {n: 1.0 / len(names) for n in names}
    rest = (1.0 - conf) / max(len(names) - 1, 1)
    return {n: (conf if n == value else rest) for n in names}


class FusedClassifier:
    """A classifier (normally the CNN) whose answers are fused with `read_silhouette` of
    the mask (see `fuse`): what the cloth stage uses by default.

    `id` is the back-end's plus the reading's version, so a change of either re-classifies
    every cached garment.
    """

    def __init__(self, cnn: GarmentClassifier) -> None:
        self.cnn = cnn
        self.id = f"{cnn.id}+reading-v{READING_VERSION}"

    def _probabilities(self, images, masks) -> list[tuple[dict, dict]]:
        cnn = self.cnn
        if hasattr(cnn, "probabilities") and hasattr(cnn, "categories"):
            from vton.cloth.classifier_cnn import photo_tensor, silhouette_tensor

            sil = silhouette_tensor(list(masks)) if cnn.n_silhouette else None
            pc, ps = cnn.probabilities(photo_tensor(images), sil)
            return [
                (
                    dict(zip(cnn.categories, c.tolist(), strict=True)),
                    dict(zip(cnn.sleeves, s.tolist(), strict=True)),
                )
                for c, s in zip(pc, ps, strict=True)
            ]
        out = []
        for image, mask in zip(images, masks, strict=True):
            p = cnn.classify(image, mask)
            out.append(
                (
                    _as_distribution(p, CATEGORIES, p.category, p.category_confidence),
                    _as_distribution(p, SLEEVES, p.sleeve, p.sleeve_confidence),
                )
            )
        return out

    def classify_batch(
        self, images: Sequence[np.ndarray], masks: Sequence[np.ndarray | None] | None = None
    ) -> list[Classification]:
        """(H, W, 3) uint8 RGB photos and their (H, W) uint8 {0, 255} masks -> one
        Classification each. The mask is read only for a photo on a smooth backdrop
        (`smooth_backdrop`: a studio shot); without a mask, or on a flat lay's textured
        backdrop, the back-end's answer stands."""
        masks = list(masks) if masks is not None else [None] * len(images)
        if len(masks) != len(images):
            raise ValueError(f"{len(images)} images but {len(masks)} masks")
        empty = SilhouetteReading(False, None, None, 0.0)
        out = []
        for (pc, ps), image, m in zip(
            self._probabilities(images, masks), images, masks, strict=True
        ):
            read = m is not None and smooth_backdrop(image)
            out.append(fuse(pc, ps, read_silhouette(m) if read else empty))
        return out

    def classify(self, image: np.ndarray, mask: np.ndarray | None = None) -> Classification:
        """(H, W, 3) uint8 RGB product photo and its (H, W) uint8 {0, 255} mask."""
        return self.classify_batch([image], [mask])[0]
