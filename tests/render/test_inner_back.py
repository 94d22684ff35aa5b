"""The inside of the back seen through a tee's front neckline in its product photo: found on
the canvas, and not drawn over the person's neck."""

from __future__ import annotations

import cv2
import numpy as np

from tests.render.helpers import PersonSpec, person_asset
from vton.cloth.landmarks import garment_landmarks
from vton.cloth.prep import ClothAsset
from vton.render import physical
from vton.render.base import RenderRequest
from vton.render.front_neckline import inside_of_back
from vton.render.garment_geometry import garment_geometry, inner_back
from vton.render.physical import PhysicalRenderer

H, W = 512, 512
TOP, BOTTOM = 40, 472


def _tee(neck_dip: float, neck_half: float = 0.12, h: int = H, w: int = W) -> np.ndarray:
    """A tee (right half mirrored, garment units) whose top edge curves down from the neck
    sides to `neck_dip` below them at the centre."""
    right = [(0, neck_dip), (0.5 * neck_half, 0.8 * neck_dip), (0.85 * neck_half, 0.4 * neck_dip),
             (neck_half, 0.0), (0.3, 0.07), (0.5, 0.3), (0.4, 0.36), (0.3, 0.27), (0.3, 1.0),
             (0, 1.0)]  # fmt: skip
    scale, top = (BOTTOM - TOP) * h / H, TOP * h / H
    r = np.array([(w / 2 + x * scale, top + y * scale) for x, y in right])
    left = r[::-1].copy()
    left[:, 0] = w - left[:, 0]
    m = np.zeros((h, w), np.uint8)
    cv2.fillPoly(m, [np.round(np.concatenate([r, left]) * 16).astype(np.int32)], 255, 8, 4)
    return m


def test_back_of_a_crew_neck_showing_through_the_front_is_found():
    m = _tee(0.03)  # the back's shallow curve: the photo shows the inside of the back
    g = garment_geometry(m, "ghost-mannequin tee")
    (xl, yl), (xr, yr) = g.neck_left, g.neck_right
    scale = BOTTOM - TOP
    assert xr - xl >= 0.8 * 0.24 * scale  # the neck sides are found where the collar is
    cap = inner_back(m, g)
    assert cap.any() and not (cap & (m == 0)).any()
    ys, xs = np.nonzero(cap)
    # between the neck sides, from the top edge down to a crew neck's front drop
    assert xs.min() >= xl - 1 and xs.max() <= xr + 1
    assert abs(ys.max() - ((yl + yr) / 2 + 0.45 * (xr - xl))) <= 3
    # deepest at the centre, shallow towards the sides
    assert cap[:, W // 2].sum() > 2 * cap[:, round(xr - 0.03 * (xr - xl))].sum()
    # the body below stays garment
    assert not cap[round(TOP + 0.3 * scale), W // 2]


def test_a_front_neckline_that_is_the_top_edge_has_no_inside_back():
    # a scoop or V whose top edge at the centre is the front itself (deep below the sides)
    assert not inner_back(_tee(0.15), garment_geometry(_tee(0.15))).any()
    # an off-shoulder top's "neck" is its whole top edge
    wide = _tee(0.03, neck_half=0.28)
    assert not inner_back(wide, garment_geometry(wide)).any()


def test_inside_of_the_back_is_not_drawn_over_the_neck():
    m = _tee(0.03, h=1024, w=768)
    g = garment_geometry(m)
    cap = inner_back(m, g)
    image = np.full((1024, 768, 3), 255, np.uint8)
    image[m > 0] = (200, 30, 60)
    inside = (120, 120, 120)  # the grey inside of the back, with its label
    image[cap] = inside
    cloth = ClothAsset(image, m, garment_landmarks(m), {"product_id": "ghost-tee"})
    pa, _ = person_asset(PersonSpec(512, 384, arm_angle=20))
    out = PhysicalRenderer().render_one(RenderRequest("pair", cloth, pa)).tryon
    grey = np.abs(out.astype(np.int16) - np.array(inside)).max(-1) <= 25
    front = np.abs(out.astype(np.int16) - np.array((200, 30, 60))).max(-1) <= 40
    assert front.sum() > 5000  # the tee is drawn ...
    assert grey.sum() < 20  # ... without the inside of its back


def _photo(m: np.ndarray, fabric=(235, 235, 232)) -> np.ndarray:
    image = np.full((*m.shape, 3), 255, np.uint8)
    image[m > 0] = fabric
    return image


def _inside_above(m: np.ndarray, g, depth: float) -> np.ndarray:
    """Mask pixels above an elliptical front neckline `depth` neck half widths below the
    neck sides, between them: the inside of the back a photo shows."""
    (xl, yl), (xr, yr) = g.neck_left, g.neck_right
    half, cx, ny = (xr - xl) / 2, (xl + xr) / 2, (yl + yr) / 2
    ys, xs = np.mgrid[: m.shape[0], : m.shape[1]].astype(np.float64)
    u = np.clip((xs - cx) / half, -1, 1)
    front = ny + depth * half * np.sqrt(1 - u**2)
    return (ys < front) & (np.abs(xs - cx) < half) & (m > 0)


def test_a_deeper_inside_the_photo_shows_is_found_whole():
    # a ghost mannequin's grey crescent reaching well below a crew neck's front drop
    m = _tee(0.03)
    g = garment_geometry(m)
    grey = _inside_above(m, g, 1.3)
    image = _photo(m)
    image[grey] = (150, 150, 152)
    found = inside_of_back(image, m, g)
    silhouette = inner_back(m, g)
    assert grey.sum() > 1.3 * silhouette.sum()  # the crew estimate leaves part of it
    assert (found & grey).sum() >= 0.95 * grey.sum()
    assert (found & ~grey).sum() <= 0.03 * grey.sum()  # the front stays garment


def test_a_tanks_lining_through_a_scoop_is_found():
    # the top edge at the centre is the back, well below the sides: no crew estimate,
    # but the photo shows the grey lining down to the front neckline
    m = _tee(0.08)
    g = garment_geometry(m)
    assert not inner_back(m, g).any()
    lining = _inside_above(m, g, 1.2)
    image = _photo(m)
    image[lining] = (140, 142, 140)
    found = inside_of_back(image, m, g)
    assert (found & lining).sum() >= 0.95 * lining.sum()
    assert (found & ~lining).sum() <= 0.03 * lining.sum()
    # without a lining, the same scoop's top edge is its front: nothing is taken
    assert not inside_of_back(_photo(m), m, g).any()


def test_stripes_and_prints_at_the_neck_are_not_taken_for_the_inside():
    m = _tee(0.03)
    g = garment_geometry(m)
    image = _photo(m)
    rows = (np.arange(H) // 6) % 2 == 0
    image[rows[:, None] & (m > 0)] = (30, 30, 40)  # a breton stripe across the neckline
    assert (inside_of_back(image, m, g) == inner_back(m, g)).all()
    # a dark print below the neckline, not reaching the neck sides
    image = _photo(m)
    (xl, yl), (xr, _) = g.neck_left, g.neck_right
    cx, half = round((xl + xr) / 2), (xr - xl) / 2
    y = round(yl + 0.9 * half)
    image[y : y + round(half), cx - round(0.5 * half) : cx + round(0.5 * half)] = (40, 30, 120)
    assert (inside_of_back(image, m, g) == inner_back(m, g)).all()


def test_the_backs_neckband_left_beside_the_inside_goes_with_it(monkeypatch):
    # the inside of the back found a few pixels below the silhouette's top edge: the thin
    # band of the back's neckline left above it would hang in the air on a person
    m = _tee(0.03)
    g = garment_geometry(m)
    inside = _inside_above(m, g, 1.3)
    top = np.argmax(m > 0, axis=0)  # the silhouette's top edge, per column
    band = inside & (np.arange(H)[:, None] < top[None] + 4)
    monkeypatch.setattr(physical, "inside_of_back", lambda rgb, mask, geom: inside & ~band)
    _, worn = physical._worn(ClothAsset(_photo(m), m, garment_landmarks(m), {}), "tee")
    assert band.sum() > 50
    assert (worn[band] > 0).sum() <= 0.05 * band.sum()
    # the front and the shoulders stay whole
    away = (m > 0) & ~cv2.dilate(inside.view(np.uint8), np.ones((25, 25), np.uint8)).astype(bool)
    assert (worn[away] > 0).all()
