"""A tiny synthetic dataset in the VITON layout, for tests, benchmarks and smoke runs.

Each person is a `vton.person.synthetic` drawing (exact LIP labels and COCO-18 keypoints)
at 256x192 with its own shirt colour, arm angle, size and position. Its garment photo is
the shirt cut out of the drawing, scaled up and centred on white, as catalog photos show a
garment flat and larger than worn: learning to warp it back onto the body is a real (small)
geometric matching problem. The ideal warps (the shirt where the person wears it) are also
written as `warp-cloth/` and `warp-mask/`, under both references' names, so a TOM can train
from files.

Nothing here is a substitute for real data: it exercises the code paths and lets a loss
fall measurably in a few dozen steps.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
from PIL import Image

from vton.imageio import encode_image
from vton.person.keypoints import to_openpose_json
from vton.person.labels import encode_labels
from vton.person.synthetic import synthetic_person
from vton.person.viton import viton_parse
from vton.storage import Store

__all__ = ["write_synthetic_viton"]

_H, _W = 256, 192


def _garment_photo(
    image: np.ndarray, region: np.ndarray, zoom: float
) -> tuple[np.ndarray, np.ndarray]:
    """The pixels of `region` cut out, scaled by `zoom` and centred on a white 256x192
    canvas -> ((H, W, 3) uint8 photo, (H, W) uint8 {0, 255} mask)."""
    ys, xs = np.nonzero(region)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop = np.where(region[y0:y1, x0:x1, None], image[y0:y1, x0:x1], 255).astype(np.uint8)
    mcrop = np.where(region[y0:y1, x0:x1], 255, 0).astype(np.uint8)
    h, w = crop.shape[:2]
    s = min(zoom, 0.9 * _H / h, 0.9 * _W / w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    big = np.asarray(Image.fromarray(crop).resize((nw, nh), Image.Resampling.BICUBIC))
    bigm = np.asarray(Image.fromarray(mcrop).resize((nw, nh), Image.Resampling.BILINEAR))
    photo = np.full((_H, _W, 3), 255, np.uint8)
    mask = np.zeros((_H, _W), np.uint8)
    oy, ox = (_H - nh) // 2, (_W - nw) // 2
    m = bigm >= 128
    photo[oy : oy + nh, ox : ox + nw][m] = big[m]
    mask[oy : oy + nh, ox : ox + nw] = np.where(m, 255, 0)
    return photo, mask


def write_synthetic_viton(
    root: str | os.PathLike,
    n: int = 4,
    *,
    datamode: str = "train",
    seed: int = 0,
    storage_options: Mapping[str, Any] | None = None,
) -> str:
    """Write `n` persons, each with its own garment, in the VITON layout under
    `root`/`datamode`, and `<datamode>_pairs.txt` pairing each person with their garment
    (`NNNNNN_0.jpg NNNNNN_1.jpg`); returns the pairs file's key."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(seed)
    store = Store(os.fspath(root), storage_options)
    lines = []
    for i in range(n):
        shirt = tuple(int(v) for v in rng.integers(20, 200, 3))
        person = synthetic_person(
            _H,
            _W,
            arm_angle=float(rng.uniform(15, 35)),
            sleeves="short" if i % 2 == 0 else "long",
            scale=float(rng.uniform(0.8, 0.92)),
            centre=(float(rng.uniform(0.45, 0.55)), float(rng.uniform(0.03, 0.07))),
            shirt=shirt,
        )
        im_name, c_name = f"{i:06d}_0.jpg", f"{i:06d}_1.jpg"
        stem = im_name[: -len(".jpg")]
        region = np.isin(person.labels, (5, 6, 7))
        cloth, cloth_mask = _garment_photo(person.image, region, float(rng.uniform(1.15, 1.35)))
        base = datamode
        store.write_bytes(f"{base}/image/{im_name}", encode_image(person.image, "jpg", 95))
        store.write_bytes(f"{base}/cloth/{c_name}", encode_image(cloth, "jpg", 95))
        store.write_bytes(f"{base}/cloth-mask/{c_name}", encode_image(cloth_mask, "jpg", 100))
        store.write_bytes(
            f"{base}/image-parse/{stem}.png",
            encode_labels(viton_parse(person.labels), palette=True),
        )
        store.write_bytes(f"{base}/image-parse-new/{stem}.png", encode_labels(person.labels))
        store.write_bytes(f"{base}/image-mask/{stem}.png", encode_image(person.mask))
        store.write_text(
            f"{base}/pose/{stem}_keypoints.json",
            to_openpose_json(person.keypoints, "pose_keypoints"),
        )
        worn = np.where(region[:, :, None], person.image, 255).astype(np.uint8)
        worn_mask = np.where(region, 255, 0).astype(np.uint8)
        for name in (im_name, c_name):  # CP-VTON+ names warps by person, CP-VTON by cloth
            store.write_bytes(f"{base}/warp-cloth/{name}", encode_image(worn, "jpg", 95))
            store.write_bytes(f"{base}/warp-mask/{name}", encode_image(worn_mask, "jpg", 100))
        lines.append(f"{im_name} {c_name}\n")
    key = f"{datamode}_pairs.txt"
    store.write_text(key, "".join(lines))
    return key
