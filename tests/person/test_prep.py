"""Person prep end to end: assets, precomputed VITON inputs, and every bad-input case."""

import io
import json
from importlib import resources

import cv2
import numpy as np
import pytest
from PIL import Image

from vton.imageio import decode_image, encode_image
from vton.person.frame import Frame
from vton.person.keypoints import BODY25, COCO18
from vton.person.labels import encode_labels
from vton.person.pose import MediaPipePoseEstimator
from vton.person.prep import MIN_PERSON_SIDE, load_person_asset, prepare_person
from vton.person.synthetic import synthetic_person
from vton.schemas import PersonRow
from vton.storage import Store

ASTRONAUT = (resources.files("vton") / "sample_data" / "persons" / "astronaut.jpg").read_bytes()
LIMITS = {"max_side": 1024, "max_pixels": 64_000_000}


class NoModel:
    """An estimator that must not be called: every input is precomputed."""

    id = "no-model"

    def estimate(self, rgb, item):
        raise AssertionError("the pose model ran although pose and parse files were given")


class FixedParser:
    def __init__(self, pid="fixed-1"):
        self.id = pid

    def parse(self, rgb, pose, item):
        return np.where(pose.mask > 0, 5, 0).astype(np.uint8)


@pytest.fixture(scope="module")
def estimator():
    return MediaPipePoseEstimator()


def _store(name):
    return Store(f"memory://person-prep-{name}")


def _viton_person(tmp_path, name="p1", size=(512, 384), body25=False, **kw):
    """A synthetic person saved as photo + OpenPose JSON + palette parse PNG (VITON layout)."""
    sp = synthetic_person(*size, **kw)
    img = tmp_path / f"{name}.jpg"
    img.write_bytes(encode_image(sp.image, "jpg", quality=95))
    kp = sp.keypoints
    if body25:
        kp25 = np.zeros((25, 3), np.float32)
        for i, n in enumerate(COCO18):
            kp25[BODY25.index(n)] = kp[i]
        flat = kp25.ravel().tolist()
    else:
        flat = kp.ravel().tolist()
    pose = tmp_path / f"{name}_keypoints.json"
    pose.write_text(json.dumps({"people": [{"pose_keypoints_2d": flat}]}))
    parse = tmp_path / f"{name}.png"
    parse.write_bytes(encode_labels(sp.labels, palette=True))
    return sp, PersonRow(name, str(img), str(pose), str(parse))


def test_photo_gets_all_asset_files(tmp_path, estimator):
    path = tmp_path / "astro.jpg"
    path.write_bytes(ASTRONAUT)
    store = _store("photo")
    res = prepare_person(store, PersonRow("astro", str(path)), estimator, **LIMITS)
    assert res.status == "ok", res.error
    for f in ("image.jpg", "mask.png", "parse.png", "pose.json", "meta.json"):
        assert store.exists(f"{res.key}/{f}"), f
    asset = load_person_asset(store, res.key)
    assert asset.parse.shape == asset.mask.shape == asset.image.shape[:2]
    assert np.array_equal(asset.parse > 0, asset.mask > 0)
    # Cut off at the waist: hips and below are zeros, as CP-VTON expects; renderers are told.
    pose = json.loads(store.read_text(f"{res.key}/pose.json"))["people"][0]["pose_keypoints_2d"]
    assert all(v == 0 for v in pose[8 * 3 : 14 * 3])
    assert "hips-estimated" in res.notes
    fr = Frame.fit(*asset.image.shape[:2])
    assert np.allclose(asset.meta["keypoints_frame"], fr.points(asset.keypoints), atol=0.02)
    again = prepare_person(store, PersonRow("astro", str(path)), estimator, **LIMITS)
    assert again.key == res.key  # content-addressed: found, not redone
    other = prepare_person(
        store, PersonRow("astro", str(path)), estimator, parser=FixedParser(), **LIMITS
    )
    assert other.key != res.key  # another parser, another asset


@pytest.mark.parametrize("body25", [False, True])
def test_pose_and_parse_files_replace_the_models(tmp_path, body25):
    sp, row = _viton_person(tmp_path, body25=body25)
    store = _store(f"files-{body25}")
    res = prepare_person(store, row, NoModel(), **LIMITS)
    assert res.status == "ok", res.error
    assert {"pose-from-file", "parse-from-file"} <= set(res.notes)
    assert ("pose-body25" in res.notes) == body25
    asset = load_person_asset(store, res.key)
    assert np.array_equal(asset.parse, sp.labels)
    assert np.allclose(asset.keypoints, sp.keypoints, atol=0.01)
    assert np.array_equal(asset.mask > 0, sp.labels > 0)
    assert asset.meta["estimator"] is None and asset.meta["parser"] is None


def test_pose_file_alone_still_estimates_the_mask_and_labels(tmp_path, estimator):
    path = tmp_path / "astro.jpg"
    path.write_bytes(ASTRONAUT)
    kp = np.zeros((18, 3), np.float32)
    kp[[1, 2, 5]] = [(210, 250, 1), (110, 245, 1), (305, 255, 1)]
    pose = tmp_path / "astro_keypoints.json"
    pose.write_text(json.dumps({"people": [{"pose_keypoints": kp.ravel().tolist()}]}))
    res = prepare_person(
        _store("pose-only"), PersonRow("astro", str(path), str(pose)), estimator, **LIMITS
    )
    assert res.status == "ok" and "pose-from-file" in res.notes
    assert "parse-from-file" not in res.notes


def test_parse_file_of_another_shape_is_invalid(tmp_path):
    _, row = _viton_person(tmp_path)
    wrong = tmp_path / "wrong.png"
    wrong.write_bytes(encode_labels(np.zeros((100, 100), np.uint8)))
    bad = PersonRow(row.person_id, row.image, row.pose, str(wrong))
    res = prepare_person(_store("wrong-parse"), bad, NoModel(), **LIMITS)
    assert res.status == "invalid" and "parse file is 100x100, the photo 384x512" in res.error


def test_pose_with_shoulders_on_top_of_each_other_is_refused_as_not_a_front_view(tmp_path):
    """What a pose model gives for a photo cut off at the chin: both shoulders on one, the
    hips found. A garment sized from those shoulders would be a sliver on the body."""
    sp, row = _viton_person(tmp_path)
    kp = sp.keypoints.copy()
    mid = (kp[2, :2] + kp[5, :2]) / 2
    half = np.array([6.0, 0.0], np.float32)
    kp[2, :2], kp[5, :2] = mid - half, mid + half
    pose = tmp_path / "narrow_keypoints.json"
    pose.write_text(json.dumps({"people": [{"pose_keypoints_2d": kp.ravel().tolist()}]}))
    bad = PersonRow(row.person_id, row.image, str(pose), row.parse)
    res = prepare_person(_store("narrow"), bad, NoModel(), **LIMITS)
    assert res.status == "invalid"
    assert "shoulders 12 px apart" in res.error and "not a front view" in res.error
    # the same person with its own shoulders is fine
    assert prepare_person(_store("narrow-ok"), row, NoModel(), **LIMITS).status == "ok"


def test_no_person_is_invalid(tmp_path, estimator):
    path = tmp_path / "empty.jpg"
    path.write_bytes(encode_image(np.full((320, 240, 3), 180, np.uint8), "jpg"))
    res = prepare_person(_store("empty"), PersonRow("empty", str(path)), estimator, **LIMITS)
    assert res.status == "invalid" and "no person detected" in res.error


def test_tiny_photo_is_invalid_with_its_size(tmp_path, estimator):
    rgb = cv2.resize(decode_image(ASTRONAUT, "a").rgb, (40, 48), interpolation=cv2.INTER_AREA)
    path = tmp_path / "tiny.jpg"
    path.write_bytes(encode_image(rgb, "jpg"))
    res = prepare_person(_store("tiny"), PersonRow("tiny", str(path)), estimator, **LIMITS)
    assert res.status == "invalid"
    assert f"40x48, too small to find a person in (at least {MIN_PERSON_SIDE} px" in res.error


def test_small_photo_is_used_and_noted(tmp_path):
    _, row = _viton_person(tmp_path, size=(160, 120))
    res = prepare_person(_store("small"), row, NoModel(), **LIMITS)
    assert res.status == "ok" and "low-resolution" in res.notes


def test_huge_photo_is_refused_before_decoding_and_large_is_reduced(tmp_path):
    sp, row = _viton_person(tmp_path, size=(1600, 1200))
    res = prepare_person(_store("huge"), row, NoModel(), max_side=1024, max_pixels=1_000_000)
    assert res.status == "invalid" and "over the limit of 1000000" in res.error
    store = _store("large")
    res = prepare_person(store, row, NoModel(), max_side=512, max_pixels=64_000_000)
    assert res.status == "ok", res.error
    asset = load_person_asset(store, res.key)
    assert asset.image.shape[:2] == (512, 384) and asset.parse.shape == (512, 384)
    assert np.allclose(asset.keypoints[:, :2], sp.keypoints[:, :2] * 0.32, atol=0.01)
    assert np.allclose(asset.meta["keypoints_source"], sp.keypoints, atol=0.02)


def test_several_people_use_the_largest_and_say_so(tmp_path, estimator):
    rgb = decode_image(ASTRONAUT, "a").rgb
    canvas = np.full((512, 900, 3), 230, np.uint8)
    canvas[:, :512] = rgb
    canvas[252:, 640:] = cv2.resize(rgb, (260, 260), interpolation=cv2.INTER_AREA)
    path = tmp_path / "two.png"
    buf = io.BytesIO()
    Image.fromarray(canvas).save(buf, format="PNG")
    path.write_bytes(buf.getvalue())
    store = _store("two")
    res = prepare_person(store, PersonRow("two", str(path)), estimator, **LIMITS)
    assert res.status == "ok" and "several-persons" in res.notes
    kp = load_person_asset(store, res.key).keypoints
    assert 150 < kp[0, 0] < 300  # the big astronaut's nose, not the small one's (~770)


def test_unreadable_pose_file_fails_the_item_not_the_run(tmp_path):
    _, row = _viton_person(tmp_path)
    bad = PersonRow(row.person_id, row.image, str(tmp_path / "missing.json"), row.parse)
    res = prepare_person(_store("missing"), bad, NoModel(), **LIMITS)
    assert res.status == "failed" and "cannot read input" in res.error


def test_directory_is_invalid_and_missing_photo_is_failed(tmp_path, estimator):
    """A path that can never be a file is permanent (`invalid`, left alone by rerun-failed);
    a photo not there yet is transient (`failed`, retried)."""
    (tmp_path / "folder.jpg").mkdir()
    res = prepare_person(
        _store("dir"), PersonRow("dir", str(tmp_path / "folder.jpg")), estimator, **LIMITS
    )
    assert res.status == "invalid" and "IsADirectoryError" in res.error
    res = prepare_person(
        _store("gone"), PersonRow("gone", str(tmp_path / "later.jpg")), estimator, **LIMITS
    )
    assert res.status == "failed" and "FileNotFoundError" in res.error
