"""Prepare one person photo: decode, reduce, estimate pose, body mask and label map, store.

Asset layout (`assets/person/<person_id>/<digest>/`): `image.jpg` (the photo reduced to at
most `max_side` px, the resolution try-ons are rendered at), `mask.png` (person
segmentation), `parse.png` (LIP label ids, grayscale; see `vton.person.labels`),
`pose.json` (OpenPose COCO-18 in `image.jpg`'s pixels) and `meta.json`, written last, which
also holds the keypoints in the original photo's pixels and in CP-VTON's 256x192 frame
(`vton.person.frame`).

Precomputed inputs (the VITON layout's `pose/*_keypoints.json` and `image-parse/*.png`,
named by a persons row's `pose` and `parse` columns, in the original photo's pixels) replace
the estimates: a pose file replaces the keypoints, a parse file the label map and the mask
(`parse > 0`, CP-VTON's body shape). With both, no model runs at all.

Bad inputs and what they get (each has a test):
- no person: `invalid`, "no person detected in the photo".
- several people: the person with the largest face is used, note ``several-persons``
  (`vton.person.pose`); a pose file with several people: the largest, same note.
- cut off at the waist: hips and legs are (0, 0, 0), as CP-VTON expects; renderers place
  the hips from the shoulders (`complete_torso`, note ``hips-estimated``). Without both
  shoulders a garment cannot be placed: `invalid`.
- tiny photo: under `MIN_PERSON_SIDE` px on the short side, `invalid` with its size (the
  pose model sees 256x256; a smaller person is not found reliably); a photo smaller than the
  256x192 frame is used, with the note ``low-resolution`` (it is upscaled there).
- huge photo: over `max_pixels`, `invalid` before its pixels are decoded; otherwise reduced
  to `max_side` px first, so the estimate costs the same as for any photo.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from PIL import Image

from vton.catalog import read_input_bytes
from vton.digest import digest_parts
from vton.errors import InvalidInputError, one_line
from vton.failures import failure_status
from vton.imageio import decode_image, decode_mask, encode_image
from vton.paths import person_asset_dir
from vton.person.frame import FRAME_SIZE, Frame
from vton.person.keypoints import read_openpose, to_openpose_json
from vton.person.labels import decode_labels, encode_labels
from vton.person.parsing import HumanParser, make_parser
from vton.person.pose import PoseEstimator, PoseResult
from vton.schemas import PersonRow, PreparedItem
from vton.storage import Store

__all__ = [
    "PERSON_PREP_VERSION",
    "MIN_PERSON_SIDE",
    "PersonAsset",
    "prepare_person",
    "load_person_asset",
    "frame_transform",
    "complete_torso",
]

#: Bump when this stage's output changes for the same input: it re-keys every asset.
PERSON_PREP_VERSION = "3"
#: Photos with a shorter side are refused: the person would be too small to find.
MIN_PERSON_SIDE = 64
#: Adult torso proportions seen from the front, relative to the distance between the
#: shoulder joints: shoulder-to-hip height, and distance between the hip joints. Used to
#: place the hips of a photo cut off above the waist.
TORSO_RATIO = 1.4
HIP_RATIO = 0.5
#: Most torso length (shoulder-to-hip midpoints) per shoulder width of a photo taken for a
#: front view: three times the frontal ratio, past any three-quarter turn.
MAX_TORSO_PER_SHOULDERS = 3 * TORSO_RATIO


@dataclass(frozen=True)
class PersonAsset:
    """A prepared person, loaded for rendering.

    image: (H, W, 3) uint8 RGB; mask: (H, W) uint8 {0, 255};
    keypoints: (18, 3) float32 (x, y, confidence) in `image` pixels, (0, 0, 0) if missing;
    parse: (H, W) uint8 LIP label ids (`vton.person.labels`), None only for assets
    prepared before label maps existed.
    """

    image: np.ndarray
    mask: np.ndarray
    keypoints: np.ndarray
    meta: dict
    parse: np.ndarray | None = None


def frame_transform(
    h: int, w: int, size: tuple[int, int] = FRAME_SIZE
) -> tuple[float, float, float]:
    """(scale, offset_x, offset_y) fitting an h x w photo centred inside `size`.

    The exact placement, in whole pixels, that images, label maps and keypoints share is
    `vton.person.frame.Frame.fit`; this is its uniform-scale approximation.
    """
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
    parser: HumanParser | None = None,
) -> PreparedItem:
    """Prepare `person` into the store; never raises for a bad input, returns its status.

    `parser` makes the label map when the row has no parse file; None is the embedded
    MediaPipe estimate (`vton.person.parsing.make_parser`).
    """
    item = f"person {person.person_id}"
    parser = parser if parser is not None else make_parser(None)
    try:
        data = read_input_bytes(person.image, storage_options)
        pose_text = read_input_bytes(person.pose, storage_options).decode() if person.pose else ""
        parse_data = read_input_bytes(person.parse, storage_options) if person.parse else b""
    except Exception as exc:
        return PreparedItem(
            "person",
            person.person_id,
            failure_status(exc),  # vton.failures: permanent or not
            error=f"{item}: cannot read input: {one_line(exc)}",
        )
    digest = digest_parts(
        "person",
        PERSON_PREP_VERSION,
        estimator.id,
        "parse-file" if parse_data else parser.id,
        str(max_side),
        data,
        pose_text,
        parse_data,
    )
    key = person_asset_dir(person.person_id, digest)
    try:
        if store.exists(f"{key}/meta.json"):
            meta = json.loads(store.read_text(f"{key}/meta.json"))
        else:
            meta = _prepare(
                store,
                key,
                person,
                data,
                pose_text,
                parse_data,
                estimator,
                parser,
                item,
                max_side,
                max_pixels,
            )
    except Exception as exc:
        return PreparedItem(
            "person",
            person.person_id,
            failure_status(exc),
            digest=digest,
            error=one_line(exc),
        )
    return PreparedItem(
        "person", person.person_id, "ok", digest=digest, key=key, notes=tuple(meta.get("notes", ()))
    )


def _check_front_view(kp: np.ndarray, item: str) -> None:
    """Refuse a pose whose shoulders are far too close together for its torso's length.

    Seen from the front the shoulder joints are about `1 / TORSO_RATIO` of the torso length
    apart; a person turned sideways, or a pose model that lost the head (a photo cut off at
    the chin) and put both shoulders on one, gives a fraction of that, and a garment sized
    from it comes out a sliver on a whole body. Only with both hips found: without them the
    torso length is itself estimated from the shoulders.
    """
    if kp[8, 2] <= 0 or kp[11, 2] <= 0:
        return
    sw = float(np.hypot(*(kp[5, :2] - kp[2, :2])))
    torso = float(np.hypot(*((kp[8, :2] + kp[11, :2]) / 2 - (kp[2, :2] + kp[5, :2]) / 2)))
    if torso > MAX_TORSO_PER_SHOULDERS * max(sw, 1e-6):
        raise InvalidInputError(
            item,
            f"shoulders {sw:.0f} px apart for a {torso:.0f} px torso: not a front view "
            "(turned sideways, or the pose was not found); photograph the person facing "
            "the camera, or give a pose file",
        )


def _labels_for(parse_data: bytes, oh: int, ow: int, h: int, w: int, item: str) -> np.ndarray:
    """A parse file's ids at the reduced photo's size (h, w); it must match the photo."""
    ids = decode_labels(parse_data, f"{item} parse file")
    ph, pw = ids.shape
    if (ph, pw) != (oh, ow) and abs(ph / pw - oh / ow) > 0.01:
        raise InvalidInputError(
            item, f"parse file is {pw}x{ph}, the photo {ow}x{oh}: they must match"
        )
    if (ph, pw) != (h, w):
        ids = np.asarray(Image.fromarray(ids).resize((w, h), Image.Resampling.NEAREST))
    return ids


def _label_counts(labels: np.ndarray) -> dict[str, int]:
    """Pixels per LIP id present, for the report and for quick checks of an asset."""
    counts = np.bincount(labels.reshape(-1), minlength=1)
    return {str(i): int(c) for i, c in enumerate(counts) if c}


def _prepare(
    store: Store,
    key: str,
    person: PersonRow,
    data: bytes,
    pose_text: str,
    parse_data: bytes,
    estimator: PoseEstimator,
    parser: HumanParser,
    item: str,
    max_side: int,
    max_pixels: int,
) -> dict:
    rgb = decode_image(data, item, max_pixels=max_pixels).rgb
    oh, ow = rgb.shape[:2]
    if min(oh, ow) < MIN_PERSON_SIDE:
        raise InvalidInputError(
            item,
            f"image is {ow}x{oh}, too small to find a person in "
            f"(at least {MIN_PERSON_SIDE} px on the short side)",
        )
    scale = min(1.0, max_side / max(oh, ow))
    if scale < 1.0:
        rgb = cv2.resize(rgb, (round(ow * scale), round(oh * scale)), interpolation=cv2.INTER_AREA)
    h, w = rgb.shape[:2]
    notes: list[str] = []
    file_kp = None
    if pose_text:
        file_kp, file_notes = read_openpose(pose_text, f"{item} pose file")
        file_kp = _map_points(file_kp, scale)
        notes += ["pose-from-file", *file_notes]
    labels = _labels_for(parse_data, oh, ow, h, w, item) if parse_data else None
    if labels is not None:
        notes.append("parse-from-file")
    if file_kp is not None and labels is not None:
        # Everything given: no model runs.
        pose = PoseResult(file_kp, np.where(labels > 0, 255, 0).astype(np.uint8))
        estimator_id = None
    else:
        pose = estimator.estimate(rgb, item)
        notes += pose.notes
        estimator_id = estimator.id
        if file_kp is not None:
            pose = PoseResult(file_kp, pose.mask, pose.notes, pose.faces)
        if labels is not None:
            body = np.where(labels > 0, 255, 0).astype(np.uint8)
            pose = PoseResult(pose.keypoints, body, pose.notes, pose.faces)
    kp = pose.keypoints
    if kp[2, 2] <= 0 or kp[5, 2] <= 0:
        raise InvalidInputError(item, "shoulders not visible: the garment cannot be placed")
    _check_front_view(kp, item)
    if labels is None:
        labels = parser.parse(rgb, pose, item)
        parser_id = parser.id
    else:
        parser_id = None
    fr = Frame.fit(h, w)
    if fr.scale[0] > 1.0:
        notes.append("low-resolution")
    store.write_bytes(f"{key}/image.jpg", encode_image(rgb, "jpg", quality=95))
    store.write_bytes(f"{key}/mask.png", encode_image(pose.mask))  # zlib level 1: fast
    store.write_bytes(f"{key}/parse.png", encode_labels(labels))
    store.write_text(f"{key}/pose.json", to_openpose_json(kp))
    _, torso_notes = complete_torso(kp)
    meta = {
        "person_id": person.person_id,
        "source": person.image,
        "source_size": [oh, ow],
        "size": [h, w],
        "estimator": estimator_id,
        "parser": parser_id,
        "pose_file": person.pose,
        "parse_file": person.parse,
        "prep_version": PERSON_PREP_VERSION,
        "parse": "parse.png",
        "keypoints": kp.round(3).tolist(),
        "keypoints_source": _map_points(kp, 1.0 / scale).round(3).tolist(),
        "keypoints_frame": fr.points(kp).round(3).tolist(),
        "frame": {
            "size": list(FRAME_SIZE),
            "scaled_size": [fr.th, fr.tw],
            "offset": [fr.ox, fr.oy],
        },
        "label_pixels": _label_counts(labels),
        "notes": sorted(set(notes + torso_notes)),
    }
    store.write_text(f"{key}/meta.json", json.dumps(meta, indent=1))
    return meta


def load_person_asset(store: Store, key: str) -> PersonAsset:
    """Load a prepared person's image, mask, keypoints and label map."""
    meta = json.loads(store.read_text(f"{key}/meta.json"))
    image = decode_image(store.read_bytes(f"{key}/image.jpg"), key).rgb
    mask = decode_mask(store.read_bytes(f"{key}/mask.png"), key)
    kp = np.asarray(meta["keypoints"], np.float32)
    parse = None
    if meta.get("parse"):
        parse = decode_labels(store.read_bytes(f"{key}/{meta['parse']}"), key)
    return PersonAsset(image, mask, kp, meta, parse)
