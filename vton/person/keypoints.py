"""OpenPose COCO-18 keypoints: names, order, and the OpenPose JSON format.

"R" and "L" are the person's own right and left: a person facing the camera has RShoulder
(index 2) on the viewer's left. A point that was not detected is (0, 0, 0), as in OpenPose
output and as CP-VTON's data loader expects.
"""

from __future__ import annotations

import json

import numpy as np

__all__ = ["COCO18", "NUM_KEYPOINTS", "to_openpose_json", "from_openpose_json", "visible"]

COCO18 = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
    "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar",
)  # fmt: skip
NUM_KEYPOINTS = 18
IDX = {name: i for i, name in enumerate(COCO18)}


def visible(kp: np.ndarray, name: str) -> bool:
    """Whether keypoint `name` of an (18, 3) array was detected."""
    return bool(kp[IDX[name], 2] > 0)


def to_openpose_json(kp: np.ndarray) -> str:
    """(18, 3) float32 (x, y, confidence) -> OpenPose JSON (one person)."""
    if kp.shape != (NUM_KEYPOINTS, 3):
        raise ValueError(f"expected (18, 3) keypoints, got {kp.shape}")
    flat = [round(float(v), 3) for v in kp.reshape(-1)]
    return json.dumps({"version": 1.3, "people": [{"pose_keypoints_2d": flat}]})


def from_openpose_json(text: str, item: str = "pose") -> np.ndarray:
    """OpenPose JSON (first person; `pose_keypoints_2d` or the older `pose_keypoints`)
    -> (18, 3) float32. BODY_25 files are refused: their order differs from COCO-18."""
    from vton.errors import InvalidInputError

    try:
        people = json.loads(text)["people"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInputError(item, f"not an OpenPose JSON file: {exc}") from exc
    if not people:
        raise InvalidInputError(item, "OpenPose file lists no person")
    person = people[0]
    flat = person.get("pose_keypoints_2d", person.get("pose_keypoints"))
    if flat is None:
        raise InvalidInputError(item, "OpenPose person has no pose_keypoints(_2d)")
    arr = np.asarray(flat, dtype=np.float32)
    if arr.size == 25 * 3:
        raise InvalidInputError(item, "BODY_25 keypoints (25 points); COCO-18 is required")
    if arr.size != NUM_KEYPOINTS * 3:
        raise InvalidInputError(item, f"{arr.size // 3} keypoints; COCO-18 (18) is required")
    return arr.reshape(NUM_KEYPOINTS, 3)
