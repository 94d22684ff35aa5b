"""Cloth maskers: which pixels of a product photo are garment.

One interface (`Masker`), two back-ends chosen per run by name (`make_masker`):

* ``classical`` (`ClassicalMasker`): no weights. On a smooth (studio) backdrop it models
  the backdrop from the image border, marks what differs from it in colour or is enclosed
  by its edges, suppresses soft shadows, refines with GrabCut, fills holes and keeps the
  largest component. On a textured one (a garment laid flat on bedding, wood, tiles, a rug,
  or hung on a door) it runs GrabCut seeded from the border's colours and a centre prior.
  A PNG's own alpha wins when it has real transparency.
* ``rembg:<model.onnx>`` or ``rembg:<architecture>:<model.onnx>`` (`RembgMasker`): a
  salient-object or cloth-segmentation network run by rembg on a model file the user
  provides (u2net, u2netp, u2net_cloth_seg, isnet-general-use, birefnet-*...). Nothing is
  ever downloaded.

Every back-end has an `id` (back-end, version and, for a network, a digest of the model
file) that goes into the asset digest, the manifest and the index: a change of masker
re-prepares the garments, and every published image says how its garment was cut out.
``make_masker(spec).id`` is ``classical-v5`` or ``rembg-<architecture>-<sha256[:12]>``.

Every mask comes with a confidence (`MaskResult`); below `LOW_CONFIDENCE` the cloth stage
notes ``low-confidence-mask`` in the index instead of passing a doubtful mask on silently.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from vton.digest import file_sha256
from vton.errors import ConfigError, InvalidInputError

__all__ = [
    "MASKERS",
    "ClassicalMasker",
    "MaskResult",
    "Masker",
    "MaskerConfigError",
    "RembgMasker",
    "WhiteBackgroundMasker",
    "fill_holes",
    "largest_component",
    "make_masker",
    "segment",
]

#: Below this confidence a mask is flagged ``low-confidence-mask`` in the index.
LOW_CONFIDENCE = 0.5
#: On a smooth (studio) backdrop, the flat-lay mask replaces a doubtful studio mask only at
#: or above this confidence.
FLAT_OVER_STUDIO = 0.7
#: A mask covering less than this fraction of the photo is "no garment found".
MIN_AREA_FRACTION = 0.005
#: Colour distance from the backdrop that is garment evidence in any case (weighted Lab).
SURE_THRESHOLD = 2.0
#: Backdrops at least this light (8-bit OpenCV L, about RGB 215) get the masker's faint
#: threshold (`ClassicalMasker.low_threshold`): white garments on white, a few levels off.
LIGHT_BACKDROP_L = 220.0


class MaskerConfigError(ConfigError):
    """A masker that cannot be built as configured (missing model file or package).

    Raised once, when the masker is made, so a misconfigured run fails before any work.
    """


@dataclass(frozen=True)
class MaskResult:
    """A garment mask and how much to trust it.

    mask: (H, W) uint8 {0, 255}. confidence: in [0, 1]; below `LOW_CONFIDENCE` the index
    gets a ``low-confidence-mask`` note. notes: what the masker saw, recorded in the asset's
    meta.json: ``alpha`` (the file's transparency was the mask), ``flat-lay`` (textured
    backdrop, segmented by GrabCut), ``no-clear-garment`` (GrabCut kept nothing; the mask is
    the colour prior's guess, confidence 0), ``touches-border``, ``small-garment``.
    """

    mask: np.ndarray
    confidence: float = 1.0
    notes: tuple[str, ...] = field(default_factory=tuple)


@runtime_checkable
class Masker(Protocol):
    """Garment masking back-end.

    `mask` takes an (H, W, 3) uint8 RGB product photo and its (H, W) uint8 alpha plane when
    the file had one, and returns an (H, W) uint8 {0, 255} mask of the garment. It raises
    `InvalidInputError` when it finds no garment. Back-ends may also offer
    ``segment(rgb, alpha, item) -> MaskResult`` with a confidence (see `segment`).
    """

    id: str

    def mask(self, rgb: np.ndarray, alpha: np.ndarray | None, item: str) -> np.ndarray: ...


def segment(masker: Masker, rgb: np.ndarray, alpha: np.ndarray | None, item: str) -> MaskResult:
    """`masker.segment(...)` when the back-end has it, else its plain mask at confidence 1."""
    fn = getattr(masker, "segment", None)
    if fn is not None:
        return fn(rgb, alpha, item)
    return MaskResult(masker.mask(rgb, alpha, item))


# --------------------------------------------------------------------------------------------
# Mask clean-up shared by the back-ends
# --------------------------------------------------------------------------------------------


def _check_rgb(rgb: np.ndarray, alpha: np.ndarray | None) -> None:
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {getattr(rgb, 'shape', rgb)}")
    if rgb.dtype != np.uint8:
        raise TypeError(f"expected uint8 image, got {rgb.dtype}")
    if alpha is not None and alpha.shape != rgb.shape[:2]:
        raise ValueError(f"alpha {alpha.shape} does not match image {rgb.shape}")


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected component of an (H, W) uint8 {0, 255} mask.

    A product photo shows one garment; specks of dust, price tags and shadows of other
    things are smaller and detached.
    """
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 2:
        return mask
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return np.where(labels == biggest, 255, 0).astype(np.uint8)


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill holes, i.e. background regions that do not reach the image border: a print the
    colour of the backdrop is still garment. A garment cut by the frame can split the
    backdrop in two; both parts touch the border and stay background.
    (H, W) uint8 {0, 255} in and out."""
    n, labels = cv2.connectedComponents(cv2.bitwise_not(mask), connectivity=4)
    if n <= 1:
        return mask
    outside = np.zeros(n, bool)
    outside[np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])] = True
    outside[0] = False  # label 0 is the mask itself
    return np.where(outside[labels], 0, 255).astype(np.uint8)


def _from_alpha(alpha: np.ndarray, item: str) -> MaskResult:
    """A cut-out's own transparency is the mask (cleaned like any other)."""
    mask = np.where(alpha >= 128, 255, 0).astype(np.uint8)
    mask = largest_component(fill_holes(mask))
    _check_area(mask, item)
    return MaskResult(mask, 1.0, ("alpha",))


def _has_area(mask: np.ndarray) -> bool:
    """Whether `mask` covers enough of the image to be a garment at all."""
    return np.count_nonzero(mask) >= MIN_AREA_FRACTION * mask.size


def _check_area(mask: np.ndarray, item: str) -> None:
    if not _has_area(mask):
        raise InvalidInputError(item, "no garment found: the image is all background")


def _real_alpha(alpha: np.ndarray | None) -> bool:
    """Alpha with some real transparency (a cut-out), not a stray semi-transparent pixel."""
    return alpha is not None and np.count_nonzero(alpha < 128) > 0.01 * alpha.size


def _components_where(mask: np.ndarray, cue: np.ndarray, frac: float) -> np.ndarray:
    """The 8-connected components of `mask` in which more than `frac` of pixels have `cue`."""
    n, labels = cv2.connectedComponents(mask, connectivity=8)
    if n <= 1:
        return mask
    total = np.bincount(labels.ravel(), minlength=n)
    hits = np.bincount(labels.ravel(), weights=cue.ravel().astype(np.float64), minlength=n)
    ok = hits > frac * np.maximum(total, 1)
    ok[0] = False
    return np.where(ok[labels], 255, 0).astype(np.uint8)


def _resize_long(img: np.ndarray, side: int, interp: int = cv2.INTER_AREA) -> np.ndarray:
    """Shrink so the long side is at most `side` (never enlarge).

    Large reductions go in two steps, an integer-factor area average (OpenCV's fast path)
    and then the remainder (less than 2x) bilinearly: several times cheaper than one
    arbitrary-ratio area resize, and as free of aliasing.
    """
    h, w = img.shape[:2]
    s = side / max(h, w)
    if s >= 1.0:
        return img
    k = int(1.0 / s)
    if k >= 2 and interp == cv2.INTER_AREA:
        img = cv2.resize(img, (w // k, h // k), interpolation=cv2.INTER_AREA)
        h, w = img.shape[:2]
        s = side / max(h, w)
        if s >= 1.0:
            return img
        interp = cv2.INTER_LINEAR  # less than 2x left: bilinear is enough and fast
    return cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=interp)


def _threshold_up(soft: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(h, w) float soft mask in [0, 1] -> (H, W) uint8 {0, 255} mask at `size`, cut at 0.5.

    Resampled as 8-bit (OpenCV's fixed-point fast path, several times cheaper than float at
    full resolution); 1/255 of rounding does not move a boundary.
    """
    u8 = cv2.convertScaleAbs(soft, alpha=255.0)
    if u8.shape != tuple(size):
        u8 = cv2.resize(u8, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
    return cv2.threshold(u8, 127, 255, cv2.THRESH_BINARY)[1]


# --------------------------------------------------------------------------------------------
# Classical back-end
# --------------------------------------------------------------------------------------------


def _poly_terms(x: np.ndarray, y: np.ndarray, order: int) -> np.ndarray:
    cols = [np.ones_like(x)]
    if order >= 1:
        cols += [x, y]
    if order >= 2:
        cols += [x * x, y * y, x * y]
    return np.stack(cols, axis=-1)


def _fit_background(lab: np.ndarray, band: int) -> tuple[list[np.ndarray], float, float]:
    """A smooth backdrop model from the image border.

    `lab` is the (h, w, 3) uint8 OpenCV Lab image. Returns the backdrop as three (h, w)
    float32 Lab planes (a quadratic surface per channel, so linear
    gradients and vignettes are followed), the robust noise level of the border around it,
    and the fraction of the border the fit kept (low when the garment fills the frame).
    The fit is robust: border pixels far from the current model (a garment or a shadow
    touching the edge) are dropped and the surface refitted.
    """
    h, w = lab.shape[:2]
    xs = np.arange(w, dtype=np.float64) / max(w - 1, 1) - 0.5
    ys = np.arange(h, dtype=np.float64) / max(h - 1, 1) - 0.5
    strips = [  # (pixels, x, y) of the four border bands
        (lab[:band], *np.meshgrid(xs, ys[:band])),
        (lab[-band:], *np.meshgrid(xs, ys[-band:])),
        (lab[band:-band, :band], *np.meshgrid(xs[:band], ys[band:-band])),
        (lab[band:-band, -band:], *np.meshgrid(xs[-band:], ys[band:-band])),
    ]
    px = np.concatenate([p.reshape(-1, 3) for p, _, _ in strips]).astype(np.float64)
    x = np.concatenate([gx.ravel() for _, gx, _ in strips])
    y = np.concatenate([gy.ravel() for _, _, gy in strips])
    step = max(1, len(px) // 3000)  # a few thousand samples are plenty
    px, x, y = px[::step], x[::step], y[::step]
    # Trimmed least squares: fit to the best-fitting 60 % (the backdrop is most of the
    # border), then to everything within a few noise levels of that fit.
    model = np.median(px, axis=0)[None, :]
    coef = model
    keep = np.ones(len(px), bool)
    for order, trim in ((1, 0.6), (2, 0.6), (2, None), (2, None)):
        res = np.linalg.norm(px - model, axis=1)
        if trim is not None:
            new_keep = res <= np.quantile(res, trim)
        else:
            scale = 1.4826 * float(np.median(res[keep])) + 1e-3
            new_keep = res < max(3.0 * scale, 5.0)
        if new_keep.sum() < 12:
            break
        keep = new_keep
        terms = _poly_terms(x[keep], y[keep], order)
        gram = terms.T @ terms + 1e-6 * np.eye(terms.shape[1])
        coef = np.linalg.solve(gram, terms.T @ px[keep])
        model = _poly_terms(x, y, order) @ coef
    res = np.linalg.norm(px - model, axis=1)
    noise = 1.4826 * float(np.median(res[keep]))
    # The surface is smooth: evaluate it on a coarse grid and interpolate (cheap).
    c = np.zeros((6, 3))
    c[: len(coef)] = coef
    gh, gw = min(h, 33), min(w, 33)
    X = np.linspace(-0.5, 0.5, gw)[None, :]
    Y = np.linspace(-0.5, 0.5, gh)[:, None]
    bg = []
    for ch in range(3):
        a0, ax, ay, axx, ayy, axy = c[:, ch]
        plane = (a0 + ax * X + axx * X * X) + (ay * Y + ayy * Y * Y) + axy * (Y * X)
        bg.append(cv2.resize(plane.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR))
    return bg, noise, float(keep.mean())


def _faint_edges(maps: dict) -> np.ndarray:
    """(h, w) uint8 Canny edges of the work image at a low threshold (a few noise levels):
    a white garment's faint outline. Made once per photo, kept in `maps`."""
    if "faint_edges" not in maps:
        e = max(4.0, 3.0 * maps["noise"])
        maps["faint_edges"] = cv2.Canny(maps["smooth"], e, 2.5 * e, L2gradient=True)
    return maps["faint_edges"]


def _outline_support(
    maps: dict, mask: np.ndarray, labels: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each of the `n` components of `labels`: how many pixels of `mask`'s outline it
    holds, and how many of those lie within 2 px of a faint edge (`_faint_edges`). A
    garment's own edge is a visible step however faint; a part whose share of the outline
    has no edge along it is backdrop that joined the mask."""
    near_edge = cv2.dilate(_faint_edges(maps), np.ones((5, 5), np.uint8)) > 0
    outline = (mask > 0) & (cv2.erode(mask, None) == 0)
    lab = labels[outline]
    total = np.bincount(lab, minlength=n).astype(np.float64)
    hits = np.bincount(lab, weights=near_edge[outline].astype(np.float64), minlength=n)
    return total, hits


@dataclass(frozen=True, eq=False)
class _FlatLayImage:
    """A photo prepared for flat-lay GrabCut, all at `ClassicalMasker.flat_side`.

    Prepared once per photo: the first opinion (`ClassicalMasker._flatlay`) and the second
    (`ClassicalMasker._flat_stability`) differ only in the centre prior and iterations.
    """

    img: np.ndarray  # (h, w, 3) uint8 RGB, resized and blurred
    lab: np.ndarray  # (h, w, 3) uint8 Lab of `img`
    bins: np.ndarray  # (h, w) int32 colour-histogram bin of each pixel (`_colour_bins`)
    border: np.ndarray  # (h, w) bool, the frame band taken as backdrop
    backdrop: np.ndarray  # (h, w) float32 frequency of each pixel's colour in `border`
    yy: np.ndarray  # (h, w) float32 row of each pixel
    xx: np.ndarray  # (h, w) float32 column of each pixel


class ClassicalMasker:
    """Classical masker for product photos; needs no weights.

    Steps, each for a failure seen in real catalogs:

    1. The backdrop is modelled from the image border as a smooth colour surface (white,
       off-white, grey or coloured, with gradients and vignetting), robust to a garment
       that touches the frame.
    2. Pixels far from the backdrop in Lab colour are garment; the threshold follows the
       border's own noise (JPEG, sensor noise, mottled paper).
    3. Soft shadows (darker, same chroma, smooth) are not garment unless enclosed by an
       edge; edges of the garment close its outline so a white garment on white, whose
       inside matches the backdrop, is still filled. On a clean light backdrop a faint
       threshold (`low_threshold`, a level or two) lets in a white garment that is nowhere
       clearly off the backdrop (~237 on ~246); what only it adds stays where a
       low-threshold edge bounds it (`_faint_with_outline`: not a canvas rectangle, a
       shadow beyond the outline, or backdrop enclosed between trouser legs). Before the
       watershed that settles the outline, undecided pockets at the backdrop's colour that
       open onto the backdrop are marked backdrop (`_backdrop_pockets`: light thrown back
       beside a white garment).
    4. GrabCut on a small copy, seeded from that mask, relabels whole regions the colour
       rules got wrong (shadow tongues, prints the backdrop colour at the border); skipped
       when there is nothing of that kind near the mask (it is most of the cost).
    5. Shadow-like slabs along the outline that no edge bounds and that run in from the
       frame go (`_shadow_without_outline`: a sweep's darker band beside a white garment).
       Holes are filled, the largest component kept, thin parts the morphology dropped
       (a cami's 2-5 px straps) put back (`_thin_parts`), and the boundary placed at full
       resolution where the colour is half-way between the backdrop and the garment.
       Edges in the frame band (a canvas pad) do not count against the confidence.

    Marketplace photos are often not studio shots: a garment laid flat on a bed, a wooden
    floor, tiles or a rug, or hung on a door. When the border does not fit a smooth
    backdrop (its noise is above `studio_noise`), or the studio mask above is doubtful,
    `_flatlay` segments with GrabCut seeded from the border's colours and a centre prior,
    keeps the largest component, and rates itself (`_flat_confidence`); on a smooth
    backdrop its answer replaces a doubtful studio mask only when clearly trusted
    (`FLAT_OVER_STUDIO`). Such masks carry the note ``flat-lay``.

    A PNG's own alpha wins when it has real transparency. Work happens at `work_side` px
    (GrabCut at `grabcut_side`, flat lays at `flat_side`), so the cost barely grows with
    the photo.
    """

    id = "classical-v5"

    def __init__(
        self,
        work_side: int = 384,
        grabcut_side: int = 160,
        grabcut_iters: int = 1,
        low_threshold: float = 1.0,
        high_threshold: float = 10.0,
        edge_threshold: float = 14.0,
        flat_side: int = 160,
        flat_iters: int = 5,
        studio_noise: float = 2.5,
    ) -> None:
        self.work_side = work_side
        self.grabcut_side = grabcut_side
        self.grabcut_iters = grabcut_iters
        self.low_threshold = low_threshold
        self.high_threshold = high_threshold
        self.edge_threshold = edge_threshold
        self.flat_side = flat_side
        self.flat_iters = flat_iters
        self.studio_noise = studio_noise

    def mask(self, rgb: np.ndarray, alpha: np.ndarray | None, item: str) -> np.ndarray:
        """(H, W, 3) uint8 RGB (+ (H, W) alpha) -> (H, W) uint8 {0, 255} garment mask."""
        return self.segment(rgb, alpha, item).mask

    def segment(self, rgb: np.ndarray, alpha: np.ndarray | None, item: str) -> MaskResult:
        """The mask with a confidence; see the class docstring for the steps.

        Parameters
        ----------
        rgb : (H, W, 3) uint8
            Product photo, RGB 0..255.
        alpha : (H, W) uint8 or None
            The file's own transparency, when it had some.
        item : str
            Names the photo in errors (``product tee-1``).

        Returns
        -------
        MaskResult with an (H, W) uint8 {0, 255} mask and a confidence in [0, 1]. Raises
        `InvalidInputError` when a smooth backdrop holds no garment (the image is all
        background) or nothing at all is found; on a textured backdrop a doubtful guess
        comes back with a low confidence instead.
        """
        _check_rgb(rgb, alpha)
        if _real_alpha(alpha):
            return _from_alpha(alpha, item)
        # GrabCut seeds its colour models from OpenCV's global random generator: without a
        # fixed seed the same photo could get a different mask depending on what ran before
        # (and the mask is part of the asset's digest).
        cv2.setRNGSeed(0)
        h, w = rgb.shape[:2]
        small = _resize_long(rgb, self.work_side)
        maps = self._maps(small)
        studio = None
        if maps["noise"] <= self.studio_noise:
            m0 = self._initial(maps)
            _check_area(m0, item)
            m1 = self._grabcut(small, m0, maps)
            m1 = self._shadow_without_outline(maps, largest_component(fill_holes(m1)))
            m1 = self._thin_parts(maps, m1)
            if _has_area(m1):
                conf, notes = self._confidence(maps, m1)
                studio = MaskResult(self._upsample(m1, maps["dist_raw"], (h, w)), conf, notes)
                if conf >= LOW_CONFIDENCE:
                    return studio
        # A textured backdrop (bedding, wood, a rug), or a studio mask in doubt.
        flat = self._segment_flat(rgb, small)
        # On a smooth backdrop the studio rules know more: the flat-lay answer replaces
        # theirs only when it is clearly trusted.
        if studio is not None and flat.confidence < max(studio.confidence, FLAT_OVER_STUDIO):
            return studio
        _check_area(flat.mask, item)
        return flat

    def _segment_flat(self, rgb: np.ndarray, small: np.ndarray) -> MaskResult:
        """`_flatlay`'s mask at full resolution, with its confidence.

        The small mask is brought to the work size by a guided filter (the boundary snaps
        to the photo's own edges), then to full size bilinearly.
        """
        m, cues = self._flatlay(self._flatlay_image(small))
        notes: tuple[str, ...] = ("flat-lay",)
        too_small = not _has_area(m)
        if too_small:  # GrabCut kept nothing: the colour prior's guess, not to be trusted
            k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
            guess = np.where(cues["post"] >= 0.5, 255, 0).astype(np.uint8)
            m = largest_component(fill_holes(cv2.morphologyEx(guess, cv2.MORPH_OPEN, k)))
            notes += ("no-clear-garment",)
        sh, sw = small.shape[:2]
        soft = cv2.resize(m, (sw, sh), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255
        guided = getattr(getattr(cv2, "ximgproc", None), "guidedFilter", None)
        if guided is not None:  # opencv-contrib; plain OpenCV upsamples bilinearly
            soft = guided(small, soft, max(2, round(2 * sw / m.shape[1])), 1e-3 * 255**2)
        mask = largest_component(_threshold_up(soft, rgb.shape[:2]))
        conf = 0.0
        if not too_small:
            f = self._flat_features(m, cues)
            conf = self._flat_confidence(f)
            if conf >= LOW_CONFIDENCE:  # worth the cost of a second opinion
                f["stable"] = self._flat_stability(m, cues)
                conf = self._flat_confidence(f)
        return MaskResult(mask, conf, notes)

    @staticmethod
    def _flat_confidence(f: dict) -> float:
        """Confidence in [0, 1] of a flat-lay mask from `_flat_features`.

        Bad flat-lay masks (measured on `synthetic_hard`'s flat-lay scenes, and looked at on
        real marketplace photos) run along the image border (they leaked into the
        backdrop), share their colours with what is left outside (garment and backdrop
        alike: GrabCut's split is a guess), have dropped much of what the colour prior
        called garment, follow no edge of the photo, or change when the centre prior is
        tightened (`_flat_stability`: a garment on a sheet on a bed). On 150 synthetic
        flat lays these weights flag every mask with IoU < 0.85 and 1 in 10 good ones.
        """
        c = 1.0
        c -= 0.7 * float(np.clip((f["overlap"] - 0.45) / 0.3, 0, 1))
        c -= 1.0 * float(np.clip((0.97 - f["stable"]) / 0.15, 0, 1))
        c -= 0.6 * float(np.clip((f["touch"] - 0.1) / 0.15, 0, 1))
        c -= 0.3 * float(np.clip((2.0 - f["edge"]) / 1.0, 0, 1))
        c -= 0.5 * float(np.clip((0.9 - f["kept"]) / 0.3, 0, 1))
        return float(np.clip(c, 0.0, 1.0))

    def _maps(self, small: np.ndarray) -> dict:
        """Per-pixel cues on the work-size image (all (h, w)): Lab distance from the backdrop
        model (raw and smoothed), shadow-likeness, the noise level and thresholds."""
        sh, sw = small.shape[:2]
        lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)
        band = max(2, min(sh, sw) // 64)
        bg, noise, border_kept = _fit_background(lab, band)
        L, a, b = (p.astype(np.float32) for p in cv2.split(lab))
        dL = cv2.subtract(L, bg[0])
        dL *= np.float32(0.7)  # 8-bit L is 2.55x the scale of a and b
        chroma = cv2.magnitude(cv2.subtract(a, bg[1]), cv2.subtract(b, bg[2]))
        dist_raw = cv2.magnitude(dL, chroma)
        dist = cv2.GaussianBlur(dist_raw, (3, 3), 0)
        # Shadow-like: a little darker than the backdrop, with (nearly) its chroma. Darker
        # than 0.8 of the backdrop's lightness is garment, not a soft shadow.
        shadow = (dL < 0) & (chroma < np.maximum(3.0, -0.25 * dL)) & (0.8 * bg[0] < L)
        shadow = cv2.GaussianBlur(shadow.astype(np.uint8) * 255, (3, 3), 0) > 127
        noise *= 0.7  # the fit's noise is in unweighted Lab; dist weights L by 0.7
        light = float(np.median(bg[0][::8, ::8])) >= LIGHT_BACKDROP_L
        return {
            "small": small,
            "smooth": cv2.GaussianBlur(small, (3, 3), 0),
            "dist_raw": dist_raw,
            "dist": dist,
            "shadow": shadow,
            "noise": noise,
            # The faint threshold is for white on white, a garment a few levels off a light
            # backdrop; on grey, pastel or dark ones it only lets soft shadows in.
            "lo": max(self.low_threshold if light else SURE_THRESHOLD, 3.0 * noise),
            "lo_sure": max(SURE_THRESHOLD, 3.0 * noise),
            "hi": max(self.high_threshold, 5.0 * noise),
            "border_kept": border_kept,
        }

    def _initial(self, maps: dict, dbg: dict | None = None) -> np.ndarray:
        """Colour and edge rules: the mask GrabCut starts from, at work size.

        1. A generous region: everything that differs from the backdrop by more than its
           noise and connects to something that differs clearly (garment and soft
           shadows), plus whatever closed edges enclose (a white garment on white has its
           inside at the backdrop's colour but a visible outline).
        2. Watershed from markers placed where there is no doubt (deep inside the region,
           or clearly unlike the backdrop and not shadow-like; and well outside it) on the
           image's colour gradient: the floods meet on the strongest edge between them,
           the garment's sharp outline, not the gentle ramp of a soft shadow around it.
        """
        dist, shadow, noise = maps["dist"], maps["shadow"], maps["noise"]
        lo, hi = maps["lo"], maps["hi"]
        sh, sw = dist.shape
        fg = self._seeded(dist, lo, hi)
        e_lo = max(self.edge_threshold, 8.0 * noise)
        edges = cv2.Canny(maps["smooth"], e_lo, 2.5 * e_lo, L2gradient=True)
        maps["edges"] = edges
        k = max(3, (min(sh, sw) // 100) | 1)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
        ke = max(5, (min(sh, sw) // 60) | 1)
        ekernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (ke, ke))
        ring = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, ekernel)
        region = fill_holes(cv2.morphologyEx(cv2.bitwise_or(fg, ring), cv2.MORPH_CLOSE, kernel))
        lo_sure = maps["lo_sure"]
        if lo_sure > lo:
            region = self._faint_with_outline(maps, region, ring, kernel)
        region = cv2.morphologyEx(region, cv2.MORPH_OPEN, ekernel)
        region = largest_component(region)
        maps["region"] = region
        if not region.any():
            return region
        # Markers: 1 = backdrop (outside the generous region), 2 = garment, 0 = undecided.
        dt = cv2.distanceTransform(region, cv2.DIST_L2, 3)
        deep = dt > min(0.06 * min(sh, sw), 0.5 * float(dt.max()))
        strong = ((maps["dist_raw"] > hi) & ~shadow).astype(np.uint8)
        close7 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
        # Join stripes and prints, but never across shadow-like pixels: closing would
        # otherwise plant garment markers in the shadow filling a concave corner (armpit).
        strong = cv2.morphologyEx(strong, cv2.MORPH_CLOSE, close7) & (~shadow | (strong > 0))
        markers = np.zeros((sh, sw), np.int32)
        markers[cv2.dilate(region, kernel) == 0] = 1
        markers[deep | ((strong > 0) & (dt > 1.5))] = 2
        markers[self._backdrop_pockets(maps, markers)] = 1
        if dbg is not None:
            dbg["region"] = region
            dbg["markers"] = (markers * 120).clip(0, 255).astype(np.uint8)
        cv2.watershed(maps["small"], markers)
        m0 = np.where(markers == 2, 255, 0).astype(np.uint8)
        m0 = cv2.morphologyEx(m0, cv2.MORPH_OPEN, kernel)
        return largest_component(fill_holes(m0))

    @staticmethod
    def _backdrop_pockets(maps: dict, markers: np.ndarray) -> np.ndarray:
        """(h, w) bool: undecided pixels at the backdrop's colour that open onto the
        backdrop, to be marked backdrop before the watershed.

        Beside a white garment on a light-grey sweep the backdrop is often a level or two
        off its model (light thrown back by the garment, a band the border did not show):
        just past the faint threshold, it joins the generous region. The watershed would
        then put the garment's edge wherever that pocket's gentle texture is steepest,
        often out in the backdrop, since a white garment's own outline there is faint too.
        A pocket at (nearly) the backdrop's colour, connected to the backdrop outside the
        region without crossing an edge, is backdrop: marked so (a pixel in from its edge,
        where its colour meets the garment's), the flood from the garment meets it on the
        outline. Such colours enclosed by the garment (a print the backdrop's colour) do
        not open onto the backdrop and stay undecided.
        """
        backdrop = (markers == 1) | ((markers == 0) & (maps["dist"] < 1.5 * maps["lo"]))
        # Never across an outline, however faint: a white garment's side at the backdrop's
        # colour behind a visible edge is garment.
        backdrop &= cv2.dilate(_faint_edges(maps), None) == 0
        backdrop = cv2.erode(backdrop.astype(np.uint8), None)
        pale = (backdrop > 0) & (markers == 0)
        n, comp = cv2.connectedComponents(backdrop, connectivity=8)
        if n <= 1:
            return pale
        outside = np.zeros(n, bool)
        outside[np.unique(comp[markers == 1])] = True
        outside[0] = False
        return pale & outside[comp]

    def _faint_with_outline(
        self, maps: dict, region: np.ndarray, ring: np.ndarray, kernel: np.ndarray
    ) -> np.ndarray:
        """`region` (found at the faint threshold) less what only the faint threshold
        found and no outline bounds.

        A white garment on a white backdrop differs from it by one or two levels, as little
        as a pasted canvas rectangle (255 around 253) or a faint floor line between trouser
        hems does. What tells them apart is the outline: a garment's edge is a visible
        step, however faint (its own shading, the seam), where a canvas or a pocket of
        backdrop enclosed by a faint bridge has none. So each part that only the faint
        threshold added stays only where low-threshold Canny edges run along most of its
        outer boundary. (H, W) uint8 {0, 255} masks in and out.
        """
        dist, hi = maps["dist"], maps["hi"]
        fg_sure = self._seeded(dist, maps["lo_sure"], hi)
        sure = cv2.morphologyEx(cv2.bitwise_or(fg_sure, ring), cv2.MORPH_CLOSE, kernel)
        extra = cv2.bitwise_and(region, cv2.bitwise_not(fill_holes(sure)))
        if not extra.any():
            return region
        # A part mostly at the backdrop's colour is backdrop enclosed by a faint bridge (the
        # gap between trouser legs closed by a floor line), outline or not.
        flat = _components_where(extra, dist <= maps["lo"], 0.5)
        region = cv2.bitwise_and(region, cv2.bitwise_not(flat))
        extra = cv2.bitwise_and(extra, cv2.bitwise_not(flat))
        # Split the rest along those edges: a soft shadow beyond a white garment's faint
        # outline is then a part of its own, whose outer boundary has no edge.
        extra = cv2.bitwise_and(extra, cv2.bitwise_not(cv2.dilate(_faint_edges(maps), None)))
        n, labels = cv2.connectedComponents(extra, connectivity=8)
        if n <= 1:
            return region
        total, hits = _outline_support(maps, region, labels, n)
        # A part inside the others (between folds or a print's edges) has no outer boundary
        # to judge: it goes with them.
        drop = (total > 0) & (hits < 0.5 * total)
        drop[0] = False
        return np.where(drop[labels], 0, region).astype(np.uint8)

    @staticmethod
    def _shadow_without_outline(maps: dict, m: np.ndarray) -> np.ndarray:
        """`m` less the shadow-like parts on its outline that no edge bounds.

        A light-grey sweep is lit in bands: where the backdrop is a few levels darker than
        its smooth model (a band low down, the floor's curve), it is shadow-like (darker,
        the backdrop's chroma) and, beside a white garment whose own fabric differs from
        the backdrop by as little, it joins the mask as a slab attached to the garment's
        side. A white garment's own shaded side is shadow-like too, but it ends in its
        outline, a visible step however faint; the slab ends where the backdrop merely
        returns to its model, and it runs in from the frame. So each shadow-like part of
        the mask, split from the rest along faint edges, goes when it lies along the mask's
        outline, edges run along less than half of its share of it (as
        `_faint_with_outline` judges what only the faint threshold added) and it reaches
        the frame; never more than a small share of the garment. (h, w) uint8 {0, 255} in
        and out.
        """
        part = (m > 0) & maps["shadow"]
        if not part.any():
            return m
        part &= cv2.dilate(_faint_edges(maps), None) == 0
        part = cv2.morphologyEx(part.astype(np.uint8), cv2.MORPH_OPEN, None)
        n, labels = cv2.connectedComponents(part, connectivity=8)
        if n <= 1:
            return m
        total, hits = _outline_support(maps, m, labels, n)
        area = np.bincount(labels.ravel(), minlength=n)
        # Specks along a faint outline are the outline's own shading; a part as large as a
        # good share of the garment is the garment itself (a grey one on grey, all of it
        # shadow-like), which this rule cannot judge.
        size = np.count_nonzero(m)
        drop = (area >= 0.002 * size) & (area <= 0.15 * size) & (hits < 0.5 * total)
        # A slab lies along the outline (an outer boundary at least as long as its breadth);
        # a part that meets the outline only at a few pixels is inside the garment, whose
        # own outline is elsewhere. And it runs in from the frame, as the backdrop's light
        # does (a white garment's shaded sleeve on white does not); one that runs along the
        # frame for longer than along the outline is a garment cut by the frame.
        framed = np.bincount(labels[_border(*m.shape, max(2, min(m.shape) // 50))], minlength=n)
        drop &= (total >= np.sqrt(area)) & (framed > 0) & (framed <= total)
        drop[0] = False
        if not drop.any():
            return m
        return largest_component(fill_holes(np.where(drop[labels], 0, m).astype(np.uint8)))

    @staticmethod
    def _thin_parts(maps: dict, m: np.ndarray) -> np.ndarray:
        """`m` with the thin garment parts the morphology dropped put back (straps, ties).

        A cami's straps are 2-5 px wide in the photo, 1-2 px at work size: every opening
        that removes JPEG specks and shadow tongues removes them too. A strap is told from
        what should stay out by its shape: a thin (at most ~2 px half-width at work size)
        run of pixels unlike the backdrop that touches the garment and reaches well away
        from it. A shadow's rim hugs the outline (it does not reach away), a speck is short,
        a second object does not touch. (h, w) uint8 {0, 255} in and out.
        """
        sh, sw = m.shape
        cand = np.where((maps["dist"] > maps["lo"]) & (m == 0), 255, 0).astype(np.uint8)
        away = cv2.distanceTransform(cv2.bitwise_not(m), cv2.DIST_L2, 3)
        # Where a strap joins the body it widens into a blob the cut above took away, and
        # the garment's darkened edge or a shadow's rim may run into it: only the part of
        # a candidate beyond `gap` from the garment has to look like a strap. It must
        # start at `gap` (run on towards the body) and reach well beyond it.
        gap = max(6.0, 0.05 * min(sh, sw))
        far = away > gap
        n, labels = cv2.connectedComponents(np.where(far, cand, 0).astype(np.uint8), 8)
        if n <= 1:
            return m
        # Half-width of the widest spot: a strap is a few pixels, a shadow or a second
        # object many.
        width = np.zeros(n, np.float32)
        np.maximum.at(width, labels.ravel(), cv2.distanceTransform(cand, cv2.DIST_L2, 3).ravel())
        flat_labels, flat_away = labels.ravel(), away.ravel()
        reach = np.zeros(n, np.float32)
        np.maximum.at(reach, flat_labels, flat_away)
        start = np.full(n, np.inf, np.float32)
        np.minimum.at(start, flat_labels, flat_away)
        size = np.bincount(flat_labels, minlength=n)
        min_reach = max(6.0, 0.04 * min(sh, sw))
        # Line-like: at most ~6 px wide times how far it reaches.
        # Line-like: thin, and its area no more than its width times its length.
        length = reach - start
        line = (width <= max(4.0, 0.03 * min(sh, sw))) & (size <= (2 * width + 2) * length + 8)
        line[0] = False
        keep = line & (start <= gap + 1.5) & (reach >= gap + min_reach) & (length >= 6 * width)
        if not keep.any():
            return m
        parts = np.where(keep[labels], 255, 0).astype(np.uint8)
        # A faint strap breaks up: pieces that continue a kept one are strap too.
        for _ in range(2):
            d = cv2.distanceTransform(cv2.bitwise_not(parts), cv2.DIST_L2, 3).ravel()
            gone = np.full(n, np.inf, np.float32)
            np.minimum.at(gone, flat_labels, d)
            more = line & ~keep & (gone <= 4.0)
            if not more.any():
                break
            keep |= more
            parts = np.where(keep[labels], 255, 0).astype(np.uint8)
        # ... joined to the body by candidate pixels (the strap's root) that touch it.
        nc, full = cv2.connectedComponents(cand, connectivity=8)
        touches = np.zeros(nc, bool)
        touches[np.unique(full[(away <= 1.5) & (cand > 0)])] = True
        host = np.zeros(nc, bool)
        host[np.unique(full[parts > 0])] = True
        host &= touches
        host[0] = False
        parts[~host[full]] = 0
        k = 2 * round(gap) + 3
        root = cv2.dilate(parts, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
        add = (parts > 0) | (host[full] & ~far & root)
        return largest_component(np.where(add, 255, m).astype(np.uint8))

    @staticmethod
    def _seeded(dist: np.ndarray, lo: float, hi: float) -> np.ndarray:
        """(h, w) uint8 {0, 255}: pixels farther than `lo` from the backdrop, in 8-connected
        components that hold a pixel farther than `hi` (hysteresis on the colour distance),
        or that are large and, on average, well clear of `lo`: a plain white garment on a
        clean white backdrop is nowhere `hi` away, but it is a few levels off everywhere."""
        weak = (dist > lo).astype(np.uint8) * 255
        n, labels, stats, _ = cv2.connectedComponentsWithStats(weak, connectivity=8)
        has_seed = np.zeros(n, bool)
        has_seed[np.unique(labels[dist > hi])] = True
        area = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
        mean = np.bincount(labels.ravel(), weights=dist.ravel(), minlength=n) / np.maximum(area, 1)
        has_seed |= (area >= 0.02 * dist.size) & (mean > max(2.0, 2.5 * lo))
        has_seed[0] = False
        return np.where(has_seed[labels], 255, 0).astype(np.uint8)

    @staticmethod
    def _grabcut_could_help(m0: np.ndarray, maps: dict) -> bool:
        """Whether GrabCut has anything to change (it is most of the classical cost).

        It may only remove shadow-like regions from `m0` and add clearly garment-coloured
        ones next to it: with (almost) no shadow-like pixels inside and no such pixels
        just outside, its answer is `m0`.
        """
        inside = m0 > 0
        area = max(float(np.count_nonzero(inside)), 1.0)
        k = max(3, (min(m0.shape) // 12) | 1)
        near = cv2.dilate(m0, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
        shadow_in = float(np.count_nonzero(maps["shadow"] & inside)) / area
        strong_out = float(np.count_nonzero((maps["dist"] > maps["hi"]) & near & ~inside)) / area
        return shadow_in > 0.005 or strong_out > 0.06

    def _grabcut(self, small: np.ndarray, m0: np.ndarray, maps: dict) -> np.ndarray:
        """Refine `m0` with GrabCut on a `grabcut_side` copy; changes only whole regions."""
        sh, sw = m0.shape
        if self.grabcut_iters <= 0 or not self._grabcut_could_help(m0, maps):
            return m0
        # Work on the garment's bounding box with a margin: the backdrop far away adds
        # nothing but cost.
        ys, xs = np.nonzero(m0)
        my, mx = max(4, (ys.max() - ys.min()) // 8), max(4, (xs.max() - xs.min()) // 8)
        y0, y1 = max(0, ys.min() - my), min(sh, ys.max() + my + 1)
        x0, x1 = max(0, xs.min() - mx), min(sw, xs.max() + mx + 1)
        roi, roi_m0 = small[y0:y1, x0:x1], m0[y0:y1, x0:x1]
        rh, rw = roi_m0.shape
        tiny = _resize_long(roi, self.grabcut_side)
        th, tw = tiny.shape[:2]
        if min(th, tw) < 8:
            return m0
        t0 = cv2.resize(roi_m0, (tw, th), interpolation=cv2.INTER_AREA)
        k = max(3, (min(th, tw) // 24) | 1)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
        inner = cv2.erode(np.where(t0 >= 128, 255, 0).astype(np.uint8), kernel)
        outer = cv2.dilate(np.where(t0 > 0, 255, 0).astype(np.uint8), kernel)
        gc = np.full((th, tw), cv2.GC_PR_BGD, np.uint8)
        gc[t0 >= 128] = cv2.GC_PR_FGD
        gc[inner > 0] = cv2.GC_FGD
        gc[outer == 0] = cv2.GC_BGD
        if not (gc == cv2.GC_BGD).any() or not (gc == cv2.GC_FGD).any():
            return m0
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        try:
            cv2.grabCut(tiny, gc, None, bgd, fgd, self.grabcut_iters, cv2.GC_INIT_WITH_MASK)
        except cv2.error:  # degenerate colour models (a flat image): keep the colour mask
            return m0
        g = np.where((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
        g_roi = cv2.resize(g, (rw, rh), interpolation=cv2.INTER_LINEAR)
        g_up = m0.copy()
        g_up[y0:y1, x0:x1] = np.where(g_roi >= 128, 255, 0).astype(np.uint8)
        # Keep the fine boundary of m0; take GrabCut's word only for whole regions, and only
        # where it agrees with the cues: a region it removes must look like a soft shadow,
        # a region it adds must be clearly unlike the backdrop.
        kk = max(3, (rw // tw) | 1)
        k2 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kk, kk))
        added = cv2.morphologyEx(cv2.bitwise_and(g_up, cv2.bitwise_not(m0)), cv2.MORPH_OPEN, k2)
        removed = cv2.morphologyEx(cv2.bitwise_and(m0, cv2.bitwise_not(g_up)), cv2.MORPH_OPEN, k2)
        added = _components_where(added, maps["dist"] > maps["hi"], 0.5)
        removed = _components_where(removed, maps["shadow"], 0.6)
        return cv2.bitwise_and(cv2.bitwise_or(m0, added), cv2.bitwise_not(removed))

    def _upsample(self, m: np.ndarray, dist: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """Full-resolution mask: inside a thin band around the boundary, a pixel is garment
        where its colour is at least half-way from the backdrop to the nearby garment."""
        h, w = size
        sh, sw = m.shape
        mf = (m > 0).astype(np.float32)
        r = max(3, min(sh, sw) // 40) | 1
        num = cv2.boxFilter(dist * mf, -1, (r, r), normalize=False)
        den = cv2.boxFilter(mf, -1, (r, r), normalize=False)
        local_fg = num / np.maximum(den, 1e-3)
        score = dist - 0.5 * local_fg
        band = cv2.dilate(m, None) - cv2.erode(m, None)
        soft = np.where(band > 0, np.clip(0.5 + score / np.maximum(local_fg, 4.0), 0, 1), mf)
        return _threshold_up(soft, (h, w))

    @staticmethod
    def _features(maps: dict, m: np.ndarray) -> dict:
        """Cues that go with bad masks (see `_confidence`), at work size."""
        sh, sw = m.shape
        r = max(3, min(sh, sw) // 30)
        near = cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
        # Edges in the frame band itself (a canvas pad, a seam line along the bottom of a
        # catalog photo) say nothing about a lost garment part: one cut by the frame also
        # has edges inside the picture.
        outside = (near == 0) & ~_border(sh, sw, max(4, min(sh, sw) // 32))
        area = max(float(np.count_nonzero(m)), 1.0)
        perim = max(float(np.count_nonzero(cv2.dilate(m, None) - m)), 1.0)
        edge = np.concatenate([m[0], m[-1], m[:, 0], m[:, -1]]) > 0
        ring = (cv2.dilate(m, None) - cv2.erode(m, None)) > 0
        return {
            "stray_edges": float(np.count_nonzero(maps["edges"][outside])) / perim,
            "stray_fg": float(np.count_nonzero(maps["dist"][outside] > maps["hi"])) / area,
            "stray_weak": float(np.count_nonzero(maps["dist"][outside] > maps["lo"])) / area,
            "region_ratio": float(np.count_nonzero(maps["region"])) / area,
            "touch": float(edge.mean()),
            "contrast": float(np.median(maps["dist"][ring])) / max(maps["noise"], 0.5),
            "border_kept": maps["border_kept"],
            "frac": area / m.size,
        }

    def _confidence(self, maps: dict, m: np.ndarray) -> tuple[float, tuple[str, ...]]:
        """Confidence in [0, 1] of the work-size mask `m`, and notes.

        Measured on the benchmark, bad masks leave evidence outside themselves: strong edges
        and backdrop-unlike pixels away from the mask (a garment part that was lost, or a
        second object), and a weak outline (white on white). Each is turned into a penalty;
        the weights flag 6 of the 7 masks with IoU < 0.85 in 480 benchmark photos while
        flagging 3 of the good ones.
        """
        f = self._features(maps, m)
        stray_edges = min(1.0, f["stray_edges"] / 0.2)
        stray_weak = min(1.0, f["stray_weak"] / 0.15)
        weak_outline = float(np.clip((4.0 - f["contrast"]) / 4.0, 0.0, 1.0))
        # A mask along much of the frame is the backdrop itself (tiles, a sheet): a garment
        # cut by the frame covers a part of one or two sides.
        frame = float(np.clip((f["touch"] - 0.3) / 0.2, 0.0, 1.0))
        frame += float(np.clip((f["frac"] - 0.75) / 0.1, 0.0, 1.0))
        conf = 1.0 - 0.6 * stray_edges - 0.3 * stray_weak - 0.3 * weak_outline - frame
        notes = []
        if f["touch"] > 0.02:
            notes.append("touches-border")
        if f["frac"] < 0.02:
            notes.append("small-garment")
        return float(np.clip(conf, 0.0, 1.0)), tuple(notes)

    # ---------------------------------------------------------------------------------------
    # Flat lays: garments on beds, floors, rugs and hangers
    # ---------------------------------------------------------------------------------------

    def _flatlay_image(self, rgb: np.ndarray) -> _FlatLayImage:
        """The `flat_side` copy of an (H, W, 3) uint8 RGB photo and its colour cues."""
        img = cv2.GaussianBlur(_resize_long(rgb, self.flat_side), (3, 3), 0)
        h, w = img.shape[:2]
        lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)
        bins = _colour_bins(lab)
        border = _border(h, w, max(2, round(0.04 * min(h, w))))
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        backdrop = _colour_hist(bins[border])[bins]
        return _FlatLayImage(img, lab, bins, border, backdrop, yy, xx)

    def _flatlay(
        self, flat: _FlatLayImage, spread: float = 0.28, iters: int | None = None
    ) -> tuple[np.ndarray, dict]:
        """GrabCut seeded from the border and a centre prior, for textured backdrops.

        The backdrop's colours are learnt from the image border (bedding stripes, wood,
        tiles: whatever colours it has), the garment's from a centre-weighted histogram;
        their ratio labels each pixel probably-garment or probably-backdrop, the border's
        backdrop-coloured pixels are certainly backdrop and the centre's garment-coloured
        ones certainly garment, and GrabCut's colour models and smoothness settle the rest.
        `spread` is the centre prior's width (a fraction of the image's). Returns the
        (h, w) uint8 {0, 255} mask on `flat`'s image and the cues `_flat_features` reads.
        """
        img, bins, border, yy, xx = flat.img, flat.bins, flat.border, flat.yy, flat.xx
        h, w = img.shape[:2]
        prior = np.exp(
            -0.5 * (((xx - w / 2) / (spread * w)) ** 2 + ((yy - h / 2) / (spread * h)) ** 2)
        )
        pb = flat.backdrop
        pf = _colour_hist(bins, prior)[bins]
        post = pf / (pf + pb + 1e-9)
        gc = np.where(post >= 0.5, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
        gc[border & (post < 0.5)] = cv2.GC_BGD
        gc[(prior > 0.85) & (post >= 0.7)] = cv2.GC_FGD
        # Colours found (almost) only in the centre or only on the border are settled:
        # GrabCut's colour models then cannot drift onto a backdrop plank or stripe.
        gc[post >= 0.95] = cv2.GC_FGD
        gc[post <= 0.05] = cv2.GC_BGD
        if np.count_nonzero(gc & 1) < 0.01 * h * w:  # no garment colour: a centred box
            gc[(prior > 0.5) & (gc != cv2.GC_BGD)] = cv2.GC_PR_FGD
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        # One colour model without samples raises: the colour labels then stand.
        with contextlib.suppress(cv2.error):
            cv2.grabCut(img, gc, None, bgd, fgd, iters or self.flat_iters, cv2.GC_INIT_WITH_MASK)
        m = np.where(gc & 1, 255, 0).astype(np.uint8)
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
        m = largest_component(fill_holes(cv2.morphologyEx(m, cv2.MORPH_OPEN, k)))
        return m, {"flat": flat, "post": post, "raw": np.where(gc & 1, 255, 0)}

    def _flat_features(self, m: np.ndarray, cues: dict) -> dict:
        """Cues of a bad flat-lay mask, measured on the `flat_side` image."""
        h, w = m.shape
        inside = m > 0
        area = max(float(np.count_nonzero(inside)), 1.0)
        lab, bins = cues["flat"].lab, cues["flat"].bins
        hf = _colour_hist(bins[inside]) if inside.any() else np.zeros(4096, np.float32)
        hb = _colour_hist(bins[~inside]) if (~inside).any() else np.zeros(4096, np.float32)
        overlap = float(np.sum(np.sqrt(hf * hb)))  # Bhattacharyya coefficient
        L = lab[..., 0].astype(np.float32)
        grad = cv2.magnitude(cv2.Sobel(L, cv2.CV_32F, 1, 0), cv2.Sobel(L, cv2.CV_32F, 0, 1))
        for ch in (1, 2):
            c = lab[..., ch].astype(np.float32) * 2.0
            grad = np.maximum(
                grad, cv2.magnitude(cv2.Sobel(c, cv2.CV_32F, 1, 0), cv2.Sobel(c, cv2.CV_32F, 0, 1))
            )
        ring = (cv2.dilate(m, None) - cv2.erode(m, None)) > 0
        edge = float(np.mean(grad[ring])) / max(float(np.mean(grad)), 1e-3) if ring.any() else 0.0
        # Along the frame, just inside the border band GrabCut was told is backdrop.
        b = max(2, round(0.04 * min(h, w))) + 1
        edge_px = np.concatenate([m[b, b:-b], m[-b - 1, b:-b], m[b:-b, b], m[b:-b, -b - 1]]) > 0
        contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        hull = cv2.contourArea(cv2.convexHull(np.concatenate(contours))) if contours else 1.0
        raw = cues["raw"] > 0
        kept = float(np.count_nonzero(raw & inside)) / max(float(np.count_nonzero(raw)), 1.0)
        return {
            "frac": area / m.size,
            "touch": float(edge_px.mean()),
            "overlap": overlap,
            "edge": edge,
            "solidity": area / max(hull, 1.0),
            "kept": kept,
            "stable": 1.0,  # see `_flat_stability`
        }

    def _flat_stability(self, m: np.ndarray, cues: dict) -> float:
        """IoU of `m` with the same segmentation under a tighter centre prior.

        A garment on a sheet on a bed, a light plank beside a light skirt: which layer is
        "the object" depends on the prior, and two answers that disagree mean neither is to
        be trusted.
        """
        # Cheaper than the first opinion: fewer iterations, on the image and colour cues
        # the first opinion already prepared.
        m2, _ = self._flatlay(cues["flat"], spread=0.16, iters=3)  # m's shape: same image
        a, b = m2 >= 128, m > 0
        return float(np.count_nonzero(a & b)) / max(float(np.count_nonzero(a | b)), 1.0)


def _colour_bins(lab: np.ndarray) -> np.ndarray:
    """(h, w) int index of each pixel's colour in a 16 x 16 x 16 Lab histogram."""
    q = lab >> 4
    return (q[..., 0].astype(np.int32) << 8) | (q[..., 1].astype(np.int32) << 4) | q[..., 2]


def _colour_hist(bins: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Normalised, smoothed (4096,) colour histogram of `bins` (optionally weighted).

    Smoothed over neighbouring bins so that a colour's lighter or darker shade (a fold, a
    JPEG block) still counts as that colour.
    """
    h = np.bincount(
        bins.ravel(), weights=None if weights is None else weights.ravel(), minlength=4096
    ).reshape(16, 16, 16)
    h = h.astype(np.float32)
    for ax in range(3):
        h = h + 0.5 * (np.roll(h, 1, ax) + np.roll(h, -1, ax))
    return (h / max(float(h.sum()), 1e-9)).ravel()


def _border(h: int, w: int, band: int) -> np.ndarray:
    out = np.zeros((h, w), bool)
    out[:band] = out[-band:] = True
    out[:, :band] = out[:, -band:] = True
    return out


class WhiteBackgroundMasker(ClassicalMasker):
    """Deprecated alias of `ClassicalMasker` (the first classical masker's name)."""


# --------------------------------------------------------------------------------------------
# rembg back-end
# --------------------------------------------------------------------------------------------

#: rembg session classes that run on a local model file (remote/SAM/multi-file ones are not).
REMBG_ARCHITECTURES = (
    "u2net",
    "u2netp",
    "u2net_human_seg",
    "u2net_cloth_seg",
    "u2net_custom",
    "silueta",
    "isnet-general-use",
    "isnet-anime",
    "dis_custom",
    "birefnet-general",
    "birefnet-general-lite",
    "birefnet-portrait",
    "birefnet-dis",
    "birefnet-hrsod",
    "birefnet-cod",
    "birefnet-massive",
    "bria-rmbg",
    "ben_custom",
)


def _rembg_session_class(architecture: str) -> type:
    """rembg's session class for `architecture`, imported without its side effects.

    `import rembg` prints and calls ``sys.exit(1)`` when onnxruntime is missing, so both
    packages are looked for first and a `SystemExit` from the import is turned into our
    error.
    """
    for pkg, extra in (("onnxruntime", " (pip install onnxruntime)"), ("rembg", "")):
        if importlib.util.find_spec(pkg) is None:
            raise MaskerConfigError(
                f"masker rembg needs the Python package {pkg!r}, which is not installed{extra}"
            )
    try:
        from rembg.sessions import sessions
    except (ImportError, SystemExit) as exc:
        raise MaskerConfigError(f"masker rembg: cannot import rembg: {exc!r}") from None
    try:
        return sessions[architecture]
    except KeyError:
        raise MaskerConfigError(
            f"masker rembg: unknown architecture {architecture!r}; "
            f"known: {', '.join(REMBG_ARCHITECTURES)}"
        ) from None


class RembgMasker:
    """A rembg network on a model file the user provides; never downloads anything.

    rembg itself only reads models from under ``$REMBG_HOME``/``$U2NET_HOME`` and fetches a
    missing one from the internet. Here the file is checked (exists, readable) before any
    rembg code runs, and rembg's session class is subclassed so that its model lookup
    returns exactly that file: no environment variable is read or changed, no download can
    start, and a missing file or package is one `MaskerConfigError` that names it.

    Parameters
    ----------
    model_path : str
        Local path of the ONNX model file.
    architecture : str
        rembg session name that knows the model's input size and normalisation
        (`REMBG_ARCHITECTURES`); ``u2net_cloth_seg`` masks are the union of its classes.
    threshold : int
        Soft mask values (0..255) at or above this are garment.
    """

    def __init__(self, model_path: str, architecture: str = "u2net", threshold: int = 128):
        path = os.path.abspath(os.path.expanduser(model_path))
        if not os.path.isfile(path):
            raise MaskerConfigError(
                f"masker rembg: model file {path} does not exist; download the "
                f"{architecture} ONNX model yourself and point the masker at it "
                "(nothing is downloaded at run time)"
            )
        if not os.access(path, os.R_OK):
            raise MaskerConfigError(f"masker rembg: model file {path} is not readable")
        session_cls = _rembg_session_class(architecture)
        self.model_path = path
        self.architecture = architecture
        self.threshold = threshold
        self.model_sha256 = file_sha256(path)
        self.id = f"rembg-{architecture}-{self.model_sha256[:12]}"

        class _LocalFile(session_cls):  # type: ignore[misc, valid-type]
            @classmethod
            def download_models(cls, *args, **kwargs):
                return path

        self._session_cls = _LocalFile
        self._session = None
        self._lock = threading.Lock()

    def _get_session(self):
        """The onnxruntime session, made on first use (cheap to pickle the masker before)."""
        with self._lock:
            if self._session is None:
                import onnxruntime as ort

                opts = ort.SessionOptions()
                try:
                    self._session = self._session_cls(
                        self.architecture, opts, model_path=self.model_path,
                        providers=["CPUExecutionProvider"],
                    )  # fmt: skip
                except Exception as exc:
                    raise MaskerConfigError(
                        f"masker rembg: cannot load {self.model_path} as a "
                        f"{self.architecture} model: {type(exc).__name__}: {exc}"
                    ) from exc
            return self._session

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_session"] = None
        state["_lock"] = None
        state["_session_cls"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["model_path"], state["architecture"], state["threshold"])

    def mask(self, rgb: np.ndarray, alpha: np.ndarray | None, item: str) -> np.ndarray:
        """(H, W, 3) uint8 RGB (+ (H, W) alpha) -> (H, W) uint8 {0, 255} garment mask."""
        return self.segment(rgb, alpha, item).mask

    def segment(self, rgb: np.ndarray, alpha: np.ndarray | None, item: str) -> MaskResult:
        """The network's mask, thresholded and cleaned; confidence from its certainty."""
        from PIL import Image

        _check_rgb(rgb, alpha)
        if _real_alpha(alpha):
            return _from_alpha(alpha, item)
        session = self._get_session()
        outs = session.predict(Image.fromarray(rgb))
        soft = np.max(np.stack([np.asarray(o.convert("L")) for o in outs]), axis=0)
        if soft.shape != rgb.shape[:2]:
            soft = cv2.resize(soft, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
        mask = np.where(soft >= self.threshold, 255, 0).astype(np.uint8)
        mask = largest_component(fill_holes(mask))
        _check_area(mask, item)
        # Certainty: how much of the image the network left undecided (mid-grey).
        undecided = float(np.mean((soft > 64) & (soft < 192)))
        frac = float(np.count_nonzero(mask)) / mask.size
        conf = float(np.clip(1.0 - undecided / max(frac, 1e-3), 0.0, 1.0))
        return MaskResult(mask, conf, ())


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------

MASKERS = {"classical": ClassicalMasker, "rembg": RembgMasker}


def make_masker(name: str) -> Masker:
    """The masker configured by the spec string `name` (a run setting).

    Spec syntax:

    * ``classical``: `ClassicalMasker`, no weights. ``id`` ``classical-v5``.
    * ``rembg:<path/to/model.onnx>``: `RembgMasker` on that local file; the architecture is
      the file's stem when it names one (``u2net_cloth_seg.onnx``, ``isnet-general-use.onnx``,
      ``birefnet-general.onnx``...), else ``u2net``.
    * ``rembg:<architecture>:<path/to/model.onnx>``: the architecture given explicitly (one of
      `REMBG_ARCHITECTURES`), for files named otherwise.

    A rembg masker's ``id`` is ``rembg-<architecture>-<first 12 hex digits of the model
    file's sha256>``, so a different model file is a different masker. The file may be
    anywhere (not only under ``$REMBG_HOME``); nothing is downloaded. Raises
    `MaskerConfigError` (a ValueError) naming what is wrong: an unknown spec or
    architecture, a missing model file, a missing onnxruntime or rembg package.
    """
    spec = name.strip()
    if spec == "classical":
        return ClassicalMasker()
    if spec == "rembg" or spec.startswith("rembg:"):
        rest = spec[len("rembg:") :]
        if not rest:
            raise MaskerConfigError(
                "masker rembg needs a model file: rembg:<path/to/model.onnx> or "
                "rembg:<architecture>:<path/to/model.onnx>"
            )
        arch, sep, path = rest.partition(":")
        # "C:\\models\\u2net.onnx" is a path with a drive letter, not an architecture.
        if sep and len(arch) > 1 and re.fullmatch(r"[A-Za-z0-9_-]+", arch):
            if arch not in REMBG_ARCHITECTURES:
                raise MaskerConfigError(
                    f"masker rembg: unknown architecture {arch!r}; "
                    f"known: {', '.join(REMBG_ARCHITECTURES)}"
                )
            return RembgMasker(path, arch)
        stem = os.path.splitext(os.path.basename(rest))[0]
        return RembgMasker(rest, stem if stem in REMBG_ARCHITECTURES else "u2net")
    raise MaskerConfigError(
        f"unknown masker {name!r}; available: classical, rembg:<model.onnx>, "
        "rembg:<architecture>:<model.onnx>"
    )
