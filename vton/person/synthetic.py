"""Synthetic person photos with exact keypoints and LIP labels, for tests and benchmarks.

Real photos never come with exact keypoints or label maps; these drawings do, because the
photo is drawn from them. A frontal figure (hair, face, neck, shirt with short or long
sleeves, bare forearms and hands, pants, shoes) is built from COCO-18 keypoints in body
units and painted with flat colours, once into the photo and once, with the same shapes,
into the label map.

What they can measure: whether the labelling rules of `vton.person.parsing` put each label
where it belongs when the keypoints and mask are right (rules given a perfect pose), and
how geometry flows through the pipeline (frames, crops, exports). What they cannot:
how well MediaPipe finds keypoints and masks in real photos (a flat drawing is not what
its models were trained on; it may not find the figure at all) or how a trained parser
does on real clothing. `benchmarks/bench_person.py` says the same in its output.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vton.person.keypoints import COCO18
from vton.person.labels import LIP, NECK

__all__ = ["SyntheticPerson", "synthetic_person"]


@dataclass(frozen=True)
class SyntheticPerson:
    """image: (H, W, 3) uint8 RGB; labels: (H, W) uint8 LIP ids (exact); mask: (H, W)
    uint8 {0, 255} = labels > 0; keypoints: (18, 3) float32 COCO-18 in pixels, all visible
    (confidence 1) unless cut off by the frame (then (0, 0, 0))."""

    image: np.ndarray
    labels: np.ndarray
    mask: np.ndarray
    keypoints: np.ndarray


def synthetic_person(
    height: int = 512,
    width: int = 384,
    *,
    arm_angle: float = 25.0,
    sleeves: str = "short",
    scale: float = 0.9,
    centre: tuple[float, float] = (0.5, 0.05),
    skin: tuple[int, int, int] = (224, 172, 140),
    hair: tuple[int, int, int] = (70, 45, 30),
    shirt: tuple[int, int, int] = (40, 90, 160),
    pants: tuple[int, int, int] = (50, 50, 60),
    shoes: tuple[int, int, int] = (20, 20, 20),
    background: tuple[int, int, int] = (235, 235, 235),
) -> SyntheticPerson:
    """Draw a standing, front-facing figure.

    `scale` is the body's height as a fraction of the photo's height; `centre` places the
    body's centre line (x, as a fraction of the width) and the top of the head (y, as a
    fraction of the height). `arm_angle` is each arm's angle from the vertical, in degrees,
    outward. `sleeves` is ``short`` (upper arm covered) or ``long`` (down to the wrist).
    Parts outside the photo are cut off, keypoints there are (0, 0, 0).
    """
    if sleeves not in ("short", "long"):
        raise ValueError(f"sleeves must be 'short' or 'long', got {sleeves!r}")
    if height < 32 or width < 32:
        raise ValueError(f"photo must be at least 32x32, got {width}x{height}")
    u = scale * height  # body height in pixels
    cx, top = centre[0] * width, centre[1] * height

    def P(dx: float, dy: float) -> np.ndarray:
        return np.array([cx + dx * u, top + dy * u], np.float64)

    head_c, head_a, head_b = P(0, 0.075), 0.045 * u, 0.06 * u
    kp = {
        "Nose": P(0, 0.085), "REye": P(-0.018, 0.068), "LEye": P(0.018, 0.068),
        "REar": P(-0.046, 0.075), "LEar": P(0.046, 0.075),
        "RShoulder": P(-0.11, 0.19), "LShoulder": P(0.11, 0.19),
        "RHip": P(-0.06, 0.52), "LHip": P(0.06, 0.52),
        "RKnee": P(-0.07, 0.74), "LKnee": P(0.07, 0.74),
        "RAnkle": P(-0.075, 0.95), "LAnkle": P(0.075, 0.95),
    }  # fmt: skip
    kp["Neck"] = (kp["RShoulder"] + kp["LShoulder"]) / 2
    a = np.deg2rad(arm_angle)
    for side, sign in (("R", -1.0), ("L", 1.0)):
        sh = kp[f"{side}Shoulder"]
        down = np.array([sign * np.sin(a), np.cos(a)])
        kp[f"{side}Elbow"] = sh + down * 0.17 * u
        down2 = np.array([sign * np.sin(a * 0.6), np.cos(a * 0.6)])
        kp[f"{side}Wrist"] = kp[f"{side}Elbow"] + down2 * 0.15 * u

    img = np.zeros((height, width, 3), np.uint8)
    img[:] = background
    lab = np.zeros((height, width), np.uint8)

    def ipt(p: np.ndarray) -> tuple[int, int]:
        return round(float(p[0])), round(float(p[1]))

    def paint(draw, colour, label) -> None:
        canvas = np.zeros((height, width), np.uint8)
        draw(canvas)
        on = canvas > 0
        img[on] = colour
        lab[on] = label

    def capsule(p, q, r):
        def draw(c):
            cv2.line(c, ipt(p), ipt(q), 1, thickness=max(1, round(2 * r)))
            cv2.circle(c, ipt(p), max(1, round(r)), 1, -1)
            cv2.circle(c, ipt(q), max(1, round(r)), 1, -1)

        return draw

    # Back to front: shoes, legs, torso, neck, arms, hair, face.
    for side, label in (("R", LIP["right-shoe"]), ("L", LIP["left-shoe"])):
        ank = kp[f"{side}Ankle"]
        paint(
            lambda c, ank=ank: cv2.ellipse(
                c,
                ipt(ank + np.array([0.0, 0.02 * u])),
                (round(0.035 * u), round(0.02 * u)),
                0,
                0,
                360,
                1,
                -1,
            ),
            shoes,
            label,
        )
    for side in ("R", "L"):
        hip, knee, ank = kp[f"{side}Hip"], kp[f"{side}Knee"], kp[f"{side}Ankle"]
        paint(capsule(hip, knee, 0.05 * u), pants, LIP["pants"])
        paint(capsule(knee, ank, 0.035 * u), pants, LIP["pants"])
    torso = np.array(
        [P(-0.13, 0.18), P(0.13, 0.18), P(0.1, 0.53), P(-0.1, 0.53)], np.float64
    ).round()
    paint(lambda c: cv2.fillConvexPoly(c, torso.astype(np.int32), 1), shirt, LIP["upper-clothes"])
    neck_top, neck_bot = P(0, 0.12), P(0, 0.185)
    paint(capsule(neck_top, neck_bot, 0.022 * u), skin, NECK)
    for side, label in (("R", LIP["right-arm"]), ("L", LIP["left-arm"])):
        sh, el, wr = kp[f"{side}Shoulder"], kp[f"{side}Elbow"], kp[f"{side}Wrist"]
        hand = wr + (wr - el) / np.hypot(*(wr - el)) * 0.05 * u
        paint(capsule(el, wr, 0.025 * u), shirt if sleeves == "long" else skin,
              LIP["upper-clothes"] if sleeves == "long" else label)  # fmt: skip
        paint(capsule(wr, hand, 0.027 * u), skin, label)
        paint(capsule(sh, el, 0.032 * u), shirt, LIP["upper-clothes"])
    paint(
        lambda c: cv2.ellipse(
            c, ipt(head_c - np.array([0.0, 0.012 * u])),
            (round(head_a * 1.12), round(head_b * 1.05)),
            0, 0, 360, 1, -1,
        ),
        hair,
        LIP["hair"],
    )  # fmt: skip
    paint(
        lambda c: cv2.ellipse(
            c, ipt(head_c + np.array([0.0, 0.006 * u])), (round(head_a), round(head_b * 0.95)),
            0, 0, 360, 1, -1,
        ),
        skin,
        LIP["face"],
    )  # fmt: skip
    points = np.zeros((18, 3), np.float32)
    for i, name in enumerate(COCO18):
        x, y = kp[name]
        if 0 <= x < width and 0 <= y < height:
            points[i] = (x, y, 1.0)
    mask = np.where(lab > 0, 255, 0).astype(np.uint8)
    return SyntheticPerson(img, lab, mask, points)
