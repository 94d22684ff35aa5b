"""The LIP human-parsing label set, and reading and writing label maps.

A label map is an (H, W) uint8 array of label ids. Ids 0-19 are LIP's (Look Into Person,
Gong et al. 2017), the set VITON's `image-parse/` files and CP-VTON use; 20 is the
neck/skin label CP-VTON+ added in its `image-parse-new/` files (the original VITON parses
leave the neck as background). ATR's 18 labels (Liang et al. 2015), the other set human
parsers are trained on, map onto LIP with `ATR_TO_LIP`.

Files: VITON's parses are palette PNGs whose indices are the ids (`np.array(Image.open(f))`
gives ids, which is how CP-VTON reads them); grayscale PNGs holding the ids are read the
same way. RGB renderings are decoded through the LIP palette, exact colours only. The store
keeps grayscale ids (`encode_labels`), which both references read unchanged.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, UnidentifiedImageError

from vton.errors import InvalidInputError
from vton.imageio import PNG_COMPRESS_LEVEL

__all__ = [
    "LIP_LABELS",
    "LIP",
    "NECK",
    "NUM_LABELS",
    "LIP_PALETTE",
    "ATR_LABELS",
    "ATR_TO_LIP",
    "decode_labels",
    "encode_labels",
    "labels_to_lip",
    "colorize",
]

LIP_LABELS = (
    "background", "hat", "hair", "glove", "sunglasses", "upper-clothes", "dress", "coat",
    "socks", "pants", "jumpsuits", "scarf", "skirt", "face", "left-arm", "right-arm",
    "left-leg", "right-leg", "left-shoe", "right-shoe",
)  # fmt: skip
#: Label name -> id, with CP-VTON+'s `neck` (20) added.
LIP = {name: i for i, name in enumerate(LIP_LABELS)} | {"neck": 20}
NECK = 20
NUM_LABELS = 21

#: LIP's visualisation colours (as in the LIP toolkit and CP-VTON+), plus CP-VTON+'s neck.
LIP_PALETTE = np.array(
    [
        (0, 0, 0), (128, 0, 0), (255, 0, 0), (0, 85, 0), (170, 0, 51), (255, 85, 0),
        (0, 0, 85), (0, 119, 221), (85, 85, 0), (0, 85, 85), (85, 51, 0), (52, 86, 128),
        (0, 128, 0), (0, 0, 255), (51, 170, 221), (0, 255, 255), (85, 255, 170),
        (170, 255, 85), (255, 255, 0), (255, 170, 0), (189, 183, 107),
    ],
    np.uint8,
)  # fmt: skip

ATR_LABELS = (
    "background", "hat", "hair", "sunglasses", "upper-clothes", "skirt", "pants", "dress",
    "belt", "left-shoe", "right-shoe", "face", "left-leg", "right-leg", "left-arm",
    "right-arm", "bag", "scarf",
)  # fmt: skip
#: ATR id -> LIP id. LIP has no belt or bag: a belt goes with the pants, a bag is dropped
#: (background), so a carried bag never becomes part of the body shape.
ATR_TO_LIP = np.array(
    [LIP.get(name, 0) for name in ATR_LABELS[:8]] + [LIP["pants"]]
    + [LIP[name] for name in ATR_LABELS[9:16]] + [0, LIP["scarf"]],
    np.uint8,
)  # fmt: skip


def labels_to_lip(labels: np.ndarray, label_set: str) -> np.ndarray:
    """(H, W) integer ids of `label_set` (``lip`` or ``atr``) -> (H, W) uint8 LIP ids."""
    if label_set == "lip":
        if labels.size and int(labels.max()) >= NUM_LABELS:
            raise ValueError(f"LIP ids are 0..{NUM_LABELS - 1}, got {int(labels.max())}")
        return labels.astype(np.uint8, copy=False)
    if label_set == "atr":
        if labels.size and int(labels.max()) >= len(ATR_TO_LIP):
            raise ValueError(f"ATR ids are 0..{len(ATR_TO_LIP) - 1}, got {int(labels.max())}")
        return ATR_TO_LIP[labels]
    raise ValueError(f"label_set must be 'lip' or 'atr', got {label_set!r}")


def decode_labels(data: bytes, item: str) -> np.ndarray:
    """A parse PNG (palette, grayscale or LIP-coloured RGB) -> (H, W) uint8 LIP ids.

    Raises `InvalidInputError` naming `item` for an unreadable file, ids outside 0..20 or
    colours that are not LIP's.
    """
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:
        raise InvalidInputError(item, f"unreadable parse image: {exc}") from exc
    if img.mode in ("P", "L"):
        ids = np.asarray(img)
    elif img.mode in ("I", "I;16", "I;16B", "I;16L"):
        ids = np.asarray(img).astype(np.int64)
    elif img.mode in ("RGB", "RGBA"):
        rgb = np.asarray(img.convert("RGB")).astype(np.int32)
        code = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
        pal = LIP_PALETTE.astype(np.int32)
        keys = (pal[:, 0] << 16) | (pal[:, 1] << 8) | pal[:, 2]
        order = np.argsort(keys)
        pos = np.clip(np.searchsorted(keys[order], code), 0, len(keys) - 1)
        if not (keys[order][pos] == code).all():
            raise InvalidInputError(item, "RGB parse image has colours outside the LIP palette")
        ids = order[pos]
    else:
        raise InvalidInputError(item, f"parse image mode {img.mode} is not a label map")
    if ids.size and int(ids.max()) >= NUM_LABELS:
        raise InvalidInputError(
            item, f"parse image has label {int(ids.max())}; LIP ids are 0..{NUM_LABELS - 1}"
        )
    return np.ascontiguousarray(ids, dtype=np.uint8)


def encode_labels(labels: np.ndarray, palette: bool = False) -> bytes:
    """(H, W) uint8 ids -> PNG bytes: grayscale ids, or a palette PNG with LIP's colours
    (same ids when read with `np.array(Image.open(...))`, viewable as colours)."""
    if labels.dtype != np.uint8 or labels.ndim != 2:
        raise ValueError(f"expected (H, W) uint8 label ids, got {labels.shape} {labels.dtype}")
    img = Image.fromarray(labels)
    if palette:
        img = img.convert("P")
        img.putpalette(LIP_PALETTE.reshape(-1).tolist())
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buf.getvalue()


def colorize(labels: np.ndarray) -> np.ndarray:
    """(H, W) uint8 ids -> (H, W, 3) uint8 RGB in LIP's colours, for viewing."""
    return LIP_PALETTE[np.minimum(labels, NUM_LABELS - 1)]
