"""Prepare one person photo: decode, reduce, estimate pose and body mask, store as an asset.

Asset layout (`assets/person/<person_id>/<digest>/`): `image.jpg` (the photo reduced to at
most `max_side` px, the resolution try-ons are rendered at), `mask.png` (person
segmentation), `pose.json` (OpenPose COCO-18 in `image.jpg`'s pixels) and `meta.json`,
written last, which also holds the keypoints in the original photo's pixels and in
CP-VTON's 256x192 frame (the photo fitted inside it, centred).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from vton.catalog import read_input_bytes
from vton.digest import digest_parts
from vton.errors import InvalidInputError, one_line, status_for_exception
from vton.imageio import decode_image, decode_mask, encode_image
from vton.paths import person_asset_dir
from vton.person.keypoints import from_openpose_json, to_openpose_json
from vton.person.pose import PoseEstimator
from vton.schemas import PersonRow, PreparedItem
from vton.storage import Store

__all__ = [
    "PERSON_PREP_VERSION",
    "PersonAsset",
    "prepare_person",
    "load_person_asset",
    "frame_transform",
    "complete_torso",
]

PERSON_PREP_VERSION = "1"
FRAME_SIZE = (256, 192)
#: Adult torso proportions seen from the front, relative to the distance between the
#: shoulder joints: shoulder-to-hip height, and distance between the hip joints. Used to
#: place the hips of a photo cut off above the waist.
TORSO_RATIO = 1.4
HIP_RATIO = 0.5


@dataclass(frozen=True)
class PersonAsset:
    """A prepared person, loaded for rendering.

    image: (H, W, 3) uint8 RGB; mask: (H, W) uint8 {0, 255};
    keypoints: (18, 3) float32 (x, y, confidence) in `image` pixels, (0, 0, 0) if missing.
    """

    image: np.ndarray
    mask: np.ndarray
    keypoints: np.ndarray
    meta: dict


def frame_transform(
    h: int, w: int, size: tuple[int, int] = FRAME_SIZE
) -> tuple[float, float, float]:
    """(scale, offset_x, offset_y) fitting an h x w photo centred inside `size`."""
    fh, fw = size
    s = min(fh / h, fw / w)
    return s, (fw - w * s) / 2, (fh - h * s) / 2


def _map_points(kp: np.ndarray, s: float, ox: float = 0.0, oy: float = 0.0) -> np.ndarray:
    out = kp.copy()
    seen = kp[:, 2] > 0
    out[seen, 0] = kp[seen, 0] * s + ox
    out[seen, 1] = kp[seen, 1] * s + oy
    return out


def complete_torso(kp: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Keypoints with the hips filled in from the shoulders when the photo lacks them.

    Renderers need a torso; a head-and-shoulders shot has none below the chest. Returns the
    completed copy and notes naming what was estimated. Needs both shoulders.
    """
    out = kp.copy()
    notes: list[str] = []
    rs, ls = out[2], out[5]
    if rs[2] <= 0 or ls[2] <= 0:
        raise ValueError("both shoulders are needed to complete a torso")
    across = ls[:2] - rs[:2]
    width = float(np.hypot(*across))
    down = np.array([-across[1], across[0]]) / max(width, 1e-6)
    if down[1] < 0:
        down = -down
    mid = (rs[:2] + ls[:2]) / 2 + down * TORSO_RATIO * width
    for hip, side in ((8, -1.0), (11, 1.0)):
        if out[hip, 2] <= 0:
            x, y = mid + side * HIP_RATIO / 2 * across
            out[hip] = (x, y, 0.01)
            notes.append("hips-estimated")
    return out, sorted(set(notes))


def prepare_person(
    store: Store,
    person: PersonRow,
    estimator: PoseEstimator,
    *,
    max_side: int,
    max_pixels: int,
    storage_options: Mapping[str, Any] | None = None,
) -> PreparedItem:
    """Prepare `person` into the store; never raises for a bad input, returns its status."""
    item = f"person {person.person_id}"
    try:
        data = read_input_bytes(person.image, storage_options)
        pose_text = read_input_bytes(person.pose, storage_options).decode() if person.pose else ""
    except Exception as exc:
        return PreparedItem(
            "person",
            person.person_id,
            "failed",
            error=f"{item}: cannot read input: {one_line(exc)}",
        )
    digest = digest_parts(
        "person", PERSON_PREP_VERSION, estimator.id, str(max_side), data, pose_text
    )
    key = person_asset_dir(person.person_id, digest)
    try:
        if store.exists(f"{key}/meta.json"):
            meta = json.loads(store.read_text(f"{key}/meta.json"))
        else:
            meta = _prepare(
                store, key, person, data, pose_text, estimator, item, max_side, max_pixels
            )
    except Exception as exc:
        return PreparedItem(
            "person",
            person.person_id,
            status_for_exception(exc),
            digest=digest,
            error=one_line(exc),
        )
    return PreparedItem(
        "person", person.person_id, "ok", digest=digest, key=key, notes=tuple(meta.get("notes", ()))
    )


def _prepare(
    store: Store,
    key: str,
    person: PersonRow,
    data: bytes,
    pose_text: str,
    estimator: PoseEstimator,
    item: str,
    max_side: int,
    max_pixels: int,
) -> dict:
    rgb = decode_image(data, item, max_pixels=max_pixels).rgb
    oh, ow = rgb.shape[:2]
    scale = min(1.0, max_side / max(oh, ow))
    if scale < 1.0:
        rgb = cv2.resize(rgb, (round(ow * scale), round(oh * scale)), interpolation=cv2.INTER_AREA)
    h, w = rgb.shape[:2]
    pose = estimator.estimate(rgb, item)
    kp = pose.keypoints
    notes: list[str] = []
    if pose_text:
        kp = _map_points(from_openpose_json(pose_text, f"{item} pose file"), scale)
        notes.append("pose-from-file")
    if kp[2, 2] <= 0 or kp[5, 2] <= 0:
        raise InvalidInputError(item, "shoulders not visible: the garment cannot be placed")
    s, ox, oy = frame_transform(h, w)
    store.write_bytes(f"{key}/image.jpg", encode_image(rgb, "jpg", quality=95))
    store.write_bytes(f"{key}/mask.png", encode_image(pose.mask))
    store.write_text(f"{key}/pose.json", to_openpose_json(kp))
    _, torso_notes = complete_torso(kp)
    meta = {
        "person_id": person.person_id,
        "source": person.image,
        "source_size": [oh, ow],
        "size": [h, w],
        "estimator": estimator.id,
        "prep_version": PERSON_PREP_VERSION,
        "keypoints": kp.round(2).tolist(),
        "keypoints_source": _map_points(kp, 1.0 / scale).round(2).tolist(),
        "keypoints_frame": _map_points(kp, s * 1.0, ox, oy).round(2).tolist(),
        "frame": {"size": list(FRAME_SIZE), "scale": s, "offset": [ox, oy]},
        "notes": notes + torso_notes,
    }
    store.write_text(f"{key}/meta.json", json.dumps(meta, indent=1))
    return meta


def load_person_asset(store: Store, key: str) -> PersonAsset:
    """Load a prepared person's image, mask and keypoints."""
    meta = json.loads(store.read_text(f"{key}/meta.json"))
    image = decode_image(store.read_bytes(f"{key}/image.jpg"), key).rgb
    mask = decode_mask(store.read_bytes(f"{key}/mask.png"), key)
    kp = np.asarray(meta["keypoints"], np.float32)
    return PersonAsset(image, mask, kp, meta)
