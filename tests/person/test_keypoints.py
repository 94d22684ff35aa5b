"""OpenPose files in every layout VITON-family data uses: both keys, BODY_25, several people."""

import json

import numpy as np
import pytest

from vton.errors import InvalidInputError
from vton.person.keypoints import (
    BODY25,
    COCO18,
    body25_to_coco18,
    from_openpose_json,
    read_openpose,
    to_openpose_json,
)


def _body25_from(coco: np.ndarray) -> np.ndarray:
    """A BODY_25 array holding `coco`'s joints, with MidHip and feet filled with junk."""
    out = np.full((25, 3), 999.0, np.float32)
    for i, name in enumerate(COCO18):
        out[BODY25.index(name)] = coco[i]
    return out


def test_body25_converts_to_coco18_by_name():
    coco = np.arange(54, dtype=np.float32).reshape(18, 3)
    assert np.array_equal(body25_to_coco18(_body25_from(coco)), coco)
    text = json.dumps({"people": [{"pose_keypoints_2d": _body25_from(coco).ravel().tolist()}]})
    kp, notes = read_openpose(text)
    assert np.array_equal(kp, coco) and notes == ("pose-body25",)
    with pytest.raises(ValueError, match=r"\(25, 3\)"):
        body25_to_coco18(coco)


def test_both_keys_and_viton_layout_round_trip():
    kp = np.random.default_rng(0).uniform(2, 190, (18, 3)).astype(np.float32)
    kp[8] = 0
    for key in ("pose_keypoints_2d", "pose_keypoints"):
        text = to_openpose_json(kp, key)
        assert key in json.loads(text)["people"][0]
        assert np.allclose(from_openpose_json(text), kp, atol=1e-3)
    viton = json.loads(to_openpose_json(kp, "pose_keypoints"))
    assert viton["people"][0]["hand_left_keypoints"] == []  # VITON's own file layout
    with pytest.raises(ValueError, match="key"):
        to_openpose_json(kp, "keypoints")


def test_largest_of_several_people_is_kept():
    small = np.zeros((18, 3), np.float32)
    small[[0, 2, 5]] = [(10, 10, 1), (5, 20, 1), (15, 20, 1)]
    big = np.zeros((18, 3), np.float32)
    big[[0, 2, 5, 8]] = [(100, 50, 1), (60, 100, 1), (140, 100, 1), (70, 220, 1)]
    text = json.dumps({"people": [{"pose_keypoints": p.ravel().tolist()} for p in (small, big)]})
    kp, notes = read_openpose(text)
    assert np.array_equal(kp, big) and "several-persons" in notes


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ("not json", "not an OpenPose JSON"),
        ({"people": []}, "no person"),
        ({"people": [{"face_keypoints": []}]}, "no pose_keypoints"),
        ({"people": [{"pose_keypoints": list(range(45))}]}, r"45 numbers \(15 keypoints\)"),
        ({"people": [{"pose_keypoints": ["a"] * 54}]}, "not numbers"),
    ],
)
def test_unusable_files_are_invalid_with_a_reason(doc, reason):
    text = doc if isinstance(doc, str) else json.dumps(doc)
    with pytest.raises(InvalidInputError, match=reason):
        read_openpose(text, "person p1 pose file")
