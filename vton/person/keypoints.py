"""OpenPose COCO-18 keypoints: names, order, and the OpenPose JSON format.

"R" and "L" are the person's own right and left: a person facing the camera has RShoulder
(index 2) on the viewer's left. A point that was not detected is (0, 0, 0), as in OpenPose
output and as CP-VTON's data loader expects (it skips points with x <= 1 or y <= 1).

Files are read in every layout the VITON family of repositories meets: the old key
`pose_keypoints` (VITON's own files, OpenPose < 1.2) and the newer `pose_keypoints_2d`;
COCO-18 files as they are, and BODY_25 files (OpenPose's default model since 1.3)
converted, because BODY_25 is COCO-18 with a mid-hip point inserted at index 8 and six foot
points appended: dropping those seven gives COCO-18 exactly, with no guessing. Other point
counts (MPI's 15, the 135 of the whole-body model) are refused.
"""

from __future__ import annotations

import json

import numpy as np

from vton.errors import InvalidInputError

__all__ = [
    "COCO18",
    "NUM_KEYPOINTS",
    "BODY25",
    "BODY25_TO_COCO18",
    "IDX",
    "body25_to_coco18",
    "to_openpose_json",
    "from_openpose_json",
    "read_openpose",
    "visible",
]

COCO18 = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
    "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar",
)  # fmt: skip
NUM_KEYPOINTS = 18
IDX = {name: i for i, name in enumerate(COCO18)}

#: OpenPose BODY_25 order (OpenPose `doc/02_output.md`).
BODY25 = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
    "MidHip", "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar",
    "LEar", "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel",
)  # fmt: skip
#: For each COCO-18 index, the BODY_25 index of the same joint.
BODY25_TO_COCO18 = tuple(BODY25.index(name) for name in COCO18)


def visible(kp: np.ndarray, name: str) -> bool:
    """Whether keypoint `name` of an (18, 3) array was detected."""
    return bool(kp[IDX[name], 2] > 0)


def body25_to_coco18(kp25: np.ndarray) -> np.ndarray:
    """(25, 3) BODY_25 keypoints -> (18, 3) COCO-18 (MidHip and the feet dropped)."""
    if kp25.shape != (25, 3):
        raise ValueError(f"expected (25, 3) BODY_25 keypoints, got {kp25.shape}")
    return np.ascontiguousarray(kp25[list(BODY25_TO_COCO18)], dtype=np.float32)


def to_openpose_json(kp: np.ndarray, key: str = "pose_keypoints_2d") -> str:
    """(18, 3) float32 (x, y, confidence) -> OpenPose JSON text (one person).

    `key` is ``pose_keypoints_2d`` (OpenPose >= 1.2) or ``pose_keypoints``, the key VITON's
    files use and CP-VTON's data loader reads; `vton.person.viton` writes the latter.
    """
    if kp.shape != (NUM_KEYPOINTS, 3):
        raise ValueError(f"expected (18, 3) keypoints, got {kp.shape}")
    if key not in ("pose_keypoints_2d", "pose_keypoints"):
        raise ValueError(f"key must be pose_keypoints_2d or pose_keypoints, got {key!r}")
    flat = [round(float(v), 3) for v in kp.reshape(-1)]
    if key == "pose_keypoints":
        person = {
            "face_keypoints": [],
            "pose_keypoints": flat,
            "hand_right_keypoints": [],
            "hand_left_keypoints": [],
        }
        return json.dumps({"version": 1.0, "people": [person]})
    return json.dumps({"version": 1.3, "people": [{"pose_keypoints_2d": flat}]})


def _person_points(person: object, item: str) -> np.ndarray:
    if not isinstance(person, dict):
        raise InvalidInputError(item, "OpenPose person entry is not an object")
    flat = person.get("pose_keypoints_2d", person.get("pose_keypoints"))
    if flat is None:
        raise InvalidInputError(item, "OpenPose person has no pose_keypoints(_2d)")
    try:
        arr = np.asarray(flat, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(item, f"OpenPose keypoints are not numbers: {exc}") from exc
    if arr.ndim != 1 or not np.isfinite(arr).all():
        raise InvalidInputError(item, "OpenPose keypoints must be a flat list of finite numbers")
    if arr.size == 25 * 3:
        return body25_to_coco18(arr.reshape(25, 3))
    if arr.size != NUM_KEYPOINTS * 3:
        raise InvalidInputError(
            item,
            f"{arr.size} numbers ({arr.size / 3:g} keypoints); COCO-18 (54 numbers) or "
            "BODY_25 (75) is required",
        )
    return arr.reshape(NUM_KEYPOINTS, 3)


def _extent(kp: np.ndarray) -> float:
    """Area of the bounding box of the detected points: how large a person appears."""
    seen = kp[kp[:, 2] > 0]
    if len(seen) < 2:
        return 0.0
    span = seen[:, :2].max(0) - seen[:, :2].min(0)
    return float(span[0] * span[1])


def read_openpose(text: str, item: str = "pose") -> tuple[np.ndarray, tuple[str, ...]]:
    """OpenPose JSON -> ((18, 3) float32 COCO-18 keypoints, notes).

    With several people in the file the largest (bounding box of its detected points) is
    kept and the notes say ``several-persons``; a BODY_25 file adds ``pose-body25``.
    Raises `InvalidInputError` for anything that is not usable OpenPose output.
    """
    try:
        people = json.loads(text)["people"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInputError(item, f"not an OpenPose JSON file: {exc}") from exc
    if not isinstance(people, list) or not people:
        raise InvalidInputError(item, "OpenPose file lists no person")
    points = [_person_points(p, item) for p in people]
    notes: list[str] = []
    if len(points) > 1:
        notes.append("several-persons")
    if any(
        isinstance(p, dict) and np.size(p.get("pose_keypoints_2d", p.get("pose_keypoints"))) == 75
        for p in people
    ):
        notes.append("pose-body25")
    best = max(range(len(points)), key=lambda i: (_extent(points[i]), -i))
    return points[best], tuple(notes)


def from_openpose_json(text: str, item: str = "pose") -> np.ndarray:
    """OpenPose JSON (`pose_keypoints_2d` or the older `pose_keypoints`; COCO-18 or
    BODY_25) -> (18, 3) float32 COCO-18 keypoints of the largest person in the file."""
    return read_openpose(text, item)[0]
