"""Shading for weight-free try-on: the person's light on the new garment, contact shadows,
hole filling and soft edges.

A garment pasted flat onto a photo looks like a sticker: it lacks the light falling across
the body (brighter chest, darker sides and underarms) and the folds the old clothes showed.
Both are in the photo already, in the luminance of the clothes being replaced: divided by
its typical value it becomes a gain map that can multiply any garment. Two bands are kept:

- low frequency (a blur about a tenth of the shoulder width): the light across the body;
- the wrinkle band (between a hundredth and a tenth of the shoulder width): folds.

The old clothes' own print must not come across as shading (a logo would ghost onto the
new shirt). Prints differ from shading in two ways used here: they change colour, not only
brightness (pixels whose chroma is far from the clothes' dominant chroma get no weight,
and the gap is filled from around them), and they are strokes with sharp edges (a median
filter removes thin ones before the wrinkle band is taken; wider ones, black letters on a
white tee, step off the local light by more than any fold's shadow and are set aside with
their rims, `PRINT_STEP`). The gain is normalised so that its median
over the region is 1 and the garment's colour stays true where the light is typical.

Arrays: images (H, W, 3) uint8 RGB or float32 0..255; masks (H, W) bool, or float32 0..1
("alpha"); gains (H, W) float32 around 1.
"""

from __future__ import annotations

import cv2
import numpy as np

from vton.geometry.capsules import disc

__all__ = [
    "luminance",
    "push_pull_fill",
    "normalised_blur",
    "shading_gain",
    "apply_gain",
    "soft_shadow",
    "feather",
    "gaussian",
    "REDUCE_ABOVE",
]

#: The fold band fades in over about this much (shoulder widths, Gaussian sigma) from
#: the edge of the old clothes it is read on.
BAND_EDGE = 0.03
#: Rec. 601 luma weights.
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
#: Shoulder widths (px) the gain is computed at: light and folds need no more.
_WORK_SHOULDER = 96.0
#: Log-gain limits: a gain outside [0.55, 1.4] is a print or a specular highlight.
#: Spread (std, log luminance) of the fold band a plain fabric shows; more is a pattern.
_PLAIN_BAND_STD = 0.07
_LOG_MIN, _LOG_MAX = float(np.log(0.55)), float(np.log(1.4))
#: Log-luminance step off the local light beyond which the old top shows print, not light
#: (a fold's shadow is a gentler, smaller dip; the fold band is clipped at 0.2 anyway).
PRINT_STEP = 0.25
#: ... and of at least this many 8-bit levels.
PRINT_MIN_LEVELS = 12.0
#: A print's strokes are set aside with this rim (shoulder widths): their anti-aliased
#: edges are part of them.
PRINT_RIM = 0.025


def luminance(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 or float RGB -> (H, W) float32 luma in 0..1."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected (H, W, 3) RGB, got {rgb.shape}")
    scale = 1.0 / 255.0
    return (rgb.astype(np.float32) @ _LUMA) * np.float32(scale)


#: A blur wider than this (px) runs on a reduced copy: it keeps no detail finer than a
#: few sigma, so sampling it at sigma / 2 loses nothing visible, and costs a fraction.
REDUCE_ABOVE = 4.0


def gaussian(a: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of an (H, W) float32 array by `sigma` px. Above `REDUCE_ABOVE` px it
    blurs a copy reduced by up to 8x (still at least 2 px of sigma there) and brings it
    back bilinearly: soft edges and shadows are most of a render's blurs, and at photo
    resolution they cost more than the rest of a render."""
    if sigma <= 0:
        return a.astype(np.float32, copy=False)
    k = int(min(8, sigma // 2)) if sigma > REDUCE_ABOVE else 1
    h, w = a.shape[:2]
    if k <= 1 or min(h, w) < 8 * k:
        return cv2.GaussianBlur(a, (0, 0), sigma)
    small = cv2.resize(a, (max(1, w // k), max(1, h // k)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma * small.shape[1] / w)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _resize(a: np.ndarray, size: tuple[int, int], interp: int) -> np.ndarray:
    """cv2.resize to (w, h), keeping a trailing channel axis of 1."""
    out = cv2.resize(a, size, interpolation=interp)
    if a.ndim == 3 and out.ndim == 2:
        out = out[..., None]
    return out


def push_pull_fill(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Fill the holes of `values` smoothly from where `weights` > 0 (a pull-push pyramid).

    values: (H, W) or (H, W, C) float32; weights: (H, W) float32 in 0..1 (1 = known).
    Returns float32 of values' shape: known pixels keep their value (weight 1), holes get a
    blend of the nearest known values, smooth over a distance like the hole's size. Costs
    about two full-size image passes, unlike diffusion inpainting, whose cost grows with
    the hole's radius. With no known pixel at all, returns zeros.
    """
    if values.shape[:2] != weights.shape:
        raise ValueError(f"values {values.shape} and weights {weights.shape} differ in size")
    squeeze = values.ndim == 2
    v = values[..., None] if squeeze else values
    w = np.clip(weights, 0.0, 1.0).astype(np.float32)[..., None]
    if not (w > 0).any():
        return np.zeros_like(values, dtype=np.float32)
    levels = [(v.astype(np.float32) * w, w)]
    while min(levels[-1][1].shape[:2]) > 2:
        vw, ww = levels[-1]
        h, wd = ww.shape[:2]
        size = ((wd + 1) // 2, (h + 1) // 2)
        levels.append((_resize(vw, size, cv2.INTER_AREA), _resize(ww, size, cv2.INTER_AREA)))
    vw, ww = levels[-1]
    est = vw / np.maximum(ww, 1e-6)
    if not (ww > 0).all():  # coarsest level: fill with the mean of what is known
        mean = vw.sum((0, 1)) / max(float(ww.sum()), 1e-6)
        est = np.where(ww > 0, est, mean)
    for vw, ww in reversed(levels[:-1]):
        h, wd = ww.shape[:2]
        up = _resize(est, (wd, h), cv2.INTER_LINEAR)
        own = vw / np.maximum(ww, 1e-6)
        alpha = np.minimum(ww * 4.0, 1.0) if ww is not levels[0][1] else ww
        est = own * alpha + up * (1.0 - alpha)
    return est[..., 0] if squeeze else est


def normalised_blur(values: np.ndarray, weights: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of `values` counting only pixels with weight (normalised convolution),
    holes filled by `push_pull_fill`. values, weights: (H, W) float32; returns (H, W)."""
    num = cv2.GaussianBlur(values * weights, (0, 0), sigma)
    den = cv2.GaussianBlur(weights, (0, 0), sigma)
    ok = den > 0.05
    est = np.where(ok, num / np.maximum(den, 1e-6), 0.0).astype(np.float32)
    if ok.all():
        return est
    return push_pull_fill(est, ok.astype(np.float32))


def shading_gain(
    rgb: np.ndarray,
    region: np.ndarray,
    shoulder_px: float,
    *,
    strength: float = 0.85,
    wrinkles: float = 0.8,
) -> np.ndarray:
    """The person's shading over `region` as a gain map for a new garment.

    rgb: (H, W, 3) uint8 person photo (or a crop of it); region: (H, W) bool, the clothes
    whose light is read (the old upper clothes); shoulder_px: the shoulder width in pixels,
    which sets the blur sizes. `strength` scales the low-frequency light (1 = as
    photographed), `wrinkles` the fold band. Returns (H, W) float32, median 1 over the
    region, extended smoothly outside it (no folds there). An empty region gives all ones.
    """
    h, w = region.shape
    if rgb.shape[:2] != (h, w):
        raise ValueError(f"rgb {rgb.shape} and region {region.shape} differ in size")
    if shoulder_px <= 0:
        raise ValueError(f"shoulder_px must be > 0, got {shoulder_px}")
    if not region.any():
        return np.ones((h, w), np.float32)
    f = min(1.0, _WORK_SHOULDER / shoulder_px)
    size = (max(4, round(w * f)), max(4, round(h * f)))
    if f < 1.0:
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        reg = cv2.resize(region.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.5
    else:
        small, reg = rgb, region
    sw = shoulder_px * size[0] / w
    lum = luminance(small)
    # Prints: thin strokes out (median), other colours out (chroma far from the dominant).
    k = max(3, round(float(0.04 * sw)) | 1)
    lum_m = cv2.medianBlur(np.clip(lum * 255.0, 0, 255).astype(np.uint8), min(k, 5))
    lum_m = lum_m.astype(np.float32) * np.float32(1.0 / 255.0)
    ycc = cv2.cvtColor(small, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    cr, cb = ycc[..., 1], ycc[..., 2]
    if not reg.any():
        return np.ones((h, w), np.float32)
    med_cr, med_cb = float(np.median(cr[reg])), float(np.median(cb[reg]))
    chroma_dev = np.abs(cr - med_cr) + np.abs(cb - med_cb)
    weight = reg * np.clip(1.5 - chroma_dev / 16.0, 0.0, 1.0)
    log_l = np.log(np.maximum(lum_m, 1.0 / 255.0))
    ref = float(np.median(log_l[reg & (weight > 0.5)])) if (weight > 0.5).any() else 0.0
    dev = log_l - ref
    weight = (weight * ((dev > _LOG_MIN - 0.3) & (dev < _LOG_MAX + 0.3))).astype(np.float32)
    if not (weight > 0).any():
        return np.ones((h, w), np.float32)
    # Light and folds on a plain top vary smoothly and little; a sheer, lace or patterned
    # old top varies far more (skin and a bra through mesh, a print's blocks), and its
    # "shading" would print ghosts of it on the new garment: read it the less, the more
    # its band varies beyond a plain fabric's (judged before its print strokes are set
    # aside: what is left of a mesh between them still holds the bra's shape).
    calm = _calm(_bands(dev, weight, sw, fade_in=False)[1], weight)
    weight *= ~_print_strokes(dev, weight > 0.5, sw, ref)
    if not (weight > 0).any():
        return np.ones((h, w), np.float32)
    low, band = _bands(dev, weight, sw)
    log_gain = calm * (strength * np.clip(low, _LOG_MIN, _LOG_MAX) + wrinkles * band)
    log_gain -= float(np.median(log_gain[reg]))
    gain = np.exp(log_gain).astype(np.float32)
    if f < 1.0:
        gain = cv2.resize(gain, (w, h), interpolation=cv2.INTER_LINEAR)
    return gain


def _bands(
    dev: np.ndarray, weight: np.ndarray, sw: float, fade_in: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """The light (a blur a tenth of the shoulder width) and the fold band (down to a
    hundredth) of log luminance `dev`, read where `weight` > 0; with `fade_in`, the band
    fades in from the region's edge (judging how much a fabric varies wants it whole)."""
    dev = dev.astype(np.float32)
    low = normalised_blur(dev, weight, max(1.0, 0.1 * sw))
    fine = normalised_blur(dev, weight, max(0.6, 0.012 * sw))
    if not fade_in:
        return low, np.clip(fine - low, -0.2, 0.2) * weight
    # The folds fade in from the region's edge (`BAND_EDGE`): cut off there, a hem's or a
    # parse's blocky outline showed on the new garment as a step of light.
    edge = cv2.GaussianBlur(weight, (0, 0), max(0.6, BAND_EDGE * sw))
    fade = np.clip(2.0 * edge - 1.0, 0.0, 1.0) * weight
    return low, np.clip(fine - low, -0.2, 0.2) * fade


def _calm(band: np.ndarray, weight: np.ndarray) -> float:
    """How much of the light to take, 0..1: all of it while the fold band varies no more
    than a plain fabric's (`_PLAIN_BAND_STD`), less as it varies more."""
    spread = float(np.std(band[weight > 0.5])) if (weight > 0.5).sum() > 16 else 0.0
    return min(1.0, _PLAIN_BAND_STD / max(spread, 1e-6)) ** 2


def _print_strokes(dev: np.ndarray, known: np.ndarray, sw: float, ref: float) -> np.ndarray:
    """(h, w) bool: where the old top's luminance steps off its local light by more than
    `PRINT_STEP`, grown by `PRINT_RIM` shoulder widths: a print's strokes and their soft rims.

    A print the garment's own colour family (black letters on a white tee) passes the
    chroma test, and its strokes are too wide for the median; its anti-aliased rims and
    grey parts then stand out of the light as a ghost of the lettering on the new garment.
    Light varies smoothly: its local median over a third of the shoulder width (robust to
    strokes covering less than half of it) is the light, and what steps away from it
    sharply is print, by `PRINT_STEP` and by `PRINT_MIN_LEVELS` at least (a dark fabric's
    noise is a large step in log luminance, and a small one in light). `dev`: log
    luminance less `ref`; `known`: pixels of the old top that count.
    """
    lo, hi = _LOG_MIN - 0.3, _LOG_MAX + 0.3
    filled = push_pull_fill(np.where(known, dev, 0.0).astype(np.float32), known.astype(np.float32))
    code = np.clip((filled - lo) / (hi - lo) * 255.0, 0, 255).astype(np.uint8)
    k = max(3, round(sw / 3.0) | 1)
    light = cv2.medianBlur(code, k).astype(np.float32) * np.float32((hi - lo) / 255.0) + lo
    step = np.abs(np.exp(dev) - np.exp(light)) * np.float32(np.exp(ref) * 255.0)
    strokes = ((np.abs(dev - light) > PRINT_STEP) & (step > PRINT_MIN_LEVELS)).astype(np.uint8)
    r = max(1, round(PRINT_RIM * sw))
    return cv2.dilate(strokes, disc(r)) > 0


def apply_gain(rgb: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Multiply (H, W, 3) RGB (uint8 or float 0..255) by an (H, W) gain; float32 0..255.

    Brightening rolls off above 235 instead of clipping, so a white garment in a highlight
    keeps its folds instead of burning out flat.
    """
    out = rgb.astype(np.float32) * gain[..., None]
    knee = np.float32(235.0)
    over = out > knee
    if over.any():
        out[over] = knee + 20.0 * (1.0 - np.exp(-(out[over] - knee) / 20.0))
    return out


def soft_shadow(
    caster: np.ndarray, sigma: float, offset: tuple[float, float] = (0.0, 0.0)
) -> np.ndarray:
    """How much of a soft shadow `caster` (an (H, W) float32 0..1 alpha) throws around it:
    the alpha blurred by `sigma` px and shifted by `offset` (dx, dy) px; (H, W) float32
    0..1. Multiply a receiver by (1 - strength * shadow * (1 - caster))."""
    if offset != (0.0, 0.0):
        out = np.asarray(caster, np.float32)  # the shift makes a new array
        m = np.float32([[1, 0, offset[0]], [0, 1, offset[1]]])
        out = cv2.warpAffine(
            out, m, (out.shape[1], out.shape[0]), flags=cv2.INTER_LINEAR, borderValue=0
        )
    else:
        out = caster.astype(np.float32)
    if sigma > 0:
        out = gaussian(out, sigma)
    return out


def feather(alpha: np.ndarray, sigma: float) -> np.ndarray:
    """Soften an (H, W) alpha (bool or float 0..1) by a Gaussian of `sigma` px; float32."""
    a = alpha.astype(np.float32)
    if sigma <= 0:
        return a
    return gaussian(a, sigma)
