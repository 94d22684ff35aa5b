"""CP-VTON's cloth-agnostic person representation: 22 channels at 256x192.

Built exactly as the reference data loaders build it (`cp_dataset.py` of CP-VTON,
github.com/sergeywong/cp-vton, MIT; and of CP-VTON+, github.com/minar09/cp-vton-plus, MIT),
so that published GMM/TOM checkpoints see the input they were trained on:

- channel 0, body shape: the body mask as a 0/255 image, resized with PIL's bilinear filter
  to (W // 16, H // 16) (12x16) and back to (W, H); PIL's bilinear antialiases when it
  shrinks (torch's `interpolate` does not by default), which is what makes this a blur.
  CP-VTON's body mask is `parse > 0`; CP-VTON+'s is its separate body mask (`image-mask`).
- channels 1-3, head: the photo's RGB inside the head labels and -1 elsewhere
  (``im * head - (1 - head)``). Head labels: CP-VTON 1 hat, 2 hair, 4 sunglasses, 13 face;
  CP-VTON+ GMM 1, 4, 13; CP-VTON+ TOM 1, 2, 4, 9 pants, 12 skirt, 13, 16/17 legs.
- channels 4-21, pose: one channel per COCO-18 keypoint, a white square of
  (2 * radius + 1) pixels (radius 5: 11x11) centred on the point, drawn as PIL's
  `ImageDraw.rectangle((x - r, y - r, x + r, y + r))` draws it: corners truncated to whole
  pixels, both ends inclusive, clipped to the image. Points with x <= 1 or y <= 1 (OpenPose's
  "not detected" (0, 0)) are skipped, whatever their confidence.

Every channel is ``(v / 255 - 0.5) / 0.5`` of an 8-bit image (torchvision's ToTensor and
Normalize(0.5, 0.5)), so all values are in [-1, 1]; pose and head outside are exactly -1.

CP-VTON's parses have no label 20 (CP-VTON+'s neck, which our estimate produces): for the
CP-VTON variant it reads as background, as in the `image-parse/` files
`vton.person.viton` exports, so the representation equals what the reference computes from
an export.
"""

from __future__ import annotations

from enum import Enum

import numpy as np
import torch
from PIL import Image

from vton.person.frame import FramedPerson
from vton.person.labels import NECK
from vton.tensors import image_to_tensor, mask_to_tensor

__all__ = [
    "Variant",
    "HEAD_LABELS",
    "NUM_CHANNELS",
    "person_representation",
    "representation_for_person",
    "body_shape",
    "pose_squares",
]

NUM_CHANNELS = 22
RADIUS = 5


class Variant(str, Enum):
    """Which reference's representation to build."""

    CP_VTON = "cp-vton"
    CP_VTON_PLUS_GMM = "cp-vton+gmm"
    CP_VTON_PLUS_TOM = "cp-vton+tom"


#: LIP labels copied into the head channels, per variant.
HEAD_LABELS: dict[Variant, tuple[int, ...]] = {
    Variant.CP_VTON: (1, 2, 4, 13),
    Variant.CP_VTON_PLUS_GMM: (1, 4, 13),
    Variant.CP_VTON_PLUS_TOM: (1, 2, 4, 9, 12, 13, 16, 17),
}


def _gray_to_tensor(gray: np.ndarray) -> torch.Tensor:
    """(H, W) uint8 -> (1, H, W) float32 (v / 255 - 0.5) / 0.5, through the project's one
    image conversion (`image_to_tensor` computes v / 127.5 - 1, which equals the reference's
    ToTensor + Normalize(0.5, 0.5) bit for bit for all 256 values)."""
    return image_to_tensor(np.repeat(gray[:, :, None], 3, axis=2))[0, :1]


def body_shape(mask: np.ndarray) -> torch.Tensor:
    """(H, W) bool or {0, 255} body mask -> (1, H, W) float32 in [-1, 1]: the mask blurred by
    PIL bilinear down to (W // 16, H // 16) and back up."""
    if mask.ndim != 2:
        raise ValueError(f"expected an (H, W) mask, got {mask.shape}")
    h, w = mask.shape
    if h < 16 or w < 16:
        raise ValueError(f"mask {h}x{w} is smaller than 16 px; CP-VTON shrinks it 16 times")
    img = Image.fromarray(np.where(mask > 0, 255, 0).astype(np.uint8))
    img = img.resize((w // 16, h // 16), Image.Resampling.BILINEAR)
    img = img.resize((w, h), Image.Resampling.BILINEAR)
    return _gray_to_tensor(np.asarray(img))


def pose_squares(
    keypoints: np.ndarray, size: tuple[int, int], radius: int = RADIUS
) -> torch.Tensor:
    """(N, 3) keypoints (x, y, confidence) -> (N, H, W) float32, 1 inside each point's
    square and -1 elsewhere; `size` = (H, W). Squares as PIL draws
    ``rectangle((x - r, y - r, x + r, y + r))``: corners truncated toward zero, inclusive;
    points with x <= 1 or y <= 1 are skipped."""
    if keypoints.ndim != 2 or keypoints.shape[1] != 3:
        raise ValueError(f"expected (N, 3) keypoints, got {keypoints.shape}")
    h, w = size
    out = torch.full((keypoints.shape[0], h, w), -1.0, dtype=torch.float32)
    for i, (x, y) in enumerate(keypoints[:, :2].astype(np.float64)):
        if not (x > 1 and y > 1):
            continue
        # int() truncates toward zero, as the C cast in PIL's draw_rectangle does.
        x0, x1 = max(int(x - radius), 0), min(int(x + radius), w - 1)
        y0, y1 = max(int(y - radius), 0), min(int(y + radius), h - 1)
        if x0 <= x1 and y0 <= y1:
            out[i, y0 : y1 + 1, x0 : x1 + 1] = 1.0
    return out


def person_representation(
    image: np.ndarray,
    parse: np.ndarray,
    keypoints: np.ndarray,
    variant: Variant | str = Variant.CP_VTON,
    body_mask: np.ndarray | None = None,
    radius: int = RADIUS,
) -> torch.Tensor:
    """CP-VTON's 22-channel person representation.

    Parameters
    ----------
    image : (H, W, 3) uint8 RGB person photo in CP-VTON's frame (256x192).
    parse : (H, W) uint8 LIP label ids (0..20), same frame.
    keypoints : (18, 3) float COCO-18 (x, y, confidence) in frame pixels, missing = 0.
    variant : ``cp-vton``, ``cp-vton+gmm`` or ``cp-vton+tom`` (head labels, shape source).
    body_mask : (H, W) uint8 {0, 255} body mask: CP-VTON+'s shape source (`image-mask`).
        None uses ``parse > 0``, CP-VTON's. Ignored by the CP-VTON variant.
    radius : half side of the pose squares (5 in both references' train/test scripts).

    Returns
    -------
    (22, H, W) float32 in [-1, 1]: shape (1), head RGB (3), pose squares (18).
    """
    variant = Variant(variant)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected (H, W, 3) uint8 image, got {image.shape} {image.dtype}")
    h, w = image.shape[:2]
    if parse.shape != (h, w):
        raise ValueError(f"parse {parse.shape} does not match the image {(h, w)}")
    if keypoints.shape != (18, 3):
        raise ValueError(f"expected (18, 3) COCO-18 keypoints, got {keypoints.shape}")
    if variant is Variant.CP_VTON:
        shape_mask = (parse > 0) & (parse != NECK)
    elif body_mask is not None:
        if body_mask.shape != (h, w):
            raise ValueError(f"body_mask {body_mask.shape} does not match the image {(h, w)}")
        shape_mask = body_mask > 0
    else:
        shape_mask = parse > 0
    shape = body_shape(shape_mask)
    im = image_to_tensor(image)[0]
    head_mask = np.isin(parse, HEAD_LABELS[variant])
    phead = mask_to_tensor(np.where(head_mask, 255, 0).astype(np.uint8))[0]
    head = im * phead - (1 - phead)
    pose = pose_squares(keypoints, (h, w), radius)
    return torch.cat([shape, head, pose], 0)


def representation_for_person(
    person: FramedPerson, variant: Variant | str = Variant.CP_VTON
) -> torch.Tensor:
    """`person_representation` of a prepared person placed in the frame
    (`vton.person.frame.frame_person`); CP-VTON+ variants take its person mask as shape."""
    if person.parse is None:
        raise ValueError("this person asset has no label map (prepared before parse.png)")
    return person_representation(
        person.image, person.parse, person.keypoints, variant, body_mask=person.mask
    )
