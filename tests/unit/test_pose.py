"""MediaPipe's bundled pose model on the bundled public-domain photo (no download)."""

import json
from importlib import resources

import numpy as np
import pytest

from tests.conftest import blank_photo
from vton.errors import InvalidInputError
from vton.imageio import decode_image
from vton.person.keypoints import from_openpose_json, to_openpose_json
from vton.person.pose import FaceBox, MediaPipePoseEstimator, person_crop
from vton.person.prep import complete_torso

ASTRONAUT = (resources.files("vton") / "sample_data" / "persons" / "astronaut.jpg").read_bytes()


@pytest.fixture(scope="module")
def astronaut_pose():
    rgb = decode_image(ASTRONAUT, "astronaut").rgb
    return rgb, MediaPipePoseEstimator().estimate(rgb, "astronaut")


def test_coco18_order_and_sides(astronaut_pose):
    rgb, pose = astronaut_pose
    kp = pose.keypoints
    assert kp.shape == (18, 3) and kp.dtype == np.float32
    assert kp[0, 2] > 0 and kp[2, 2] > 0 and kp[5, 2] > 0  # nose and both shoulders
    assert kp[2, 0] < kp[5, 0]  # her right shoulder is on the viewer's left
    assert kp[14, 0] < kp[15, 0]  # right eye likewise
    assert np.allclose(kp[1, :2], (kp[2, :2] + kp[5, :2]) / 2)  # neck = shoulder midpoint
    assert kp[0, 1] < kp[1, 1]  # nose above neck
    # The photo ends at the waist: hips are not visible and are zeros, as in OpenPose.
    assert (kp[8] == 0).all() and (kp[11] == 0).all()
    assert pose.mask.shape == rgb.shape[:2] and set(np.unique(pose.mask)) <= {0, 255}
    assert pose.mask[int(kp[1, 1]), int(kp[1, 0])] == 255  # the neck is on the person


def test_torso_completion_places_hips_below_shoulders(astronaut_pose):
    _, pose = astronaut_pose
    done, notes = complete_torso(pose.keypoints)
    assert notes == ["hips-estimated"]
    assert done[8, 1] > pose.keypoints[2, 1] and done[8, 0] < done[11, 0]


def test_no_person_is_invalid(tmp_path):
    rgb = decode_image(blank_photo(tmp_path / "b.jpg").read_bytes(), "b").rgb
    with pytest.raises(InvalidInputError, match="person empty: no person detected"):
        MediaPipePoseEstimator().estimate(rgb, "person empty")


def test_openpose_json_round_trip_and_body25_converted():
    kp = np.arange(54, dtype=np.float32).reshape(18, 3)
    assert np.allclose(from_openpose_json(to_openpose_json(kp)), kp)
    legacy = json.dumps({"people": [{"pose_keypoints": list(range(54))}]})
    assert from_openpose_json(legacy).shape == (18, 3)
    body25 = json.dumps({"people": [{"pose_keypoints_2d": list(range(75))}]})
    coco = from_openpose_json(body25)  # MidHip (BODY_25 index 8) and the feet are dropped
    assert coco[8].tolist() == [27, 28, 29] and coco[17].tolist() == [54, 55, 56]
    mpi = json.dumps({"people": [{"pose_keypoints_2d": list(range(45))}]})
    with pytest.raises(InvalidInputError, match=r"COCO-18 .* or BODY_25"):
        from_openpose_json(mpi)


def test_person_crop_keeps_the_largest_face_and_no_other():
    big = FaceBox(400, 100, 500, 220, 0.9)
    left = FaceBox(100, 150, 150, 210, 0.9)
    right = FaceBox(800, 140, 860, 210, 0.9)
    x0, y0, x1, y1 = person_crop((big, left, right), 1000, 1200)
    assert (x0, x1) == (287, 640)  # half-way to the neighbours' centres (125, 450, 830)
    assert (y0, y1) == (0, 1000)  # 1.5 face heights above the face: clipped at the top
    assert x0 <= big.x0 and big.x1 <= x1
    alone = person_crop((big,), 1000, 1200)
    assert alone == (50, 0, 850, 1000)  # 4 face widths each side, 1.5 heights above
