"""A person's body frame from pose keypoints: where the shoulders, torso and arms are.

Every weight-free layer of the physical renderer (the drape, the removal of the old
garment, the occlusion of arms) reasons in this frame rather than in raw keypoints: it
fills in the hips of a waist-up photo, repairs a hip detection that lies above the
shoulders, and estimates missing elbows and wrists, so each consumer gets whole arms and a
torso axis. Proportions are in shoulder widths (the distance between the shoulder joints),
the one measurement every usable photo has.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vton.errors import InvalidInputError
from vton.person.keypoints import IDX
from vton.person.prep import complete_torso

__all__ = ["Body", "body_frame", "arm_segments", "unit"]

# Body proportions, in shoulder widths (the distance between the shoulder joints).
#: Shoulder seams sit this far outside the shoulder joints, and this far above them.
SEAM_OUT, SEAM_UP = 0.1, 0.06
#: Visible torso half-width just under the arms, and the least at the hips.
CHEST_HALF, HIP_HALF_MIN = 0.52, 0.44
#: Visible hip half-width per hip-joint half-distance.
HIP_WIDTH_RATIO = 1.6
#: Upper arm and forearm lengths when the elbow or wrist is missing.
UPPER_ARM, FOREARM = 0.8, 0.7
#: Arm half-thickness at the shoulder, elbow and wrist.
ARM_HALF = (0.15, 0.12, 0.085)


def unit(v: np.ndarray) -> np.ndarray:
    n = float(np.hypot(*v))
    return v / n if n > 1e-9 else v


@dataclass(frozen=True)
class Body:
    """A person's body frame, in the photo's pixels (x, y).

    kp: (18, 3) keypoints with estimated hips filled in; sw: shoulder width (joint to
    joint); axis: unit vector down the body (shoulder midpoint to hip midpoint);
    across_sh / across_hip: unit vectors along the shoulder and hip lines, viewer's left
    to right; torso_len: shoulder midpoint to hip midpoint; arms: for each side (-1 the
    viewer's left, the person's right; +1) the shoulder joint, elbow and wrist (estimated
    where missing).
    """

    kp: np.ndarray
    sw: float
    shoulder_mid: np.ndarray
    hip_mid: np.ndarray
    axis: np.ndarray
    across_sh: np.ndarray
    across_hip: np.ndarray
    torso_len: float
    arms: dict
    notes: tuple[str, ...]

    def across(self, level: np.ndarray) -> np.ndarray:
        """(N, 2) unit vectors along the body at `level` px below the shoulder line."""
        t = np.clip(np.asarray(level, np.float64) / self.torso_len, 0.0, 1.0)[:, None]
        v = self.across_sh[None] * (1 - t) + self.across_hip[None] * t
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def centre(self, level: np.ndarray) -> np.ndarray:
        """(N, 2) points on the body axis `level` px below the shoulder midpoint."""
        return self.shoulder_mid[None] + np.asarray(level, np.float64)[:, None] * self.axis[None]

    def levels(self, shape: tuple[int, int], origin: np.ndarray) -> np.ndarray:
        """(H, W) float32 over a crop of `shape` whose top-left pixel is `origin` (x, y):
        each pixel's level, px along the body axis below the shoulder line (negative above
        it). The drape, the layering and the removal all cut the photo at levels."""
        h, w = shape
        ax, ay = np.float32(self.axis[0]), np.float32(self.axis[1])
        x = (np.arange(w, dtype=np.float32) + np.float32(origin[0] - self.shoulder_mid[0])) * ax
        y = (np.arange(h, dtype=np.float32) + np.float32(origin[1] - self.shoulder_mid[1])) * ay
        return y[:, None] + x[None, :]

    def width_model(self, level: np.ndarray) -> np.ndarray:
        """Keypoint estimate of the visible torso half-width (px) at `level`."""
        hip_half = float(np.hypot(*(self.kp[11, :2] - self.kp[8, :2]))) / 2
        w_hip = max(HIP_HALF_MIN * self.sw, HIP_WIDTH_RATIO * hip_half)
        t = np.clip((np.asarray(level, np.float64) / self.torso_len - 0.2) / 0.8, 0.0, 1.0)
        return CHEST_HALF * self.sw * (1 - t) + w_hip * t


def body_frame(keypoints: np.ndarray, item: str = "person") -> Body:
    """The body frame of (18, 3) COCO-18 keypoints (x, y, confidence) in photo pixels.

    Raises `InvalidInputError` when the shoulders are missing or on top of each other (no
    garment can be placed), `ValueError` for a wrong shape.
    """
    kp = np.asarray(keypoints, np.float64)
    if kp.shape != (18, 3):
        raise ValueError(f"expected (18, 3) keypoints, got {kp.shape}")
    if not np.isfinite(kp).all():
        raise InvalidInputError(item, "keypoints are not finite")
    if kp[IDX["RShoulder"], 2] <= 0 or kp[IDX["LShoulder"], 2] <= 0:
        raise InvalidInputError(item, "shoulders not visible: the garment cannot be placed")
    rs, ls = kp[IDX["RShoulder"], :2], kp[IDX["LShoulder"], :2]
    sw = float(np.hypot(*(ls - rs)))
    if sw < 4.0:
        raise InvalidInputError(item, f"shoulders {sw:.1f} px apart: too small to dress")
    done, notes = complete_torso(kp.astype(np.float32))
    kp = done.astype(np.float64)
    across_sh = unit(ls - rs)
    perp = np.array([-across_sh[1], across_sh[0]])
    if perp[1] < 0:
        perp = -perp
    shoulder_mid = (rs + ls) / 2
    hip_mid = (kp[8, :2] + kp[11, :2]) / 2
    down = hip_mid - shoulder_mid
    if float(down @ perp) < 0.6 * sw or float(np.hypot(*down)) > 3.5 * sw:
        # Hips above or far from the shoulders: a detection error; use the estimate.
        est = kp.copy()
        est[[8, 11]] = 0
        kp = complete_torso(est.astype(np.float32))[0].astype(np.float64)
        hip_mid = (kp[8, :2] + kp[11, :2]) / 2
        down = hip_mid - shoulder_mid
        notes = sorted({*notes, "hips-estimated"})
    axis = unit(down)
    across_hip = unit(kp[11, :2] - kp[8, :2])
    if float(across_hip @ across_sh) < 0.5:
        across_hip = across_sh
    arms = {}
    for side, (s, e, w) in ((-1, (2, 3, 4)), (1, (5, 6, 7))):
        joint = kp[s, :2]
        # A missing arm hangs down, a little away from the body.
        default_dir = unit(axis + 0.27 * across_sh * side)
        elbow = kp[e, :2] if kp[e, 2] > 0 else joint + default_dir * UPPER_ARM * sw
        follow = elbow + unit(elbow - joint) * FOREARM * sw
        wrist = kp[w, :2] if kp[w, 2] > 0 else follow
        if float(np.hypot(*(elbow - joint))) < 0.1 * sw:
            elbow = joint + default_dir * UPPER_ARM * sw
        if float(np.hypot(*(wrist - elbow))) < 0.1 * sw:
            wrist = elbow + unit(elbow - joint) * FOREARM * sw
        arms[side] = (joint, elbow, wrist)
    return Body(
        kp,
        sw,
        shoulder_mid,
        hip_mid,
        axis,
        across_sh,
        across_hip,
        float(np.hypot(*down)),
        arms,
        tuple(notes),
    )


def arm_segments(body: Body, scale: float, skip_top: float = 0.0):
    """Capsule segments along both arms; `scale` multiplies the arm thickness; the first
    `skip_top` of the upper arm is left out (it overlaps the shoulder)."""
    segs = []
    for joint, elbow, wrist in body.arms.values():
        start = joint + (elbow - joint) * skip_top
        segs.append((start, elbow, ARM_HALF[1] * body.sw * scale))
        segs.append((elbow, wrist, ARM_HALF[2] * body.sw * scale))
    return segs
