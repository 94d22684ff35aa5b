"""Human parsing: the MediaPipe-based LIP estimate and the ONNX parser interface."""

from importlib import resources

import numpy as np
import pytest

from tests.onnx_builder import conv1x1_model
from vton.errors import CheckpointError
from vton.geometry.capsules import capsule_mask
from vton.imageio import decode_image
from vton.person.labels import LIP, NECK
from vton.person.parsing import (
    MediaPipeParser,
    OnnxHumanParser,
    _limbs,
    estimate_labels,
    face_ellipse,
    fit_labels_to_mask,
    make_parser,
)
from vton.person.pose import MediaPipePoseEstimator, PoseResult
from vton.person.synthetic import synthetic_person

ASTRONAUT = (resources.files("vton") / "sample_data" / "persons" / "astronaut.jpg").read_bytes()


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


@pytest.mark.parametrize("sleeves", ["short", "long"])
def test_rules_recover_a_drawn_person_given_its_pose(sleeves):
    sp = synthetic_person(sleeves=sleeves)
    est = estimate_labels(sp.image, sp.mask, sp.keypoints, face_ellipse(sp.keypoints))
    assert np.array_equal(est > 0, sp.mask > 0)  # body shape = person mask, exactly
    for name, least in [("face", 0.8), ("hair", 0.5), ("upper-clothes", 0.9), ("pants", 0.85),
                        ("left-arm", 0.8), ("right-arm", 0.8)]:  # fmt: skip
        lab = LIP[name]
        assert iou(est == lab, sp.labels == lab) >= least, name
    assert iou(est == NECK, sp.labels == NECK) >= 0.5
    # The person's left arm is on the viewer's right for a person facing the camera.
    lx = np.nonzero(est == LIP["left-arm"])[1].mean()
    rx = np.nonzero(est == LIP["right-arm"])[1].mean()
    assert lx > rx
    never = [3, 4, 6, 7, 8, 10, 11]  # not estimable from these models
    assert not (est == LIP["skirt"]).any()  # trousers: the legs part inside them
    assert not np.isin(est, never).any()


def test_waist_up_photo_has_no_pants_and_empty_mask_is_background():
    sp = synthetic_person()
    kp = sp.keypoints.copy()
    kp[8:14] = 0  # hips, knees, ankles cut off
    est = estimate_labels(sp.image, sp.mask, kp, face_ellipse(kp))
    assert not (est == LIP["pants"]).any() and (est == LIP["upper-clothes"]).any()
    blank = estimate_labels(sp.image, np.zeros_like(sp.mask), kp, None)
    assert not blank.any()


def test_grey_photo_labels_hands_only():
    sp = synthetic_person(sleeves="short")
    grey = np.repeat(sp.image.mean(2, keepdims=True).astype(np.uint8), 3, axis=2)
    est = estimate_labels(grey, sp.mask, sp.keypoints, face_ellipse(sp.keypoints))
    arms_y = np.nonzero(np.isin(est, (LIP["left-arm"], LIP["right-arm"])))[0]
    wrists_y = sp.keypoints[[4, 7], 1]
    assert len(arms_y) > 0 and arms_y.min() > sp.keypoints[[3, 6], 1].max()  # below the elbows
    hands = est[int(wrists_y.mean()) + 10, :]
    assert (hands == LIP["left-arm"]).any() and (hands == LIP["right-arm"]).any()
    assert not np.isin(est, (LIP["left-leg"], LIP["right-leg"], NECK)).any()


def test_limb_capsules_have_whole_pixel_radii():
    # The rules draw limbs 2 * round(r) px wide (as they always have): the label maps do not
    # depend on the fraction of a pixel in a radius.
    p, q, origin = np.array([14.0, 9.0]), np.array([33.0, 27.0]), np.array([2.0, 1.0])
    for r, whole in ((1.4, 1), (2.6, 3), (0.2, 1), (4.0, 4)):
        limb = _limbs((40, 40), [(p, q, r)], origin)
        assert np.array_equal(limb, capsule_mask((40, 40), [(p, q, whole)], origin)), r
    assert not np.array_equal(
        _limbs((40, 40), [(p, q, 1.4)], origin), capsule_mask((40, 40), [(p, q, 1.4)], origin)
    )


def test_fit_labels_to_mask_fills_and_clears():
    small = np.zeros((10, 8), np.uint8)
    small[2:8, 2:6] = 5
    mask = np.zeros((20, 16), np.uint8)
    mask[3:17, 3:13] = 255
    big = fit_labels_to_mask(small, mask)
    assert np.array_equal(big > 0, mask > 0) and set(np.unique(big)) == {0, 5}


@pytest.fixture(scope="module")
def astronaut():
    rgb = decode_image(ASTRONAUT, "astronaut").rgb
    return rgb, MediaPipePoseEstimator().estimate(rgb, "astronaut")


def test_mediapipe_parse_of_a_photo(astronaut):
    rgb, pose = astronaut
    parser = MediaPipeParser()
    outline = parser.face_outline(rgb, pose)
    assert outline is not None and outline.shape == (36, 2)
    nose = pose.keypoints[0, :2]
    assert (outline.min(0) < nose).all() and (nose < outline.max(0)).all()
    lab = parser.parse(rgb, pose, "astronaut")
    assert lab.shape == rgb.shape[:2] and lab.dtype == np.uint8
    assert np.array_equal(lab > 0, pose.mask > 0)
    assert lab[int(nose[1]), int(nose[0])] == LIP["face"]
    face_y = np.nonzero(lab == LIP["face"])[0]
    hair_y = np.nonzero(lab == LIP["hair"])[0]
    assert hair_y.min() < face_y.min()  # hair above the face
    neck = pose.keypoints[1]
    assert lab[int(neck[1]) + 20, int(neck[0])] == LIP["upper-clothes"]  # the suit
    assert (lab == LIP["upper-clothes"]).sum() > 0.5 * (lab > 0).sum()


def test_mediapipe_parse_without_a_face_mesh_falls_back_to_keypoints(astronaut):
    rgb, pose = astronaut
    kp = pose.keypoints.copy()
    blind = PoseResult(kp, pose.mask, (), ())
    parser = MediaPipeParser()
    parser.face_outline = lambda rgb, pose: None  # as if the mesh found no face
    lab = parser.parse(rgb, blind, "astronaut")
    nose = kp[0, :2]
    assert lab[int(nose[1]), int(nose[0])] == LIP["face"]


# -- ONNX ---------------------------------------------------------------------------------


def _model(tmp_path, label_set="lip", argmax=False, hw=(64, 64)):
    """1x1 conv: strongly red -> upper-clothes, strongly blue -> pants, else background."""
    c = 20 if label_set == "lip" else 18
    w, b = np.zeros((c, 3), np.float32), np.zeros(c, np.float32)
    up, pants = (5, 9) if label_set == "lip" else (4, 6)
    w[up] = (10, 0, 0)
    w[pants] = (0, 0, 10)
    b[0] = 5
    path = tmp_path / f"parser-{label_set}-{argmax}.onnx"
    path.write_bytes(conv1x1_model(w, b, hw, argmax=argmax))
    return path


def _photo():
    rgb = np.zeros((120, 80, 3), np.uint8)  # not the model's aspect ratio: letterboxed
    rgb[10:50, 20:60] = (255, 0, 0)
    rgb[70:110, 10:70] = (0, 0, 255)
    return rgb


@pytest.mark.parametrize(("label_set", "argmax"), [("lip", False), ("atr", False), ("lip", True)])
def test_onnx_parser_maps_back_to_the_photo(tmp_path, label_set, argmax):
    parser = OnnxHumanParser(
        _model(tmp_path, label_set, argmax),
        mean=(0, 0, 0),
        std=(1, 1, 1),
        channel_order="rgb",
        label_set=label_set,
    )
    assert parser.input_size == (64, 64) and parser.id.startswith(f"onnx-{label_set}-")
    lab = parser.parse(_photo(), None, "p")
    assert lab.shape == (120, 80)
    want = np.zeros((120, 80), np.uint8)
    want[10:50, 20:60] = LIP["upper-clothes"]
    want[70:110, 10:70] = LIP["pants"]
    assert (lab == want).mean() > 0.97  # only edge pixels may differ after resizing
    assert (lab[15:45, 25:55] == 5).all() and (lab[75:105, 15:65] == 9).all()


def test_onnx_parser_channel_order_matters(tmp_path):
    bgr = OnnxHumanParser(_model(tmp_path), mean=(0, 0, 0), std=(1, 1, 1), channel_order="bgr")
    lab = bgr.parse(_photo(), None, "p")
    assert (lab[15:45, 25:55] == LIP["pants"]).all()  # red fed as the third channel


def test_onnx_parser_errors(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        OnnxHumanParser(tmp_path / "missing.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"this is not a protobuf")
    with pytest.raises(CheckpointError, match="not a loadable ONNX model"):
        OnnxHumanParser(junk)
    dynamic = _model(tmp_path, hw=("H", "W"))
    with pytest.raises(CheckpointError, match="give input_size"):
        OnnxHumanParser(dynamic)
    assert OnnxHumanParser(dynamic, input_size=(32, 32)).input_size == (32, 32)
    with pytest.raises(ValueError, match="channel_order"):
        OnnxHumanParser(dynamic, input_size=(32, 32), channel_order="rbg")


def test_make_parser(tmp_path):
    assert isinstance(make_parser(None), MediaPipeParser)
    assert make_parser("estimate") is make_parser(None)
    onnx = make_parser(str(_model(tmp_path)), mean=(0, 0, 0), std=(1, 1, 1))
    assert isinstance(onnx, OnnxHumanParser)
