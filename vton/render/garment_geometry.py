"""Garment geometry from a front-view mask: the points a weight-free drape pins to a body.

`vton.cloth.landmarks` gives the five points every renderer shares (neck, shoulders, hem
corners). Draping a garment so that it looks worn needs more: where each sleeve starts and
ends and how wide it is, where the armpits are (the sleeve/body junction), and the body's
side lines, so that the torso and the sleeves can be warped separately (sleeves follow the
arms, the torso follows the body). This module reads them off the silhouette of a garment
laid out upright (the normalised canvas of `vton.cloth.normalise`):

- hem corners: the ends of the run of mask pixels through the centre column near the bottom;
- body side lines: straight lines fitted to those run ends over the lowest part of the body,
  followed upwards until the silhouette leaves them: that row is the armpit (a sleeve's
  lower edge joins, or a tank's armhole curves inwards);
- neck sides: the highest mask point on each side of the centre (the top of the collar);
  neck centre: the first mask pixel down the centre column (bottom of the front neckline);
- sleeves: a side is sleeved when, above the armpit, the silhouette reaches well beyond the
  body line; the outermost point of the side is then the cuff's outer corner, else the
  armpit is the side's outer end;
- shoulder: the corner of the top edge between the neck side and that outer end (the top
  point farthest above the chord joining them): the shoulder seam of a tee or long-sleeve,
  the strap's outer edge of a tank;
- cuff: the far end of the sleeve's pixels along the axis from the sleeve root (midway
  between shoulder and armpit) through their centroid;
- cold shoulder: a sleeved top whose neck sides stand high above its "shoulders" on
  steep lines (straps up from sleeves set below a bare shoulder) is marked so
  (`GarmentGeometry.cold_shoulder`): it hangs from its straps' tops (`hang_y`).

A long sleeve laid beside the body overlaps it in the photo, so the silhouette leaves the
body line only where the sleeve leaves the body, far below the real armpit. When the armpit
found is implausibly low (more than 42 % of the way from shoulder to hem), the anatomical
armpit (which bounds the torso part) is placed on the body line a quarter of the way down,
and the sleeve is marked as overlapping: its inner edge is the line from the cuff's inner
corner through the point where it leaves the body, its root runs from the shoulder to
where that line reaches the shoulder's height, and the pixels between that edge and the
body line belong to both parts (they show the sleeve lying on the body).

"left" and "right" are the viewer's, as in `GarmentLandmarks`. Points are (x, y) float
pixels of the mask given. Detection runs on a copy reduced to about 256 rows (a silhouette
needs no more; it costs about a millisecond) and is scaled back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from vton.errors import InvalidInputError

__all__ = [
    "Sleeve",
    "GarmentGeometry",
    "garment_geometry",
    "inner_back",
    "shoulders_are_seams",
    "torso_and_sleeve_masks",
]

Point = tuple[float, float]

#: Rows the silhouette is analysed at.
WORK_ROWS = 256
#: An armpit lower than this fraction of shoulder-to-hem means the sleeve lies on the body.
MAX_ARMPIT_DEPTH = 0.42
#: Where the anatomical armpit is put for such sleeves (fraction of shoulder-to-hem).
OVERLAP_ARMPIT_DEPTH = 0.24
#: A side whose armpit is found lower than this (fraction of the garment's height) has
#: its side line fitted again over the middle of the body.
MAX_SIDE_DEPTH = 0.7
#: A side whose armpit is found higher than this (fraction of the garment's height) ran
#: up a sleeve lying over the body: it takes the other side's line, mirrored.
MIN_SIDE_DEPTH = 0.15
#: A sleeve must reach this far beyond the body line (fraction of garment height).
MIN_SLEEVE_REACH = 0.05
#: A sleeve this long (root to cuff, fraction of shoulder-to-hem) or longer is "long".
LONG_SLEEVE = 0.55
# Plausibility of what was found (`_check_plausible`), in garment lengths (neck to hem) or
# half chest widths: generous bounds around what laid-flat tops measure.
#: Most the two shoulders' heights differ, in garment lengths.
MAX_SHOULDER_TILT = 0.12
#: Most the shoulders' midpoint is off the centre line, in half chest widths.
MAX_OFF_CENTRE = 0.5
#: Least each shoulder lies outside the neckline's side, in half chest widths.
MIN_SHOULDER_OUT = 0.05
#: Armpit depth below its shoulder, in garment lengths.
ARMPIT_DEPTH = (0.05, 0.5)
#: Least length of the shorter sleeve per the longer one's.
MIN_SLEEVE_MATCH = 0.6
#: Least hem width per chest width (armpit to armpit).
MIN_HEM_TO_CHEST = 0.35
#: Half chest width per garment length.
CHEST_RATIO = (0.15, 0.7)
#: For the reading by the shoulders (`_merged_sleeves`): least distance of each shoulder
#: corner from the centre, in neck half widths. Closer, the top edge shows no shoulder seam
#: (raglan, sheer or dropped sleeves): nothing tells where the body's sides are.
MIN_SHOULDER_PER_NECK = 1.3
#: Least neck half width for that reading (fraction of garment height): a top with sleeves
#: has a neck opening; a straight top edge is a bandeau's or a strap's, not a shoulder line.
MIN_NECK_HALF = 0.04
#: Most the two shoulder corners' distances from the centre may differ (ratio) before the
#: farther one is taken for a ruffle's or a puff's corner and the nearer one mirrored.
MAX_SHOULDER_ASYMMETRY = 1.25
#: For tiered or flounced sleeves (`_merged_sleeves`): least depth of the shoulder seam's
#: corner above the chord from the neck side to the flounce's tip, per that chord's length.
#: A raglan's or a shapeless blob's top edge runs (nearly) straight from neck to tip.
MIN_TIER_CORNER = 0.05
#: ... and least drop from that corner down to the tip (fraction of garment height).
MIN_TIER_DROP = 0.05
#: Least reach of a merged sleeve past the line down from its shoulder, above the armpit
#: (fraction of garment height): a sleeve hanging from the shoulder seam bulges out of it
#: at once; a sleeveless armhole stays inside it.
MIN_MERGED_REACH = 0.02
#: Most a merged sleeve's top edge may sag below the chord from its shoulder corner to its
#: outline at the armpit's row, on average, per that chord's drop. A sleeve hangs from the
#: seam in a convex curve (the cap, a rounded or dropped shoulder); a sleeveless armhole
#: cut into the body is a concave notch below the strap, and an A-line body's flared sides
#: beyond it are not sleeves (sleeveless shells and A-line dresses read as long-sleeved).
MAX_MERGED_SAG = 0.06
#: Most a shoulder corner of that reading may lie below its neck side (fraction of the
#: garment's height): a shoulder line slopes gently from the neck; a corner far lower is
#: the knee of an armhole over a flared body, whose sides are not sleeves either.
MAX_MERGED_SHOULDER_DROP = 0.25
# The inside of the back seen through the front neckline (`inner_back`):
#: A crew neck's front drops about this far below its sides, per the opening's width (a
#: pattern's 7-9 cm for an 18 cm opening).
FRONT_DROP = 0.45
#: The back shows when the garment's top at the centre lies at most this far below the
#: neck sides (per the opening's width): the back neckline's shallow curve. Deeper, the
#: top edge there is the front neckline itself (a scoop, a V with nothing behind it).
BACK_SHOWS_DIP = 0.2
#: ... and only for a neck opening narrower than this share of the chest: an off-shoulder
#: or bandeau top's "neck" is its whole top edge.
MAX_NECK_TO_CHEST = 0.7
# A cold-shoulder cut (`GarmentGeometry.cold_shoulder`): straps rise from the front to the
# shoulders and the sleeves are set on the upper arms, below a bare shoulder.
#: Least drop from each neck side (a strap's top) down to the sleeve's top corner, in
#: garment lengths (neck to hem): a tee's shoulder seam falls 0.05-0.2 below its neck.
COLD_SHOULDER_DROP = 0.25
#: ... and least slope of that line (drop per horizontal run): a shoulder seam slopes
#: 15-35 degrees (0.25-0.7), a strap stands up to the sleeve nearly vertically.
COLD_SHOULDER_SLOPE = 1.0
#: A sleeved garment's shoulder points are taken as its seams when its chest is this
#: wide for their distance (a dropped or off-shoulder cut falls outside).
SEAM_TO_CHEST = (0.58, 1.2)


def shoulders_are_seams(chest: float, shoulders: float) -> bool:
    """Whether shoulder points `shoulders` px apart on a garment whose chest is `chest` px
    wide are its shoulder seams (`SEAM_TO_CHEST`), not a dropped, off-shoulder or misread
    corner: what the renderer sizes a sleeved garment by and the classifier's reading
    measures its width by."""
    return shoulders > 0 and SEAM_TO_CHEST[0] <= chest / shoulders <= SEAM_TO_CHEST[1]


@dataclass(frozen=True)
class Sleeve:
    """One sleeve. root_outer is the shoulder point, root_inner the armpit (for a sleeve
    lying over the body, the inner end of its root); cuff_outer is the cuff corner on the
    shoulder's side. `separation`: where a sleeve lying over the body in the photo (long
    sleeves hanging down) leaves it; None for a sleeve clear of the body."""

    root_outer: Point
    root_inner: Point
    cuff_outer: Point
    cuff_inner: Point
    separation: Point | None = None

    @property
    def overlaps_body(self) -> bool:
        return self.separation is not None

    @property
    def root_centre(self) -> np.ndarray:
        return (np.asarray(self.root_outer) + np.asarray(self.root_inner)) / 2

    @property
    def cuff_centre(self) -> np.ndarray:
        return (np.asarray(self.cuff_outer) + np.asarray(self.cuff_inner)) / 2

    @property
    def length(self) -> float:
        return float(np.hypot(*(self.cuff_centre - self.root_centre)))

    @property
    def cuff_half_width(self) -> float:
        return float(np.hypot(*np.subtract(self.cuff_outer, self.cuff_inner))) / 2

    def scaled(self, f: float) -> Sleeve:
        """The same sleeve on a canvas scaled by `f` (pixel centres kept aligned)."""

        def s(p: Point) -> Point:
            return ((p[0] + 0.5) * f - 0.5, (p[1] + 0.5) * f - 0.5)

        return Sleeve(
            s(self.root_outer),
            s(self.root_inner),
            s(self.cuff_outer),
            s(self.cuff_inner),
            None if self.separation is None else s(self.separation),
        )


@dataclass(frozen=True)
class GarmentGeometry:
    """Landmarks of an upright front-view garment; see the module docstring.

    side_left/side_right: (a, b) of the body side line x = a + b * y. sleeve: the style the
    silhouette shows, ``sleeveless``, ``short`` or ``long``; sleeve_left/right are None for
    a sleeveless side.
    """

    width: int
    height: int
    centre_x: float
    neck_centre: Point
    neck_left: Point
    neck_right: Point
    shoulder_left: Point
    shoulder_right: Point
    armpit_left: Point
    armpit_right: Point
    hem_left: Point
    hem_right: Point
    side_left: tuple[float, float]
    side_right: tuple[float, float]
    sleeve: str
    sleeve_left: Sleeve | None
    sleeve_right: Sleeve | None

    @property
    def shoulder_y(self) -> float:
        return (self.shoulder_left[1] + self.shoulder_right[1]) / 2

    @property
    def hem_y(self) -> float:
        return (self.hem_left[1] + self.hem_right[1]) / 2

    @property
    def cold_shoulder(self) -> bool:
        """Straps above sleeves set on the upper arms (`COLD_SHOULDER_DROP`, `_SLOPE`): the
        "shoulders" read off its top edge are the sleeves' top corners, which a wearer has
        below the shoulder, on the arm; the straps' tops lie on the shoulders."""
        if self.sleeve_left is None or self.sleeve_right is None:
            return False
        length = max(self.hem_y - min(self.neck_left[1], self.neck_right[1]), 1.0)
        sides = ((self.neck_left, self.shoulder_left), (self.neck_right, self.shoulder_right))
        for neck, sh in sides:
            drop = sh[1] - neck[1]
            if drop < COLD_SHOULDER_DROP * length:
                return False
            if drop < COLD_SHOULDER_SLOPE * abs(sh[0] - neck[0]):
                return False
        return True

    @property
    def hang_y(self) -> float:
        """Row the garment hangs from, the one that goes onto the body's shoulder seams: the
        shoulder points', or for a cold-shoulder cut its straps' tops."""
        if self.cold_shoulder:
            return (self.neck_left[1] + self.neck_right[1]) / 2
        return self.shoulder_y

    @property
    def chest_half_width(self) -> float:
        """Half the distance between the armpits: the width the body part is sized by."""
        return abs(self.armpit_right[0] - self.armpit_left[0]) / 2

    def side_x(self, side: int, y: np.ndarray | float) -> np.ndarray:
        """x of the torso part's boundary on `side` (-1 left, +1 right) at rows `y`: the
        shoulder's x above it, the shoulder-armpit line, then the body side line."""
        y = np.asarray(y, np.float64)
        sh = np.asarray(self.shoulder_left if side < 0 else self.shoulder_right)
        ap = np.asarray(self.armpit_left if side < 0 else self.armpit_right)
        a, b = self.side_left if side < 0 else self.side_right
        t = np.clip((y - sh[1]) / max(ap[1] - sh[1], 1e-6), 0.0, 1.0)
        upper = sh[0] + t * (ap[0] - sh[0])
        return np.where(y <= ap[1], upper, a + b * y)

    def scaled(self, f: float) -> GarmentGeometry:
        """The same geometry on a canvas scaled by `f` (pixel centres kept aligned)."""

        def s(p: Point) -> Point:
            return ((p[0] + 0.5) * f - 0.5, (p[1] + 0.5) * f - 0.5)

        def line(ab: tuple[float, float]) -> tuple[float, float]:
            a, b = ab  # x = a + b y  ->  x' = (a + b ((y' + .5)/f - .5) + .5) f - .5
            return ((a - 0.5 * b + 0.5) * f - 0.5 + 0.5 * b, b)

        def sl(v: Sleeve | None) -> Sleeve | None:
            return None if v is None else v.scaled(f)

        return GarmentGeometry(
            round(self.width * f),
            round(self.height * f),
            (self.centre_x + 0.5) * f - 0.5,
            s(self.neck_centre),
            s(self.neck_left),
            s(self.neck_right),
            s(self.shoulder_left),
            s(self.shoulder_right),
            s(self.armpit_left),
            s(self.armpit_right),
            s(self.hem_left),
            s(self.hem_right),
            line(self.side_left),
            line(self.side_right),
            self.sleeve,
            sl(self.sleeve_left),
            sl(self.sleeve_right),
        )


def _centre_runs(fg: np.ndarray, cx: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the first and last column of the run of True through column cx, as float;
    NaN for rows where column cx is False."""
    w = fg.shape[1]
    on = fg[:, cx]
    left_part = ~fg[:, : cx + 1][:, ::-1]  # False run from cx leftwards
    right_part = ~fg[:, cx:]
    # index of the first False going outwards (or the border)
    li = np.where(left_part.any(1), left_part.argmax(1), cx + 1)
    ri = np.where(right_part.any(1), right_part.argmax(1), w - cx)
    left = (cx - li + 1).astype(np.float64)
    right = (cx + ri - 1).astype(np.float64)
    left[~on] = np.nan
    right[~on] = np.nan
    return left, right


def _side_line(
    edge: np.ndarray, side: int, lo: int, hi: int, y0: int, tol: float, gh: int
) -> tuple[tuple[float, float], int]:
    """The body's side line fitted from rows lo..hi upwards, and the armpit row on it."""
    rows = np.arange(lo, hi + 1)
    # A short fit extrapolates badly (a 1 px quantised edge): find the armpit roughly,
    # refit the line over the whole body below it, then find the armpit again. The rough
    # walk's wide tolerance may climb a sleeveless armhole curving in to its strap: the
    # rows at the top of the refit that lie far inside the rough line are that armhole,
    # not the body's side, and stay out of it (they would tilt the line onto the strap,
    # and the armpit would come out at the top).
    a, b = _fit_line(rows.astype(np.float64), edge[rows])
    rough = _armpit_row(edge, (a, b), side, lo, y0, 3 * tol, gh)
    body = np.arange(min(rough + max(2, int(0.05 * gh)), lo), hi + 1)
    inside = side * (edge[body] - (a + b * body)) < -2 * tol
    body = body[int(np.argmin(inside)) if not inside.all() else 0 :]
    line = _fit_line(body.astype(np.float64), edge[body])
    return line, _armpit_row(edge, line, side, hi, y0, tol, gh)


def _reaching_above(part: np.ndarray, armpit_y: float) -> np.ndarray:
    """(H, W) bool: the connected pieces of `part` (pixels beyond a side's boundary) that
    reach up to the armpit's row. A sleeve does, however far it hangs below the armpit
    against the body; what lies beyond the side line only lower down (a waist shaped in,
    a flared or peplum hem reaching past the line) is the body itself and is never taken
    for the sleeve."""
    n, comp = cv2.connectedComponents(part.astype(np.uint8), connectivity=8)
    if n <= 1:
        return part
    top = int(np.floor(armpit_y)) + 1
    keep = np.zeros(n, bool)
    keep[np.unique(comp[: max(top, 0)])] = True
    keep[0] = False
    return keep[comp]


def _fit_line(ys: np.ndarray, xs: np.ndarray) -> tuple[float, float]:
    """Robust x = a + b y: least squares, then again without points off by > 2 px."""
    ok = np.isfinite(xs)
    ys, xs = ys[ok], xs[ok]
    if ys.size < 2:
        raise ValueError("not enough rows for a side line")
    b, a = np.polyfit(ys, xs, 1)
    keep = np.abs(xs - (a + b * ys)) <= 2.0
    if keep.sum() >= 2:
        b, a = np.polyfit(ys[keep], xs[keep], 1)
    return float(a), float(b)


def _armpit_row(
    edge: np.ndarray,
    line: tuple[float, float],
    side: int,
    start: int,
    stop: int,
    tol: float,
    gh: int,
) -> int:
    """Walking up from row `start` to `stop` along one side's body edge (`edge`: x per row,
    NaN off the body; `side` -1 left, +1 right), the last row before the edge leaves the
    body for 3 rows running (or `stop`).

    The edge leaves the body where a sleeve joins it (it steps outwards from the rows just
    below: a local test, so a shaped body that narrows at the waist or flares at the hem
    is still followed) or where a sleeveless armhole curves in; a slow drift outwards from
    the body's side line (a batwing sleeve growing out of the body) leaves it too.
    """
    a, b = line
    k = max(2, round(0.02 * gh))
    jump = max(2.0, 0.02 * gh)
    inward = max(3 * tol, 0.04 * gh)
    run = 0
    last_ok = start
    seen: dict[int, float] = {}
    for y in range(start, stop - 1, -1):
        x = edge[y]
        ok = bool(np.isfinite(x))
        if ok:
            off = side * (x - (a + b * y))  # > 0: outside the side line
            below = seen.get(y + k)
            stepped = below is not None and side * (x - below) > jump
            ok = not stepped and -inward <= off <= max(3 * tol, 0.04 * gh)
        if ok:
            run = 0
            last_ok = y
            seen[y] = float(x)
        else:
            run += 1
            if run >= 3:
                return last_ok
    return last_ok


def garment_geometry(mask: np.ndarray, item: str = "garment") -> GarmentGeometry:
    """The geometry of the garment in an (H, W) uint8 {0, 255} upright front-view mask.

    Raises `InvalidInputError` naming `item` when the silhouette has no body to pin (empty,
    or no run of pixels through the centre near the bottom).
    """
    if mask.ndim != 2:
        raise ValueError(f"expected an (H, W) mask, got {mask.shape}")
    h, w = mask.shape
    f = min(1.0, WORK_ROWS / h)
    small = mask
    if f < 1.0:
        size = (max(8, round(w * f)), max(8, round(h * f)))
        small = cv2.resize(mask, size, interpolation=cv2.INTER_AREA)
        f = size[1] / h
    fg = small >= 128
    try:
        geom = _detect(fg, item)
        _check_plausible(geom, item)
    except InvalidInputError as refused:
        # Sleeves hanging beside the body and merged with it (bell, ruffled or full
        # sleeves) hide both of its sides: read it again by its shoulders; a sleeveless
        # body with rounded sides (a halter) has no straight side: by its outline's knee.
        geom = _merged_sleeves(fg) or _rounded_sleeveless(fg)
        if geom is None:
            raise
        try:
            _check_plausible(geom, item)
        except InvalidInputError:
            raise refused from None
    if small is mask:
        return geom
    return replace(geom.scaled(1.0 / f), width=w, height=h)


def _check_plausible(g: GarmentGeometry, item: str) -> None:
    """Raise `InvalidInputError` when the landmarks found cannot be an upright front view
    of a top: shoulders at different heights or off-centre, inside the neckline, armpits
    above the shoulders or near the hem, a body as wide as it is long, a sleeve root off
    the canvas. A silhouette read wrongly (a garment photographed folded or at an angle,
    a mask that took in the bed it lies on) would be drawn as a shredded garment; the pair
    is refused with the reason instead."""
    top = min(g.neck_left[1], g.neck_right[1], g.shoulder_left[1], g.shoulder_right[1])
    gh = max(g.hem_y - top, 1.0)
    chest = max(g.chest_half_width, 1e-6)
    problems = []
    if abs(g.shoulder_left[1] - g.shoulder_right[1]) > MAX_SHOULDER_TILT * gh:
        problems.append("shoulders at different heights")
    if abs((g.shoulder_left[0] + g.shoulder_right[0]) / 2 - g.centre_x) > MAX_OFF_CENTRE * chest:
        problems.append("shoulders off the garment's centre")
    if g.sleeve != "sleeveless" and (
        (g.neck_left[0] - g.shoulder_left[0]) < MIN_SHOULDER_OUT * chest
        or (g.shoulder_right[0] - g.neck_right[0]) < MIN_SHOULDER_OUT * chest
    ):
        problems.append("no shoulder outside the neckline")
    for ap, sh in ((g.armpit_left, g.shoulder_left), (g.armpit_right, g.shoulder_right)):
        if not ARMPIT_DEPTH[0] * gh <= ap[1] - sh[1] <= ARMPIT_DEPTH[1] * gh:
            problems.append("armpit not between shoulder and waist")
            break
    if abs(g.hem_right[0] - g.hem_left[0]) < MIN_HEM_TO_CHEST * 2 * chest:
        # the "armpits" lie on sleeves that merge with the body (bell sleeves beside it)
        problems.append("hem far narrower than the chest")
    if not CHEST_RATIO[0] <= chest / gh <= CHEST_RATIO[1]:
        problems.append(f"body {2 * chest / gh:.2f} times as wide as long")
    if g.sleeve_left is not None and g.sleeve_right is not None:
        a, b = sorted((g.sleeve_left.length, g.sleeve_right.length))
        if a < MIN_SLEEVE_MATCH * b:
            # a mask that took in a piece of backdrop beside one sleeve, or a fold
            problems.append("one sleeve far longer than the other")
    for sl in (g.sleeve_left, g.sleeve_right):
        if sl is not None and not -0.1 * g.width <= sl.root_inner[0] <= 1.1 * g.width:
            problems.append("sleeve root off the garment")
            break
    if problems:
        raise InvalidInputError(
            item,
            "garment silhouette not understood as an upright front view ("
            + "; ".join(problems)
            + "): photograph it laid flat and straight, or check its mask",
        )


def _detect(fg: np.ndarray, item: str) -> GarmentGeometry:
    h, w = fg.shape
    ys, xs = np.nonzero(fg)
    if ys.size < 64:
        raise InvalidInputError(item, "garment mask is empty")
    y0, y1 = int(ys.min()), int(ys.max())
    gh = y1 - y0 + 1
    if gh < 16:
        raise InvalidInputError(item, f"garment silhouette is only {gh} px high")
    # Centre: middle of the hem run (robust to one-sided sleeves or a pose that is not
    # symmetric above the waist).
    bx = (int(xs.min()) + int(xs.max())) // 2
    # The hem is the bottom of the body, under the middle of the garment: long sleeves
    # hanging down may end lower than it.
    mid = np.flatnonzero(fg[:, bx])
    if mid.size and mid[-1] > y0 + 0.5 * gh:
        y1 = int(mid[-1])
    hem_y = y1 - max(1, round(0.015 * gh))
    cols = np.flatnonzero(fg[hem_y])
    if cols.size == 0:
        raise InvalidInputError(item, "garment silhouette has no hem")
    bx = int(cols[np.argmin(np.abs(cols - bx))])
    left, right = _centre_runs(fg, bx)
    if not (np.isfinite(left[hem_y]) and np.isfinite(right[hem_y])):
        raise InvalidInputError(item, "garment silhouette has no body at the hem")
    cx = (left[hem_y] + right[hem_y]) / 2
    icx = round(float(cx))
    left, right = _centre_runs(fg, min(max(icx, 0), w - 1))

    # Body side lines from the lowest part of the body.
    lo, hi = y0 + int(0.82 * gh), y1 - max(1, int(0.03 * gh))
    rows = np.arange(lo, hi + 1)
    if rows.size < 3 or not np.isfinite(left[rows]).any():
        raise InvalidInputError(item, "garment silhouette has no body below the sleeves")
    tol = max(1.5, 0.012 * gh)
    lines, armpits = [], []
    for side, edge in ((-1, left), (1, right)):
        line, ap = _side_line(edge, side, lo, hi, y0, tol, gh)
        if ap - y0 > MAX_SIDE_DEPTH * gh:
            # A rounded body (a halter, a curved hem) leaves any line fitted near the
            # hem at once: fit it higher up, over the middle of the body.
            lo2, hi2 = y0 + int(0.5 * gh), y0 + int(0.75 * gh)
            if np.isfinite(edge[lo2 : hi2 + 1]).sum() >= 3:
                line2, ap2 = _side_line(edge, side, lo2, hi2, y0, tol, gh)
                # (not when that line runs up a sleeve merged with the body to the top)
                if ap2 < ap and ap2 - y0 >= MIN_SIDE_DEPTH * gh:
                    line, ap = line2, ap2
        lines.append(line)
        armpits.append(ap)

    # Neck sides: the highest points on each side of the centre, nearest the centre.
    top = np.where(fg.any(0), fg.argmax(0), h).astype(np.float64)
    neck_pts = _neck_sides(top, icx, gh)
    neck_c = (cx, float(top[icx]) if top[icx] < h else float(y0))

    # A sleeve lying over the body down past the hem hides that side's edge: its line
    # follows the sleeve up to the shoulder and the armpit comes out at the top. A top is
    # symmetric, so such a side takes the other side's line, mirrored about the neck's
    # middle (the hem's is off-centre by the sleeve).
    mirrored = [False, False]
    mid_x = (neck_pts[0][0] + neck_pts[1][0]) / 2
    depth = [(ap - y0) / gh for ap in armpits]
    for i in (0, 1):
        j = 1 - i
        if depth[i] < MIN_SIDE_DEPTH <= depth[j] <= MAX_SIDE_DEPTH:
            a, b = lines[j]
            lines[i] = (2.0 * mid_x - a, -b)
            armpits[i] = armpits[j]
            mirrored[i] = True
    if any(mirrored):
        cx = mid_x
    side_l, side_r = lines
    ap_l, ap_r = armpits

    # Per side: sleeved?, outer end, shoulder, armpit, sleeve.
    col_idx = np.arange(w)
    sides = {}
    for side, line, ap_y, neck, mirror in (
        (-1, side_l, ap_l, neck_pts[0], mirrored[0]),
        (1, side_r, ap_r, neck_pts[1], mirrored[1]),
    ):
        a, b = line
        outer = _outer_columns(fg, icx, side)
        rows_up = np.arange(y0, ap_y + 1)
        reach = side * (outer[rows_up] - (a + b * rows_up))
        reach_max = np.nanmax(reach) if np.isfinite(reach).any() else 0.0
        sleeved = reach_max > MIN_SLEEVE_REACH * gh
        if sleeved:
            # The side's outermost pixel (any row above the hem band) is the cuff's outer end.
            band = np.arange(y0, y1 - int(0.02 * gh))
            oc = outer[band]
            j = int(np.nanargmin(oc) if side < 0 else np.nanargmax(oc))
            outer_end = np.array([oc[j], band[j]], np.float64)
        else:
            outer_end = np.array([a + b * ap_y, ap_y], np.float64)
        shoulder = _shoulder(top, neck, outer_end, side, h)
        sides[side] = {
            "sleeved": sleeved,
            "outer_end": outer_end,
            "shoulder": shoulder,
            "ap_y": ap_y,
            "line": line,
            # a mirrored side's own edge is the sleeve's: its armpit is on the line
            "edge": np.full(h, np.nan) if mirror else (left if side < 0 else right),
        }

    # A top is symmetric: when one shoulder was read far lower than the other (a ruffle
    # or a puffed sleeve's top taken for the shoulder line), the one nearer the neck's
    # height stands for both, mirrored about the centre.
    sl, sr = sides[-1]["shoulder"], sides[1]["shoulder"]
    if abs(sl[1] - sr[1]) > MAX_SHOULDER_TILT * gh and sides[-1]["sleeved"] == sides[1]["sleeved"]:
        neck_y = (neck_pts[0][1] + neck_pts[1][1]) / 2
        good, bad = (-1, 1) if abs(sl[1] - neck_y) <= abs(sr[1] - neck_y) else (1, -1)
        g = sides[good]["shoulder"]
        sides[bad]["shoulder"] = np.array([2.0 * cx - g[0], g[1]])

    # Anatomical armpits (sleeves lying over the body hide the real ones).
    sh_y = (sides[-1]["shoulder"][1] + sides[1]["shoulder"][1]) / 2
    length = max(hem_y - sh_y, 1.0)
    for s in sides.values():
        a, b = s["line"]
        overlaps = s["sleeved"] and (s["ap_y"] - sh_y) > MAX_ARMPIT_DEPTH * length
        y = sh_y + OVERLAP_ARMPIT_DEPTH * length if overlaps else float(s["ap_y"])
        # Where a sleeve joins a shaped body, the body's own edge, not its side line.
        edge = s["edge"][int(y)] if not overlaps else np.nan
        x = float(edge) if np.isfinite(edge) else a + b * y
        s["armpit"] = np.array([x, y])
        s["separation"] = np.array([a + b * s["ap_y"], float(s["ap_y"])]) if overlaps else None

    geom = GarmentGeometry(
        w,
        h,
        float(cx),
        (float(neck_c[0]), float(neck_c[1])),
        neck_pts[0],
        neck_pts[1],
        _pt(sides[-1]["shoulder"]),
        _pt(sides[1]["shoulder"]),
        _pt(sides[-1]["armpit"]),
        _pt(sides[1]["armpit"]),
        (float(side_l[0] + side_l[1] * hem_y) if mirrored[0] else float(left[hem_y]), float(hem_y)),
        (
            float(side_r[0] + side_r[1] * hem_y) if mirrored[1] else float(right[hem_y]),
            float(hem_y),
        ),
        side_l,
        side_r,
        "sleeveless",
        None,
        None,
    )
    sleeves: dict[int, Sleeve | None] = {-1: None, 1: None}
    all_rows = np.arange(h, dtype=np.float64)
    for side, s in sides.items():
        if not s["sleeved"]:
            continue
        # A margin keeps the anti-aliased body edge (just off the fitted line) out.
        bound = geom.side_x(side, all_rows)[:, None] + side * (1.0 + 0.01 * gh)
        outside = (col_idx[None, :] < bound) if side < 0 else (col_idx[None, :] > bound)
        if s["separation"] is None:
            outside = _reaching_above(fg & outside, s["armpit"][1])
        sleeves[side] = _sleeve(fg & outside, s["shoulder"], s["armpit"], s["separation"], gh)
    kinds = []
    for v in sleeves.values():
        if v is not None:
            kinds.append("long" if v.length >= LONG_SLEEVE * length else "short")
    sleeve = "sleeveless" if not kinds else ("long" if "long" in kinds else "short")
    return replace(geom, sleeve=sleeve, sleeve_left=sleeves[-1], sleeve_right=sleeves[1])


def _neck_sides(top: np.ndarray, icx: int, gh: int) -> list[Point]:
    """The neck sides: on each side of column `icx`, the highest point of the top edge
    (`top`: first mask row per column), the one nearest the centre among near-ties."""
    pts = []
    for side in (-1, 1):
        span = np.arange(icx, -1, -1) if side < 0 else np.arange(icx, top.size)
        tops = top[span]
        i = int(np.flatnonzero(tops <= tops.min() + max(1.0, 0.005 * gh))[0])
        pts.append((float(span[i]), float(tops[i])))
    return pts


def _outer_columns(fg: np.ndarray, icx: int, side: int) -> np.ndarray:
    """Per row, the outermost mask column on `side` of column `icx` (float; NaN for rows
    without mask pixels on that side)."""
    half = fg[:, : icx + 1] if side < 0 else fg[:, icx:]
    if side < 0:
        return np.where(half.any(1), half.argmax(1), np.nan).astype(np.float64)
    return np.where(half.any(1), icx + half.shape[1] - 1 - half[:, ::-1].argmax(1), np.nan)


def _shoulder(top: np.ndarray, neck: Point, outer_end: np.ndarray, side: int, h: int) -> np.ndarray:
    """The shoulder: the point of the top edge (`top`: first mask row per column, `h`, the
    canvas height, where a column is empty) farthest above the chord from the neck side to
    the side's outer end, i.e. the corner where the shoulder line turns down the sleeve or
    the armhole."""
    return _top_corner(top, neck, outer_end, side, h)[0]


def _top_corner(
    top: np.ndarray, neck: Point, outer_end: np.ndarray, side: int, h: int
) -> tuple[np.ndarray, float]:
    """`_shoulder`'s corner and how far (px) it lies above the chord (0 for none)."""
    nx = int(neck[0])
    # (a sleeveless side's outer end is on its side line, which may run off the canvas)
    ex = min(max(round(float(outer_end[0])), 0), top.size - 1)
    span = np.arange(nx, ex + side, side) if (ex - nx) * side > 0 else np.array([nx])
    pts = np.stack([span.astype(np.float64), top[span]], 1)
    pts = pts[pts[:, 1] < h]
    chord = outer_end - np.asarray(neck)
    norm = np.hypot(*chord)
    if pts.shape[0] == 0 or norm < 1e-6:
        return np.asarray(neck, np.float64), 0.0
    # distance above the chord (towards the top-outside)
    n = np.array([chord[1], -chord[0]]) / norm
    if n[1] > 0:
        n = -n
    d = (pts - np.asarray(neck)) @ n
    k = int(np.argmax(d))
    return pts[k], float(d[k])


def _second_reading_frame(fg: np.ndarray) -> tuple | None:
    """What the second readings (`_merged_sleeves`, `_rounded_sleeveless`) start from, on a
    (H, W) bool silhouette: (top row y0, hem row y1 under the middle, body height gh, hem
    band row, middle column bx, top edge per column, neck sides, centre x between them and
    its column); None for a silhouette too small or with nothing under its middle."""
    h, w = fg.shape
    ys, xs = np.nonzero(fg)
    if ys.size < 64:
        return None
    y0 = int(ys.min())
    bx = (int(xs.min()) + int(xs.max())) // 2
    mid = np.flatnonzero(fg[:, bx])
    if mid.size == 0 or mid[-1] - y0 < 16:
        return None
    y1 = int(mid[-1])
    gh = y1 - y0 + 1
    hem_y = y1 - max(1, round(0.015 * gh))
    top = np.where(fg.any(0), fg.argmax(0), h).astype(np.float64)
    neck_pts = _neck_sides(top, bx, gh)
    cx = (neck_pts[0][0] + neck_pts[1][0]) / 2
    icx = min(max(round(cx), 0), w - 1)
    return y0, y1, gh, hem_y, bx, top, neck_pts, cx, icx


def _merged_sleeves(fg: np.ndarray) -> GarmentGeometry | None:
    """The reading of a top whose sleeves hang beside its body and merge with it down to
    the hem (bell, ruffled or tiered sleeves, full sleeves laid against the body), from a
    (H, W) bool silhouette; None when its top edge shows no shoulders.

    The outline then never runs along the body's sides, so `_detect` finds its armpits on
    the sleeves. A set-in sleeve starts at the shoulder seam, the corner of the top edge,
    and the body's side runs down from it: the side lines are taken straight down from the
    shoulder corners, the armpits on them at `OVERLAP_ARMPIT_DEPTH`, and all that lies
    outside them is sleeve. A body narrower at the hem than at the shoulders is then read a
    little wide there (it is drawn with its true outline; only the sizing uses the lines).
    """
    h = fg.shape[0]
    frame = _second_reading_frame(fg)
    if frame is None:
        return None
    y0, y1, gh, _, _, top, neck_pts, _, icx = frame
    band = np.arange(y0, y1 - int(0.02 * gh))
    shoulders = {}
    for side, neck in ((-1, neck_pts[0]), (1, neck_pts[1])):
        oc = _outer_columns(fg, icx, side)[band]
        if not np.isfinite(oc).any():
            return None
        j = int(np.nanargmin(oc) if side < 0 else np.nanargmax(oc))
        shoulders[side] = _shoulder(top, neck, np.array([oc[j], band[j]]), side, h)
    geom = _read_by_shoulders(fg, frame, dict(shoulders))
    if geom is not None:
        return geom
    # Tiered or flounced sleeves: the first flounce rises to the shoulder line and flares
    # out past it, so the corner found above is the flounce's tip, with nothing beyond it.
    # The shoulder seam is then the top edge's corner between the neck and that tip, where
    # the shoulder line turns down the flounce: only a real corner (a raglan or a blob's
    # edge runs straight from the neck to the tip), with the tip below and outside it.
    seams = {}
    for side, neck in ((-1, neck_pts[0]), (1, neck_pts[1])):
        tip = shoulders[side]
        seam, depth = _top_corner(top, neck, tip, side, h)
        chord = float(np.hypot(*(tip - np.asarray(neck))))
        lower, outer = tip[1] - seam[1], side * (tip[0] - seam[0])
        if depth < MIN_TIER_CORNER * chord or lower < MIN_TIER_DROP * gh or outer <= 0:
            return None
        seams[side] = seam
    return _read_by_shoulders(fg, frame, seams)


def _read_by_shoulders(
    fg: np.ndarray, frame: tuple, shoulders: dict[int, np.ndarray]
) -> GarmentGeometry | None:
    """`_merged_sleeves`' reading from its shoulder corners (viewer's left -1, right +1),
    or None when they do not give a top with long sleeves merged with its body."""
    h, w = fg.shape
    y0, _, gh, hem_y, _, top, neck_pts, cx, icx = frame
    out = {side: side * (shoulders[side][0] - cx) for side in (-1, 1)}
    near = min(out, key=out.get)
    if out[-near] > MAX_SHOULDER_ASYMMETRY * out[near]:
        g = shoulders[near]
        shoulders[-near] = np.array([2.0 * cx - g[0], g[1]])
        out[-near] = out[near]
    neck_half = (neck_pts[1][0] - neck_pts[0][0]) / 2
    if neck_half < MIN_NECK_HALF * gh or min(out.values()) < MIN_SHOULDER_PER_NECK * neck_half:
        return None
    drop = max(shoulders[s][1] - neck[1] for s, neck in ((-1, neck_pts[0]), (1, neck_pts[1])))
    if drop > MAX_MERGED_SHOULDER_DROP * gh:
        return None
    sh_y = (shoulders[-1][1] + shoulders[1][1]) / 2
    ap_y = sh_y + OVERLAP_ARMPIT_DEPTH * max(hem_y - sh_y, 1.0)
    if max(_armhole_sag(fg, top, shoulders[side], ap_y, icx, side) for side in (-1, 1)) > (
        MAX_MERGED_SAG
    ):
        return None
    lines = {side: (float(shoulders[side][0]), 0.0) for side in (-1, 1)}
    geom = GarmentGeometry(
        w,
        h,
        float(cx),
        (float(cx), float(top[icx]) if top[icx] < h else float(y0)),
        neck_pts[0],
        neck_pts[1],
        _pt(shoulders[-1]),
        _pt(shoulders[1]),
        (lines[-1][0], ap_y),
        (lines[1][0], ap_y),
        (lines[-1][0], float(hem_y)),
        (lines[1][0], float(hem_y)),
        lines[-1],
        lines[1],
        "sleeveless",
        None,
        None,
    )
    cols = np.arange(w, dtype=np.float64)[None, :]
    length = max(hem_y - sh_y, 1.0)
    sleeves: dict[int, Sleeve | None] = {}
    above = np.arange(y0, int(ap_y) + 1)
    for side in (-1, 1):
        # Only sleeves: each side reaches out past its line above the armpit (a rounded
        # sleeveless body bulging below it is not one) and hangs down at least as far as
        # a long sleeve does (a short sleeve beside a piece of backdrop is not one either).
        reach = side * (_outer_columns(fg, icx, side)[above] - lines[side][0])
        if not np.isfinite(reach).any() or np.nanmax(reach) <= MIN_MERGED_REACH * gh:
            return None
        bound = lines[side][0] + side * (1.0 + 0.01 * gh)
        outside = (cols < bound) if side < 0 else (cols > bound)
        part = _reaching_above(fg & outside, ap_y)
        armpit = np.array([lines[side][0], ap_y])
        sleeves[side] = _sleeve(part, shoulders[side], armpit, None, gh)
        if sleeves[side] is None or sleeves[side].length < LONG_SLEEVE * length:
            return None
    return replace(geom, sleeve="long", sleeve_left=sleeves[-1], sleeve_right=sleeves[1])


def _armhole_sag(
    fg: np.ndarray, top: np.ndarray, shoulder: np.ndarray, ap_y: float, icx: int, side: int
) -> float:
    """How far the top edge (`top`: first mask row per column) between a `shoulder` corner
    and the outline at row `ap_y` on `side` lies below the chord joining them, on average,
    per the chord's drop: > 0 for a concave notch (an armhole), <= 0 for a convex cap; 0
    when the outline there is not outside the corner (nothing to measure)."""
    row = min(max(round(ap_y), 0), fg.shape[0] - 1)
    ox = _outer_columns(fg, icx, side)[row]
    sx, sy = float(shoulder[0]), float(shoulder[1])
    drop = ap_y - sy
    if not np.isfinite(ox) or side * (ox - sx) < 2 or drop < 1:
        return 0.0
    xs = np.arange(round(sx), round(ox) + side, side)
    chord = sy + drop * (xs - sx) / (ox - sx)
    return float(np.mean(np.minimum(top[xs], ap_y) - chord) / drop)


def _rounded_sleeveless(fg: np.ndarray) -> GarmentGeometry | None:
    """The reading of a sleeveless top whose sides are curves, not lines (a halter or a
    cut-in armhole over a rounded body), from a (H, W) bool silhouette; None when it is not
    one.

    `_detect` follows a straight side line up from the hem; a rounded side leaves any such
    line at once. Here each side's outline is followed down from the neck band's narrowest
    row to the row where the garment is widest: it must widen all the way (no sleeve steps
    out of it), and the armpit is its knee, the point farthest outside the chord between
    the two (the armhole curving in above it, the body's side below it). The side line
    runs from the armpit to the widest point.
    """
    h, w = fg.shape
    frame = _second_reading_frame(fg)
    if frame is None:
        return None
    y0, y1, gh, hem_y, bx, top, neck_pts, cx, icx = frame
    left, right = _centre_runs(fg, bx)
    if not (np.isfinite(left[hem_y]) and np.isfinite(right[hem_y])):
        return None
    sides = {}
    for side, neck in ((-1, neck_pts[0]), (1, neck_pts[1])):
        outer = side * (_outer_columns(fg, icx, side) - cx)  # distance out from the centre
        rows = np.arange(round(neck[1]), y1 + 1)
        d = outer[rows]
        if not np.isfinite(d).all():
            return None
        wide = int(np.argmax(d))
        if not 0.35 * gh <= rows[wide] - y0 <= 0.9 * gh:
            return None
        # from the narrowest row of the neck band or straps (a tie or a bow above it may be
        # wider) widening all the way down to the widest row: no sleeve, no step
        skip = int(0.05 * gh)  # (the tip of a tie or a strap at the very top)
        start = skip + int(np.argmin(d[skip : max(skip + 1, int(0.3 * gh))]))
        run = np.maximum.accumulate(d[start : wide + 1])
        if np.any(run - d[start : wide + 1] > 0.02 * gh):
            return None
        p = np.stack([d[start : wide + 1], rows[start : wide + 1].astype(np.float64)], 1)
        q0, q1 = p[0], p[-1]
        chord = q1 - q0
        off = (p - q0) @ (np.array([chord[1], -chord[0]]) / max(np.hypot(*chord), 1e-6))
        k = int(np.argmax(off))  # outside the chord: towards larger distance, higher up
        if off[k] < 0.02 * gh:
            return None  # a straight flank: nothing rounded to read (and _detect refused)
        ax, ay = cx + side * p[k, 0], p[k, 1]
        wx, wy = cx + side * p[-1, 0], p[-1, 1]
        b = (wx - ax) / max(wy - ay, 1.0)
        line = (float(ax - b * ay), float(b))
        shoulder = _shoulder(top, neck, np.array([ax, ay]), side, h)
        sides[side] = (line, np.array([ax, ay]), shoulder)
    return GarmentGeometry(
        w,
        h,
        float(cx),
        (float(cx), float(top[icx]) if top[icx] < h else float(y0)),
        neck_pts[0],
        neck_pts[1],
        _pt(sides[-1][2]),
        _pt(sides[1][2]),
        _pt(sides[-1][1]),
        _pt(sides[1][1]),
        (float(left[hem_y]), float(hem_y)),
        (float(right[hem_y]), float(hem_y)),
        sides[-1][0],
        sides[1][0],
        "sleeveless",
        None,
        None,
    )


def _pt(p: np.ndarray) -> Point:
    return (float(p[0]), float(p[1]))


def _sleeve(
    part: np.ndarray,
    shoulder: np.ndarray,
    armpit: np.ndarray,
    separation: np.ndarray | None,
    gh: int,
) -> Sleeve | None:
    ys, xs = np.nonzero(part)
    if ys.size < 8:
        return None
    pts = np.stack([xs, ys], 1).astype(np.float64)
    c0 = (np.asarray(shoulder) + np.asarray(armpit)) / 2
    d = pts.mean(0) - c0
    for _ in range(2):
        d = d / max(np.hypot(*d), 1e-9)
        t = (pts - c0) @ d
        t_max = float(np.percentile(t, 99.7))
        band = pts[t >= t_max - 0.015 * gh]
        end = band.mean(0)
        d = end - c0
    d = d / max(np.hypot(*d), 1e-9)
    n = np.array([-d[1], d[0]])
    if (np.asarray(shoulder) - c0) @ n < 0:
        n = -n  # n points to the shoulder's (outer) side
    t = (pts - c0) @ d
    v = (pts - c0) @ n
    t_max = float(np.percentile(t, 99.7))
    near = (t >= t_max - 0.05 * gh) & (t <= t_max - 0.01 * gh)
    if near.sum() < 2:
        near = t >= t_max - 0.05 * gh
    hw_out, hw_in = float(v[near].max()), float(-v[near].min())
    # Corners: the farthest pixels along the axis on each edge of the sleeve (the cuff
    # is often cut at an angle to the axis).
    mid = (hw_out - hw_in) / 2
    corners = []
    for sel in (v >= mid + 0.6 * (hw_out - mid), v <= mid - 0.6 * (mid + hw_in)):
        if not sel.any():
            sel = v >= mid if len(corners) == 0 else v <= mid
        i = int(np.argmax(np.where(sel, t, -np.inf)))
        corners.append(pts[i])
    cuff_o, cuff_i = corners
    if separation is None:
        return Sleeve(_pt(shoulder), _pt(armpit), _pt(cuff_o), _pt(cuff_i))
    # The hidden inner edge: from the cuff's inner corner through the separation point, up
    # to a little below the shoulder's height (a sleeve's root is about level).
    edge = np.asarray(separation) - cuff_i
    plain = Sleeve(_pt(shoulder), _pt(armpit), _pt(cuff_o), _pt(cuff_i))
    # The inner edge of a hanging sleeve runs up the body, steeper than 60 degrees from
    # the horizontal (a sleeve that points sideways or up is not lying on the body: the
    # low "armpit" was a fold or a mask error), and its root is no wider than the body.
    if edge[1] > -1e-6 or abs(edge[1]) < 1.7 * abs(edge[0]):
        return plain
    y_root = float(shoulder[1]) + 0.04 * gh
    root_in = cuff_i + edge * (y_root - cuff_i[1]) / edge[1]
    if float(np.hypot(*(root_in - np.asarray(shoulder)))) > 0.35 * gh:
        return plain
    return Sleeve(_pt(shoulder), _pt(root_in), _pt(cuff_o), _pt(cuff_i), _pt(separation))


def _beyond(xs: np.ndarray, ys: np.ndarray, p: np.ndarray, q: np.ndarray, ref: np.ndarray):
    """Pixels on the same side of the line p-q as the point `ref`."""
    cross = (q[0] - p[0]) * (ys - p[1]) - (q[1] - p[1]) * (xs - p[0])
    sign = np.sign((q[0] - p[0]) * (ref[1] - p[1]) - (q[1] - p[1]) * (ref[0] - p[0])) or 1.0
    return cross * sign > 0


def inner_back(mask: np.ndarray, geom: GarmentGeometry) -> np.ndarray:
    """(H, W) bool: the inside of the garment's back seen through its front neckline.

    A product photo laid flat or on a ghost mannequin shows the back of the neckline (and
    often its label) through the front opening; on a person that fabric is behind the neck,
    and drawn it covers the neck up to the chin. When the top edge at the centre is the
    back's shallow curve (`BACK_SHOWS_DIP`), the front neckline is taken as a crew neck's
    (`FRONT_DROP` below the neck sides, an elliptical curve between them) and the garment
    above it is the inside of the back. `mask`: (H, W) uint8 {0, 255} on `geom`'s canvas.
    """
    h, w = mask.shape
    out = np.zeros((h, w), bool)
    (xl, yl), (xr, yr) = geom.neck_left, geom.neck_right
    half = (xr - xl) / 2
    if half < 2 or 2 * half > MAX_NECK_TO_CHEST * 2 * geom.chest_half_width:
        return out
    ny = (yl + yr) / 2
    if geom.neck_centre[1] - ny > BACK_SHOWS_DIP * 2 * half:
        return out
    cx = (xl + xr) / 2
    x0, x1 = max(0, int(np.floor(xl))), min(w, int(np.ceil(xr)) + 1)
    y0, y1 = (
        max(0, int(np.floor(min(yl, yr)))),
        min(h, int(np.ceil(ny + FRONT_DROP * 2 * half)) + 1),
    )
    if x1 <= x0 or y1 <= y0:
        return out
    xs = np.arange(x0, x1, dtype=np.float64)
    u = np.clip((xs - cx) / half, -1.0, 1.0)
    front = ny + FRONT_DROP * 2 * half * np.sqrt(1.0 - u**2)
    ys = np.arange(y0, y1, dtype=np.float64)[:, None]
    out[y0:y1, x0:x1] = (ys < front[None, :]) & (mask[y0:y1, x0:x1] >= 128)
    return out


def torso_and_sleeve_masks(
    mask: np.ndarray, geom: GarmentGeometry
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split an (H, W) uint8 {0, 255} garment mask (on the canvas `geom` describes) into
    its torso part and its left and right sleeves, each (H, W) uint8 {0, 255}.

    The torso part lies between the two boundaries of `GarmentGeometry.side_x`; a sleeve is
    what lies beyond its side's boundary, or, for a sleeve lying over the body, beyond its
    inner edge and its root (those pixels then belong to the torso part as well). A
    sleeveless side has nothing beyond its boundary but stray pixels, which stay with the
    torso.
    """
    h, w = mask.shape
    if (h, w) != (geom.height, geom.width):
        raise ValueError(
            f"mask {mask.shape} is not the geometry's canvas {geom.height}x{geom.width}"
        )
    full = mask > 0
    results = [np.zeros((h, w), np.uint8) for _ in range(3)]
    rows, cols = np.flatnonzero(full.any(1)), np.flatnonzero(full.any(0))
    if rows.size == 0:
        return tuple(results)
    # Everything is decided per pixel of the mask and per connected piece of it: the
    # garment's bounding box is all there is to split (a canvas has wide empty margins).
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    fg = full[y0:y1, x0:x1]
    ys = np.arange(y0, y1, dtype=np.float64)[:, None]
    xs = np.arange(x0, x1, dtype=np.float64)[None, :]
    parts = []
    beyond_body = []
    for side, sl in ((-1, geom.sleeve_left), (1, geom.sleeve_right)):
        bound = geom.side_x(side, ys[:, 0])[:, None]
        out = (xs < bound) if side < 0 else (xs > bound)
        out = out & fg
        if sl is None:
            parts.append(np.zeros_like(fg))
            beyond_body.append(np.zeros_like(fg))
            continue
        if not sl.overlaps_body:
            ap_y = (geom.armpit_left if side < 0 else geom.armpit_right)[1]
            # Below the armpit only what lies beyond the sleeve's inner edge is sleeve: the
            # torso's side there, outside a boundary drawn straighter than the garment's
            # side, went with the sleeve, whose warp folds it round the body's armpit (a
            # loop of the torso's colour inside a contrasting sleeve).
            ci, ri = np.asarray(sl.cuff_inner), np.asarray(sl.root_inner)
            if float(np.hypot(*(ci - ri))) > 1.0:
                on_sleeve = _beyond(xs, ys, ci, ri, np.asarray(sl.cuff_outer))
                out &= (ys <= ap_y) | on_sleeve
            out = _reaching_above(out, ap_y - y0)
        beyond_body.append(out)
        if sl.overlaps_body:
            ci, ri = np.asarray(sl.cuff_inner), np.asarray(sl.root_inner)
            ro, co = np.asarray(sl.root_outer), np.asarray(sl.cuff_outer)
            inner = _beyond(xs, ys, ci, ri, co)
            root = _beyond(xs, ys, ro, ri, sl.cuff_centre)
            out = out | (inner & root & fg)
        parts.append(out)
    torso = fg & ~beyond_body[0] & ~beyond_body[1]
    for res, part in zip(results, (torso, parts[0], parts[1]), strict=True):
        res[y0:y1, x0:x1] = part.view(np.uint8) * np.uint8(255)
    return tuple(results)
