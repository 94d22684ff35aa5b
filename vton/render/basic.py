"""The basic weight-free renderer: a thin-plate-spline warp of the garment's silhouette
landmarks onto the person's shoulders and hips, composited over the torso.

It is the simplest honest try-on that needs no model file: the garment is resized and
placed on the body, keeps its print undistorted (the warp is near-affine over the torso),
and the person's head, arms below the sleeves and background are kept. It does not handle
arms in front of the body or shading; the physical renderer does.
"""

from __future__ import annotations

import cv2
import numpy as np

from vton.digest import digest_parts
from vton.geometry.tps import backward_maps, fit_tps
from vton.person.prep import complete_torso
from vton.render.base import PairwiseRenderer, RenderOutput, RenderRequest

__all__ = ["BasicRenderer", "body_targets"]

BASIC_VERSION = "1"


def body_targets(keypoints: np.ndarray) -> dict[str, tuple[float, float]]:
    """Where the garment's landmarks go on a body, from (18, 3) COCO-18 keypoints.

    Shoulder seams sit just above the shoulder joints; the hem a little below the hip
    joints and about twice as wide (joints are inside the body, cloth is on its surface).
    Viewer's left is the person's right.
    """
    kp, _ = complete_torso(keypoints)
    rs, ls, rh, lh = kp[2, :2], kp[5, :2], kp[8, :2], kp[11, :2]
    sw = float(np.hypot(*(ls - rs)))
    across = (ls - rs) / max(sw, 1e-6)  # unit vector, viewer's left -> right
    down = np.array([-across[1], across[0]])  # perpendicular, pointing down the body
    if down[1] < 0:
        down = -down
    neck = (rs + ls) / 2
    hip_mid = (rh + lh) / 2
    half_hem = max(1.05 * float(np.hypot(*(lh - rh))), 0.5 * sw)
    hem_mid = hip_mid + down * 0.08 * sw
    return {
        "neck": tuple(neck - down * 0.02 * sw),
        "shoulder_left": tuple(rs - down * 0.08 * sw),
        "shoulder_right": tuple(ls - down * 0.08 * sw),
        "hem_left": tuple(hem_mid - across * half_hem),
        "hem_right": tuple(hem_mid + across * half_hem),
    }


class BasicRenderer(PairwiseRenderer):
    """Weight-free TPS placement of the garment; see the module docstring."""

    name = "basic"

    def __init__(self, regularisation: float = 0.05, feather_px: float = 1.5) -> None:
        self.regularisation = regularisation
        self.feather_px = feather_px

    @property
    def model_digest(self) -> str:
        return "weight-free:" + digest_parts(
            "basic", BASIC_VERSION, str(self.regularisation), str(self.feather_px)
        )

    def render_one(self, req: RenderRequest) -> RenderOutput:
        person, cloth = req.person, req.cloth
        h, w = person.image.shape[:2]
        lm = cloth.landmarks
        names = ("neck", "shoulder_left", "shoulder_right", "hem_left", "hem_right")
        src = np.array([getattr(lm, n) for n in names], np.float64)
        targets = body_targets(person.keypoints)
        dst = np.array([targets[n] for n in names], np.float64)
        backward = fit_tps(dst, src, self.regularisation)
        map_x, map_y = backward_maps(backward, (h, w))  # one pair of maps for both
        warped = cv2.remap(
            cloth.image, map_x, map_y, cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT, borderValue=(255, 255, 255),
        )  # fmt: skip
        warped_mask = cv2.remap(
            cloth.mask, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )  # fmt: skip
        alpha = warped_mask.astype(np.float32) / 255.0
        if self.feather_px > 0:
            alpha = cv2.GaussianBlur(alpha, (0, 0), self.feather_px) * (alpha > 0)
        a = alpha[..., None]
        tryon = warped.astype(np.float32) * a + person.image.astype(np.float32) * (1 - a)
        notes = ("hips-estimated",) if "hips-estimated" in person.meta.get("notes", ()) else ()
        return RenderOutput(
            tryon=np.clip(tryon + 0.5, 0, 255).astype(np.uint8),
            warped_cloth=warped,
            composition_mask=np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8),
            notes=notes,
        )
