"""CP-VTON's 256x192 frame: how a person photo of any size sits in it.

VITON's images are 256 high and 192 wide, and CP-VTON's networks take nothing else. A photo
of another shape is scaled to fit inside the frame, keeping its aspect ratio, and centred;
the bars left over are white (VITON's studio background, the background TOM learnt to
render) in the image and background (0) in the label map and mask. The scaled size and the
offsets are whole pixels, and keypoints are mapped with exactly the same scale and offset
as the pixels, so pose squares land where the body is.

Conventions: coordinates are continuous pixel coordinates (pixel i covers [i, i + 1)), the
convention MediaPipe and OpenPose keypoints use; a point (x, y) of the photo is at
(x * sx + ox, y * sy + oy) in the frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from vton.imageio import resize_image

if TYPE_CHECKING:
    from vton.person.prep import PersonAsset

__all__ = ["FRAME_SIZE", "Frame", "FramedPerson", "frame_person"]

#: CP-VTON's input size, (height, width).
FRAME_SIZE = (256, 192)


@dataclass(frozen=True)
class Frame:
    """Placement of an (h, w) photo in an (fh, fw) frame: scaled to (th, tw) pixels and
    pasted with its top-left corner at (ox, oy)."""

    h: int
    w: int
    fh: int
    fw: int
    th: int
    tw: int
    ox: int
    oy: int

    @classmethod
    def fit(cls, h: int, w: int, size: tuple[int, int] = FRAME_SIZE) -> Frame:
        """The largest centred placement of an h x w photo inside `size` = (height, width)."""
        if h < 1 or w < 1:
            raise ValueError(f"photo size must be positive, got {h}x{w}")
        fh, fw = size
        s = min(fh / h, fw / w)
        th, tw = min(fh, max(1, round(h * s))), min(fw, max(1, round(w * s)))
        return cls(h, w, fh, fw, th, tw, (fw - tw) // 2, (fh - th) // 2)

    @property
    def scale(self) -> tuple[float, float]:
        """(sx, sy): frame pixels per photo pixel, per axis (equal up to rounding)."""
        return self.tw / self.w, self.th / self.h

    def points(self, kp: np.ndarray) -> np.ndarray:
        """(N, 3) float (x, y, confidence) photo keypoints -> frame keypoints; undetected
        points (confidence <= 0) stay (0, 0, 0)."""
        if kp.ndim != 2 or kp.shape[1] != 3:
            raise ValueError(f"expected (N, 3) keypoints, got {kp.shape}")
        sx, sy = self.scale
        out = np.zeros_like(kp, dtype=np.float32)
        seen = kp[:, 2] > 0
        out[seen, 0] = kp[seen, 0] * sx + self.ox
        out[seen, 1] = kp[seen, 1] * sy + self.oy
        out[seen, 2] = kp[seen, 2]
        return out

    def _check(self, arr: np.ndarray) -> None:
        if arr.shape[:2] != (self.h, self.w):
            raise ValueError(f"expected a {self.h}x{self.w} array, got {arr.shape}")

    def image(self, rgb: np.ndarray, fill: int = 255) -> np.ndarray:
        """(h, w, 3) uint8 RGB -> (fh, fw, 3) uint8, bars filled with `fill` (white)."""
        self._check(rgb)
        out = np.full((self.fh, self.fw, 3), fill, np.uint8)
        out[self.oy : self.oy + self.th, self.ox : self.ox + self.tw] = resize_image(
            rgb, (self.th, self.tw)
        )
        return out

    def labels(self, ids: np.ndarray) -> np.ndarray:
        """(h, w) uint8 label ids -> (fh, fw) uint8, nearest neighbour (ids are not
        averaged), bars 0 (background)."""
        self._check(ids)
        out = np.zeros((self.fh, self.fw), np.uint8)
        small = Image.fromarray(ids).resize((self.tw, self.th), Image.Resampling.NEAREST)
        out[self.oy : self.oy + self.th, self.ox : self.ox + self.tw] = np.asarray(small)
        return out

    def mask(self, mask: np.ndarray) -> np.ndarray:
        """(h, w) uint8 {0, 255} -> (fh, fw) uint8 {0, 255}: area-averaged, then >= 128."""
        self._check(mask)
        out = np.zeros((self.fh, self.fw), np.uint8)
        soft = np.asarray(Image.fromarray(mask).resize((self.tw, self.th), Image.Resampling.BOX))
        out[self.oy : self.oy + self.th, self.ox : self.ox + self.tw] = np.where(
            soft >= 128, 255, 0
        )
        return out


@dataclass(frozen=True)
class FramedPerson:
    """A prepared person in CP-VTON's frame.

    image: (256, 192, 3) uint8 RGB; parse: (256, 192) uint8 LIP ids (None if the asset has
    none); mask: (256, 192) uint8 {0, 255}; keypoints: (18, 3) float32 in frame pixels,
    undetected points (0, 0, 0).
    """

    image: np.ndarray
    parse: np.ndarray | None
    mask: np.ndarray
    keypoints: np.ndarray
    frame: Frame


def frame_person(asset: PersonAsset, size: tuple[int, int] = FRAME_SIZE) -> FramedPerson:
    """A prepared person's image, label map, mask and keypoints placed in the frame.

    Keypoints are rounded to 3 decimals, the precision of the pose files `vton.person.viton`
    writes, so that a representation built from this equals one built from an export.
    """
    h, w = asset.image.shape[:2]
    fr = Frame.fit(h, w, size)
    parse = getattr(asset, "parse", None)
    return FramedPerson(
        image=fr.image(asset.image),
        parse=None if parse is None else fr.labels(parse),
        mask=fr.mask(asset.mask),
        keypoints=np.round(fr.points(asset.keypoints), 3),
        frame=fr,
    )
