"""The physical renderer on persons and garments of known geometry: what a shopper would
check (the garment covers the torso, keeps its colour and print, the face, hair and arms
stay, no old clothing shows) and what the pipeline relies on (photo-size output, clear
errors for pairs that cannot be dressed, a digest that changes with the algorithm)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.render.helpers import (
    PersonSpec,
    arm_region,
    ciede2000,
    cloth_asset,
    colour_delta_e,
    coverage_iou,
    flat_cloth_asset,
    person_asset,
    print_ssim,
    rgb_to_lab,
    torso_region,
)
from vton.cloth.prep import ClothAsset
from vton.errors import InvalidInputError
from vton.person.labels import LIP
from vton.person.prep import PersonAsset
from vton.render import physical
from vton.render.base import RenderOutput, RenderRequest
from vton.render.body import body_frame
from vton.render.garment_geometry import garment_geometry
from vton.render.physical import (
    PHYSICAL_VERSION,
    PhysicalRenderer,
    TorsoMeasure,
    measure_torso,
    plan_drape,
)
from vton.synthetic_garments import GarmentSpec

OLD_SHIRT = (40, 90, 160)  # vton.person.synthetic's default shirt colour


@pytest.fixture(scope="module")
def renderer() -> PhysicalRenderer:
    return PhysicalRenderer()


@pytest.fixture(scope="module")
def stripes() -> ClothAsset:
    return cloth_asset(
        GarmentSpec("tee-stripes", "tee", "stripes", (196, 32, 44), (246, 244, 238), seed=2)
    )


@pytest.fixture(scope="module")
def text_tee() -> ClothAsset:
    return cloth_asset(
        GarmentSpec("tee-text", "tee", "text", (235, 235, 235), (40, 40, 44), text="VTON", seed=3)
    )


def _render(renderer, cloth, spec: PersonSpec):
    pa, p = person_asset(spec)
    req = RenderRequest("pair", cloth, pa)
    return renderer.render_one(req), renderer.drape(req), p


def _old_shirt_pixels(img: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels within a few levels of the old shirt's colour."""
    return np.abs(img.astype(np.int16) - np.array(OLD_SHIRT)).max(-1) <= 12


@pytest.mark.parametrize("size", [(256, 192), (512, 384), (1024, 768)])
def test_garment_covers_the_torso(renderer, stripes, size):
    spec = PersonSpec(*size, arm_angle=25)
    out, _, p = _render(renderer, stripes, spec)
    iou, rendered, target = coverage_iou(out, spec, p)
    assert iou >= 0.88, iou
    # aligned, not just the right area: the garment's centre is on the body's centre line
    cx_r, cx_t = np.nonzero(rendered)[1].mean(), np.nonzero(target)[1].mean()
    assert abs(cx_r - cx_t) < 0.02 * size[1]


def test_output_is_at_the_person_photo_size(renderer, stripes):
    for h, w in ((300, 200), (517, 333), (900, 1200)):
        spec = PersonSpec(h, w, scale=0.85 if h < w else 0.9)
        out, _, _ = _render(renderer, stripes, spec)
        assert isinstance(out, RenderOutput)
        assert out.tryon.shape == (h, w, 3) and out.tryon.dtype == np.uint8
        assert out.warped_cloth.shape == (h, w, 3)
        assert out.composition_mask.shape == (h, w) and out.composition_mask.dtype == np.uint8


def test_flat_garment_keeps_its_colour_under_flat_light(renderer):
    colour = (60, 140, 90)
    spec = PersonSpec(512, 384)
    out, drape, p = _render(renderer, flat_cloth_asset("tee", colour), spec)
    assert colour_delta_e(out, p.labels, drape.body.sw) <= 1.0
    # and against the catalogue colour itself, in the middle of the chest
    inside = torso_region(spec) & ~arm_region(spec, p)
    inside = cv2.erode(inside.astype(np.uint8), np.ones((31, 31), np.uint8)).astype(bool)
    de = ciede2000(rgb_to_lab(out.tryon[inside]), rgb_to_lab(np.array(colour)))
    assert inside.sum() > 1000 and float(de.mean()) <= 2.0


def test_print_survives_the_drape(renderer, text_tee):
    spec = PersonSpec(512, 384, arm_angle=20)
    out, drape, p = _render(renderer, text_tee, spec)
    visible = ~arm_region(spec, p) & ~np.isin(p.labels, (LIP["face"], LIP["hair"]))
    assert print_ssim(out, drape, visible) >= 0.85
    # the chest is not bent: one affine map explains it
    assert print_ssim(out, drape, visible, rigid=True) >= 0.85


def test_face_and_hair_are_unchanged(renderer, stripes):
    spec = PersonSpec(512, 384)
    out, _, p = _render(renderer, stripes, spec)
    head = np.isin(p.labels, (LIP["face"], LIP["hair"])).astype(np.uint8)
    core = cv2.erode(head, np.ones((5, 5), np.uint8)).astype(bool)
    assert core.sum() > 500
    assert np.array_equal(out.tryon[core], p.image[core])


def test_arms_stay_in_front_of_the_garment(renderer, stripes):
    # Arms hanging close to the body: the forearms and hands overlap the torso's sides.
    spec = PersonSpec(512, 384, arm_angle=-4)
    out, _, p = _render(renderer, stripes, spec)
    skin = np.isin(p.labels, (LIP["left-arm"], LIP["right-arm"]))
    over_torso = skin & torso_region(spec)
    over_torso = cv2.erode(over_torso.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    assert over_torso.sum() > 200  # the pose does put arms over the torso
    diff = np.abs(out.tryon[over_torso].astype(int) - p.image[over_torso].astype(int))
    assert diff.max(-1).mean() < 6  # skin stays skin (a little contact shadow at most)
    assert out.composition_mask[over_torso].mean() < 0.1 * 255


@pytest.mark.parametrize(
    "garment",
    [
        pytest.param(("tank", 1.0), id="narrower: tank over a long-sleeved shirt"),
        pytest.param(("tee", 0.7), id="shorter: cropped tee"),
    ],
)
def test_old_garment_does_not_show_at_the_edges(renderer, garment):
    style, crop = garment
    spec = PersonSpec(512, 384, sleeves="long", arm_angle=25)
    pa, p = person_asset(spec)
    before = _old_shirt_pixels(p.image).sum()
    assert before > 5000
    out = renderer.render_one(
        RenderRequest("pair", flat_cloth_asset(style, (200, 60, 60), crop), pa)
    )
    left = _old_shirt_pixels(out.tryon)
    assert left.sum() <= 0.003 * before, left.sum()
    # where the old shirt was and the new garment is not, there is now skin or trousers
    bare = (p.labels == LIP["upper-clothes"]) & (out.composition_mask == 0)
    assert bare.sum() > 500
    colours = out.tryon[bare].astype(float)
    skin, pants = np.array((224, 172, 140)), np.array((50, 50, 60))
    near = np.minimum(np.abs(colours - skin).max(-1), np.abs(colours - pants).max(-1))
    assert np.mean(near < 60) > 0.9


def test_no_shoulders_is_an_invalid_input(renderer, stripes):
    pa, _ = person_asset(PersonSpec(512, 384))
    kp = pa.keypoints.copy()
    kp[5] = 0  # left shoulder not detected
    bad = PersonAsset(pa.image, pa.mask, kp, {}, pa.parse)
    outs = renderer.render_batch(
        [RenderRequest("bad", stripes, bad), RenderRequest("ok", stripes, pa)]
    )
    assert isinstance(outs[0], InvalidInputError) and "shoulders" in str(outs[0])
    assert isinstance(outs[1], RenderOutput)  # the other pair is still rendered
    with pytest.raises(InvalidInputError, match="too small"):
        kp2 = pa.keypoints.copy()
        kp2[5, :2] = kp2[2, :2] + 1
        body_frame(kp2)


def test_bad_garment_and_photo_raise_clear_errors(renderer, stripes):
    pa, _ = person_asset(PersonSpec(256, 192))
    empty = ClothAsset(stripes.image, np.zeros_like(stripes.mask), stripes.landmarks, {})
    with pytest.raises(InvalidInputError, match="empty"):
        renderer.render_one(RenderRequest("p", empty, pa))
    gray = PersonAsset(pa.image[..., 0], pa.mask, pa.keypoints, {}, pa.parse)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        renderer.render_one(RenderRequest("p", stripes, gray))
    with pytest.raises(ValueError, match="keypoints"):
        body_frame(np.zeros((17, 3)))
    with pytest.raises(ValueError, match="shading"):
        PhysicalRenderer(shading=-1)


def test_works_without_a_label_map(renderer, stripes):
    spec = PersonSpec(384, 288)
    pa, p = person_asset(spec)
    out = renderer.render_one(
        RenderRequest("p", stripes, PersonAsset(pa.image, pa.mask, pa.keypoints, {}, None))
    )
    assert coverage_iou(out, spec, p)[0] >= 0.8


def test_name_and_digest(renderer):
    assert renderer.name == "physical" and not renderer.uses_gpu
    d = renderer.model_digest
    assert d.startswith("weight-free:") and d == PhysicalRenderer().model_digest
    assert PhysicalRenderer(shading=0.5).model_digest != d
    assert renderer.model_id == f"physical-v{PHYSICAL_VERSION}" and renderer.model_id in d


def test_deterministic(renderer, stripes):
    pa, _ = person_asset(PersonSpec(256, 192))
    a = renderer.render_one(RenderRequest("p", stripes, pa))
    b = renderer.render_one(RenderRequest("p", stripes, pa))
    assert np.array_equal(a.tryon, b.tryon)


@pytest.mark.parametrize("size", [(256, 192), (1600, 1200)], ids=["garment reduced", "full canvas"])
def test_drape_measures_the_body_once(renderer, stripes, size, monkeypatch):
    calls = []

    def counted(body, labels):
        calls.append(labels.shape)
        return measure_torso(body, labels)

    monkeypatch.setattr(physical, "measure_torso", counted)
    pa, _ = person_asset(PersonSpec(*size))
    drape = renderer.drape(RenderRequest("p", stripes, pa))
    reduced = drape.garment.shape != stripes.image.shape
    assert reduced == (size == (256, 192))  # both paths of `drape` are exercised
    assert calls == [size]


def test_plan_follows_the_measured_torso(stripes):
    spec = PersonSpec(512, 384)
    pa, _ = person_asset(spec)
    body = body_frame(pa.keypoints)
    measure = measure_torso(body, pa.parse)
    assert measure.levels.shape == measure.half_left.shape == measure.half_right.shape == (6,)
    assert -0.2 * body.sw <= measure.seam_level <= -0.03 * body.sw
    # the drawn torso is symmetric about the body's axis: so are its measured widths
    assert np.allclose(measure.half_left, measure.half_right, rtol=0.1)
    geom = garment_geometry(stripes.mask)
    plan = plan_drape(geom, body, measure)
    wide = TorsoMeasure(measure.seam_level, measure.levels,
                        measure.half_left * 1.3, measure.half_right * 1.3)  # fmt: skip
    wider = plan_drape(geom, body, wide)
    x0, _, x1, _ = plan.roi
    wx0, _, wx1, _ = wider.roi
    assert wx0 < x0 and wx1 > x1  # a broader body spreads the garment on both sides
    # sized from the body: a broader chest takes a bigger garment, which hangs lower too
    assert wider.scale > plan.scale and wider.hem_level > plan.hem_level
