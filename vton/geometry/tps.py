"""Thin-plate-spline fitting and dense warping in numpy/OpenCV, for weight-free renderers.

Convention: points are (x, y) in pixels, float64 arrays of shape (N, 2). A spline fitted
from `src` to `dst` maps each src point onto its dst point (exactly when `regularisation`
is 0) and bends as little as possible in between; with a pure affine correspondence the
kernel weights are zero and the spline is that affine map.

To warp an image onto a target, fit the spline from target points to source points (the
backward map), evaluate it on the target pixel grid, and sample the source there
(`warp_image`, or `backward_maps` for the maps alone): every output pixel gets a value,
with no holes.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = [
    "ThinPlateSpline",
    "backward_maps",
    "expand_grid",
    "fit_tps",
    "grid_samples",
    "warp_image",
]


def _kernel(r2: np.ndarray) -> np.ndarray:
    """U = r^2 log r^2, with U(0) = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = r2 * np.log(r2)
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


@dataclass(frozen=True)
class ThinPlateSpline:
    """A fitted spline, in coordinates normalised by `centre` and `spread` (so that the
    regularisation and the conditioning do not depend on the image size):
    f(x) = U(|p - p_i|^2) @ weights + [1, p] @ affine, with p = (x - centre) / spread."""

    control: np.ndarray  # (N, 2) normalised source points p_i
    weights: np.ndarray  # (N, 2)
    affine: np.ndarray  # (3, 2)
    centre: np.ndarray  # (2,)
    spread: float

    def __call__(self, pts: np.ndarray) -> np.ndarray:
        """Map (M, 2) points; returns (M, 2) float64."""
        pts = np.asarray(pts, np.float64)
        if pts.ndim != 2 or pts.shape[1] != 2:
            raise ValueError(f"expected (M, 2) points, got {pts.shape}")
        p = (pts - self.centre) / self.spread
        d2 = ((p[:, None, :] - self.control[None, :, :]) ** 2).sum(-1)
        return _kernel(d2) @ self.weights + p @ self.affine[1:] + self.affine[0]


def fit_tps(src: np.ndarray, dst: np.ndarray, regularisation: float = 0.0) -> ThinPlateSpline:
    """Fit the spline mapping src (N, 2) onto dst (N, 2); N >= 3, not all collinear.

    `regularisation` (>= 0) trades exactness at the points for smoothness; it is applied in
    normalised coordinates, so it means the same at 256 px and at 4000 px.
    """
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2:
        raise ValueError(f"src {src.shape} and dst {dst.shape} must both be (N, 2)")
    n = src.shape[0]
    if n < 3:
        raise ValueError(f"a thin-plate spline needs at least 3 points, got {n}")
    if regularisation < 0:
        raise ValueError(f"regularisation must be >= 0, got {regularisation}")
    centre = src.mean(0)
    spread = float(np.sqrt(((src - centre) ** 2).sum(1).mean())) or 1.0
    p = (src - centre) / spread
    k = _kernel(((p[:, None] - p[None]) ** 2).sum(-1)) + regularisation * np.eye(n)
    ones = np.hstack([np.ones((n, 1)), p])
    system = np.zeros((n + 3, n + 3))
    system[:n, :n] = k
    system[:n, n:] = ones
    system[n:, :n] = ones.T
    rhs = np.zeros((n + 3, 2))
    rhs[:n] = dst
    try:
        sol = np.linalg.solve(system, rhs)
    except np.linalg.LinAlgError as exc:
        raise ValueError("degenerate control points (collinear or repeated)") from exc
    return ThinPlateSpline(p, sol[:n], sol[n:], centre, spread)


def backward_maps(
    backward: ThinPlateSpline,
    out_size: tuple[int, int],
    *,
    step: int = 4,
    origin: tuple[int, int] = (0, 0),
) -> tuple[np.ndarray, np.ndarray]:
    """`cv2.remap` maps of `backward` over an `out_size` (h, w) box of target pixels whose
    top-left pixel is `origin` (x, y): (h, w) float32 map_x, map_y, C-contiguous, in the
    source's pixels.

    The spline is evaluated on a grid every `step` pixels (a spline is smooth: bilinear
    interpolation between samples is accurate to a small fraction of a pixel) and expanded
    with `cv2.resize`, whose pixel-centre convention the sample positions follow: sample j
    sits at pixel (j + 0.5) * step - 0.5, with one sample of margin on each side so that no
    output pixel is extrapolated. `step=1` evaluates every pixel. A box (`origin` not 0)
    lets a caller warp only the part of a large target that the source can reach, and
    reuse one pair of maps for several images (colour, masks).
    """
    xs, ys = grid_samples(out_size, step, origin)
    gy, gx = np.meshgrid(ys, xs, indexing="ij")
    coarse = backward(np.stack([gx.ravel(), gy.ravel()], 1)).reshape(ys.size, xs.size, 2)
    return expand_grid(coarse, out_size, step)


def grid_samples(
    out_size: tuple[int, int], step: int, origin: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The sample positions `backward_maps` evaluates a spline at: (gw,) x and (gh,) y in
    target pixels, every `step` pixels at (j + 0.5) * step - 0.5 from `origin`, with one
    sample of margin on each side."""
    h, w = out_size
    if step < 1:
        raise ValueError(f"step must be >= 1, got {step}")
    x0, y0 = origin
    gh, gw = -(-h // step) + 2, -(-w // step) + 2
    ys = y0 + (np.arange(gh) - 1 + 0.5) * step - 0.5
    xs = x0 + (np.arange(gw) - 1 + 0.5) * step - 0.5
    return xs, ys


def expand_grid(
    coarse: np.ndarray, out_size: tuple[int, int], step: int
) -> tuple[np.ndarray, np.ndarray]:
    """(gh, gw, 2) spline values at `grid_samples` -> the (h, w) float32 map_x, map_y,
    C-contiguous: bilinear between samples (`cv2.resize`, whose pixel-centre convention
    the samples follow)."""
    h, w = out_size
    coarse = coarse.astype(np.float32)
    if step > 1:
        gh, gw = coarse.shape[:2]
        dense = cv2.resize(coarse, (gw * step, gh * step), interpolation=cv2.INTER_LINEAR)
        dense = dense[step : step + h, step : step + w]
    else:
        dense = coarse[1 : 1 + h, 1 : 1 + w]
    return np.ascontiguousarray(dense[..., 0]), np.ascontiguousarray(dense[..., 1])


def warp_image(
    image: np.ndarray,
    backward: ThinPlateSpline,
    out_size: tuple[int, int],
    *,
    step: int = 4,
    border_value: int | tuple[int, ...] = 0,
    interpolation: int = cv2.INTER_LINEAR,
) -> np.ndarray:
    """Sample `image` at backward(target pixel) for every pixel of an `out_size` (h, w) image,
    through `backward_maps` (`step`: its evaluation grid); outside `image` is
    `border_value`."""
    map_x, map_y = backward_maps(backward, out_size, step=step)
    return cv2.remap(
        image, map_x, map_y, interpolation, borderMode=cv2.BORDER_CONSTANT, borderValue=border_value
    )
