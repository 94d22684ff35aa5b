"""Human parsing: a LIP label map for a person photo.

Two back-ends behind one interface (`HumanParser`):

`MediaPipeParser`, the embedded default, estimates the labels from MediaPipe's bundled
models only (pose keypoints and person mask from `vton.person.pose`, and the bundled face
mesh). It is a set of geometric rules, not a trained parser; each label is made this way:

- 13 face: the convex hull of the face mesh's face-oval landmarks (the mesh runs on a crop
  around the head, scaled up, so that the small faces of full-body shots are found). If the
  mesh finds no face, an ellipse from the eyes, ears and nose; if those are missing too (a
  person seen from behind) there is no face, and the head is all hair.
- 2 hair: person-mask pixels above the chin, within 0.8 shoulder widths of the head's centre,
  that are not face. A hat is labelled hair (1 hat is never estimated); hair falling below
  the chin is labelled as whatever lies there (clothes).
- 20 neck: skin-coloured mask pixels between the chin and the shoulder line, within 0.3
  shoulder widths of the neck (CP-VTON+'s extra label; see `vton.person.labels`).
- 14 left-arm, 15 right-arm (the person's own left and right, as in COCO-18 names):
  skin-coloured mask pixels inside capsules drawn along shoulder-elbow-wrist and on past the
  wrist for the hand. Sleeves are not skin and stay upper-clothes.
- 16 left-leg, 17 right-leg: skin-coloured mask pixels below the hips inside capsules along
  hip-knee-ankle. 18 left-shoe, 19 right-shoe: non-skin mask pixels around and below each
  ankle.
- 5 upper-clothes: every other mask pixel between the chin and the hip line (the whole
  mask below the chin when the hips are not in the photo).
- 9 pants: every other mask pixel below the hip line. Skirt (12), dress (6), coat (7),
  jumpsuit (10) and the small items (3 glove, 4 sunglasses, 8 socks, 11 scarf) cannot be
  told apart with these models and are never produced; CP-VTON's representation treats
  pants and skirt alike (CP-VTON+ TOM keeps both), so this loses nothing there.
- 0 background: outside the person mask. Every mask pixel gets a non-zero label, so the
  label map's body shape (`parse > 0`, CP-VTON's shape) is the person mask.

"Skin-coloured" is a per-photo model: the median and spread of the face's chroma (YCrCb
Cr, Cb), within 3 robust standard deviations; without a usable face, a fixed skin range.
A photo without colour (grayscale) has no skin cue: there the arms are only the hands (past
the wrists), the legs are pants and there is no neck.
"Above", "below" and the lines are image rows: the rules assume an upright person, as in
catalog photos.

`OnnxHumanParser` runs a real LIP- or ATR-trained parser exported to ONNX (for example
Self-Correction Human Parsing), whose path comes from the configuration; `make_parser`
builds either from that setting.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol

import cv2
import numpy as np

from vton.digest import DIGEST_CHARS, file_sha256
from vton.errors import CheckpointError
from vton.geometry.capsules import capsule_mask
from vton.person.labels import LIP, NECK, labels_to_lip
from vton.person.mediapipe_graphs import PerThread, mediapipe_solution
from vton.person.pose import FaceBox, PoseResult

__all__ = [
    "HumanParser",
    "MediaPipeParser",
    "OnnxHumanParser",
    "make_parser",
    "estimate_labels",
    "face_ellipse",
    "fit_labels_to_mask",
    "FACE_OVAL",
]

#: Face-mesh landmark ids on the face's outline (MediaPipe `FACEMESH_FACE_OVAL`).
FACE_OVAL = (
    10, 21, 54, 58, 67, 93, 103, 109, 127, 132, 136, 148, 149, 150, 152, 162, 172, 176, 234,
    251, 284, 288, 297, 323, 332, 338, 356, 361, 365, 377, 378, 379, 389, 397, 400, 454,
)  # fmt: skip
#: Fixed skin chroma range (YCrCb), used when the photo has no usable face to learn from.
SKIN_CR = (133.0, 180.0)
SKIN_CB = (77.0, 135.0)

_UPPER, _PANTS, _HAIR, _FACE = LIP["upper-clothes"], LIP["pants"], LIP["hair"], LIP["face"]
#: (shoulder, elbow, wrist) COCO-18 ids and label of each arm; (hip, knee, ankle) of each leg.
_ARMS = ((5, 6, 7, LIP["left-arm"]), (2, 3, 4, LIP["right-arm"]))
_LEGS = (
    (11, 12, 13, LIP["left-leg"], LIP["left-shoe"]),
    (8, 9, 10, LIP["right-leg"], LIP["right-shoe"]),
)


class HumanParser(Protocol):
    """Makes a LIP label map. `id` names the back-end and its settings (it keys assets)."""

    id: str

    def parse(self, rgb: np.ndarray, pose: PoseResult, item: str) -> np.ndarray:
        """(H, W, 3) uint8 RGB photo and its pose -> (H, W) uint8 LIP ids (0..20)."""
        ...


def _pt(kp: np.ndarray, i: int) -> np.ndarray | None:
    return kp[i, :2].astype(np.float64) if kp[i, 2] > 0 else None


def face_ellipse(kp: np.ndarray) -> np.ndarray | None:
    """A face outline from the head keypoints, (N, 2) float32 points, or None.

    Width from the ears (or 2.3 eye distances); height 1.3 widths; centred between the eyes
    and the nose. For photos where the face mesh finds no face.
    """
    nose, reye, leye, rear, lear = (_pt(kp, i) for i in (0, 14, 15, 16, 17))
    eyes = [p for p in (reye, leye) if p is not None]
    if nose is None and not eyes:
        return None
    if rear is not None and lear is not None:
        width = float(np.hypot(*(lear - rear)))
    elif reye is not None and leye is not None:
        width = 2.3 * float(np.hypot(*(leye - reye)))
    elif kp[2, 2] > 0 and kp[5, 2] > 0:
        width = 0.45 * float(np.hypot(*(kp[5, :2] - kp[2, :2])))
    else:
        return None
    if width < 2:
        return None
    anchor = [*eyes, nose] if nose is not None else eyes
    cx, cy = np.mean(anchor, axis=0)
    a, b = width / 2, 0.65 * width
    t = np.linspace(0, 2 * np.pi, 32, endpoint=False)
    return np.stack([cx + a * np.cos(t), cy + 0.15 * b + b * np.sin(t)], 1).astype(np.float32)


def _skin(ycrcb: np.ndarray, m: np.ndarray, face: np.ndarray | None) -> np.ndarray | None:
    """Boolean skin map over the person mask `m`, from a chroma model learnt on `face`
    pixels; None for a photo without colour, where skin cannot be told from cloth."""
    cr = ycrcb[..., 1].astype(np.float32)
    cb = ycrcb[..., 2].astype(np.float32)
    sub = m[::3, ::3]  # every 9th pixel is plenty to tell colour from grey
    chroma = np.maximum(np.abs(cr[::3, ::3][sub] - 128), np.abs(cb[::3, ::3][sub] - 128))
    if chroma.size == 0 or float(np.percentile(chroma, 99)) < 4:
        return None
    if face is not None and int(face.sum()) >= 50:
        fcr, fcb = cr[face], cb[face]
        mcr, mcb = np.median(fcr), np.median(fcb)
        scr = max(1.4826 * float(np.median(np.abs(fcr - mcr))), 3.0)
        scb = max(1.4826 * float(np.median(np.abs(fcb - mcb))), 3.0)
        skin = (np.abs(cr - mcr) <= 3 * scr) & (np.abs(cb - mcb) <= 3 * scb)
    else:
        skin = (cr >= SKIN_CR[0]) & (cr <= SKIN_CR[1]) & (cb >= SKIN_CB[0]) & (cb <= SKIN_CB[1])
    return skin & m


def _limbs(shape: tuple[int, int], segments: Sequence[tuple], origin: np.ndarray) -> np.ndarray:
    """(H, W) bool limb capsules over the crop at `origin`. Radii are rounded to whole
    pixels first: the rules have always drawn limbs 2 * round(r) px wide, and the label
    maps they give must not change with the shared rasteriser."""
    return capsule_mask(shape, [(p, q, max(1, round(float(r)))) for p, q, r in segments], origin)


def estimate_labels(
    rgb: np.ndarray,
    mask: np.ndarray,
    keypoints: np.ndarray,
    face_outline: np.ndarray | None,
) -> np.ndarray:
    """The rule-based LIP label map (rules in the module docstring).

    Parameters
    ----------
    rgb : (H, W, 3) uint8 RGB photo.
    mask : (H, W) uint8 {0, 255} person mask; labels are non-zero exactly inside it.
    keypoints : (18, 3) float32 COCO-18 (x, y, confidence) in the photo's pixels.
    face_outline : (N, 2) float points around the face in the photo's pixels, or None.

    Returns
    -------
    (H, W) uint8 LIP ids.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected (H, W, 3) uint8 rgb, got {rgb.shape} {rgb.dtype}")
    if mask.shape != rgb.shape[:2]:
        raise ValueError(f"mask {mask.shape} does not match the photo {rgb.shape[:2]}")
    if keypoints.shape != (18, 3):
        raise ValueError(f"expected (18, 3) keypoints, got {keypoints.shape}")
    h, w = mask.shape
    labels = np.zeros((h, w), np.uint8)
    if not mask.any():
        return labels
    # Work inside the mask's bounding box: the rules only ever label mask pixels.
    rows, cols = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    m = mask[y0:y1, x0:x1] > 0
    bh, bw = m.shape
    origin = np.array([x0, y0], np.float64)
    kp = keypoints
    ys = np.arange(y0, y1, dtype=np.float32)[:, None]
    xs = np.arange(x0, x1, dtype=np.float32)[None, :]

    rs, ls = _pt(kp, 2), _pt(kp, 5)
    neck = _pt(kp, 1)
    if neck is None and rs is not None and ls is not None:
        neck = (rs + ls) / 2
    face = None
    if face_outline is not None and len(face_outline) >= 3:
        hull = cv2.convexHull(np.round(face_outline - origin).astype(np.int32))
        canvas = np.zeros((bh, bw), np.uint8)
        cv2.fillConvexPoly(canvas, hull, 1)
        face = canvas.astype(bool) & m
    if rs is not None and ls is not None:
        sw = float(np.hypot(*(ls - rs)))
    elif face_outline is not None:
        sw = 2.5 * float(np.ptp(face_outline[:, 0]))
    else:
        sw = 0.25 * max(bh, bw)
    sw = max(sw, 4.0)
    hips = [p for p in (_pt(kp, 8), _pt(kp, 11)) if p is not None]
    hip_y = float(np.mean([p[1] for p in hips])) if hips else None

    ycrcb = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2YCrCb)
    skin = _skin(ycrcb, m, face)
    grey = skin is None
    if grey:
        skin = np.zeros_like(m)

    labels_box = np.where(m, _UPPER, 0).astype(np.uint8)
    if hip_y is not None:
        labels_box[m & (ys >= hip_y)] = _PANTS

    for hip_i, knee_i, ankle_i, leg_label, shoe_label in _LEGS:
        hip, knee, ankle = _pt(kp, hip_i), _pt(kp, knee_i), _pt(kp, ankle_i)
        segs = []
        if hip is not None and knee is not None:
            segs.append((hip, knee, 0.28 * sw))
        if knee is not None and ankle is not None:
            segs.append((knee, ankle, 0.18 * sw))
        if segs and hip_y is not None:
            leg = _limbs((bh, bw), segs, origin) & skin & (ys >= hip_y)
            labels_box[leg] = leg_label
        if ankle is not None:
            foot = np.zeros((bh, bw), np.uint8)
            c = ankle - origin + (0, 0.12 * sw)
            centre = (round(float(c[0])), round(float(c[1])))
            cv2.circle(foot, centre, max(1, round(0.22 * sw)), 1, -1)
            shoe = foot.astype(bool) & m & ~skin & (ys >= ankle[1])
            labels_box[shoe] = shoe_label

    arm_any = np.zeros((bh, bw), bool)
    for sh_i, el_i, wr_i, arm_label in _ARMS:
        sh, el, wr = _pt(kp, sh_i), _pt(kp, el_i), _pt(kp, wr_i)
        segs = []
        if sh is not None and el is not None:
            segs.append((sh, el, 0.2 * sw))
        if el is not None and wr is not None:
            hand = (wr, wr + 0.45 * (wr - el), 0.16 * sw)
            # No colour: only the hands (past the wrist), which are rarely covered.
            segs = [hand] if grey else [*segs, (el, wr, 0.15 * sw), hand]
        elif grey:
            segs = []
        if segs:
            arm = _limbs((bh, bw), segs, origin) & (m if grey else skin)
            labels_box[arm] = arm_label
            arm_any |= arm

    # Head: above the chin, near the head's centre line.
    if face is not None and face.any():
        fy, fx = np.nonzero(face)
        chin_y, head_x = float(fy.max() + y0), float(fx.mean() + x0)
    else:
        nose = _pt(kp, 0)
        centre = nose if nose is not None else neck
        head_x = float(centre[0]) if centre is not None else None
        if nose is not None and neck is not None:
            chin_y = float(nose[1] + 0.45 * (neck[1] - nose[1]))
        elif neck is not None:
            chin_y = float(neck[1] - 0.3 * sw)
        else:
            chin_y = None
    if chin_y is not None and head_x is not None:
        head = m & (ys < chin_y) & (np.abs(xs - head_x) <= 0.8 * sw) & ~arm_any
        labels_box[head] = _HAIR
        if face is not None:
            labels_box[face] = _FACE
        if neck is not None:
            neck_zone = (ys >= chin_y) & (ys < neck[1]) & (np.abs(xs - neck[0]) <= 0.3 * sw)
            labels_box[neck_zone & skin & ~arm_any] = NECK
    labels[y0:y1, x0:x1] = labels_box
    return labels


def fit_labels_to_mask(labels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Upscale an (h, w) label map to the (H, W) `mask` {0, 255} (nearest), so that labels
    are non-zero exactly inside the mask: outside is 0, and mask pixels the small map
    missed take the largest id among their 5x5 neighbours (upper-clothes if none)."""
    h, w = mask.shape
    up = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST_EXACT)
    inside = mask > 0
    up[~inside] = 0
    holes = inside & (up == 0)
    if holes.any():
        grown = cv2.dilate(up, np.ones((5, 5), np.uint8))
        up[holes] = grown[holes]
        up[inside & (up == 0)] = _UPPER
    return up


class MediaPipeParser:
    """The rule-based LIP estimate (module docstring) with MediaPipe's bundled face mesh,
    one graph per thread. Photos over `work_side` px are labelled at that size and the
    result fitted to the full-resolution mask (`fit_labels_to_mask`)."""

    id = "lip-estimate-mediapipe-0.10.21-v1"

    def __init__(self, mesh_size: int = 256, work_side: int = 512) -> None:
        self.mesh_size = mesh_size
        self.work_side = work_side
        self._mesh = PerThread(
            lambda: mediapipe_solution("face_mesh").FaceMesh(
                static_image_mode=True, max_num_faces=1
            )
        )

    def head_box(
        self, kp: np.ndarray, faces: Sequence[FaceBox], h: int, w: int
    ) -> tuple[int, int, int, int] | None:
        """Square crop (x0, y0, x1, y1) around this person's head, or None.

        From the detected face nearest the nose when there is one, else from the head
        keypoints; twice the face's size, as the face mesh's own detector expects.
        """
        nose = _pt(kp, 0)
        heads = [_pt(kp, i) for i in (0, 14, 15, 16, 17)]
        heads = [p for p in heads if p is not None]
        box = None
        if faces:
            ref = nose if nose is not None else (np.mean(heads, 0) if heads else None)
            if ref is not None:
                near = [f for f in faces if f.contains(ref[0], ref[1], margin=0.5)]
                if near:
                    f = near[0]
                    cx, cy, size = f.cx, (f.y0 + f.y1) / 2, 2.0 * max(f.width, f.height)
                    box = (cx, cy, size)
            elif len(faces) == 1:
                f = faces[0]
                box = (f.cx, (f.y0 + f.y1) / 2, 2.0 * max(f.width, f.height))
        if box is None:
            ellipse = face_ellipse(kp)
            if ellipse is None:
                return None
            cx, cy = ellipse.mean(0)
            size = 2.0 * float(max(np.ptp(ellipse[:, 0]), np.ptp(ellipse[:, 1])))
            box = (cx, cy, size)
        cx, cy, size = box
        half = max(size / 2, 8.0)
        x0, y0 = int(max(0, np.floor(cx - half))), int(max(0, np.floor(cy - half)))
        x1, y1 = int(min(w, np.ceil(cx + half))), int(min(h, np.ceil(cy + half)))
        if x1 - x0 < 8 or y1 - y0 < 8:
            return None
        return x0, y0, x1, y1

    def face_outline(self, rgb: np.ndarray, pose: PoseResult) -> np.ndarray | None:
        """(36, 2) float32 face-oval points in the photo's pixels from the face mesh, or None."""
        h, w = rgb.shape[:2]
        crop = self.head_box(pose.keypoints, pose.faces, h, w)
        if crop is None:
            return None
        x0, y0, x1, y1 = crop
        patch = rgb[y0:y1, x0:x1]
        n = self.mesh_size
        interp = cv2.INTER_AREA if max(patch.shape[:2]) > n else cv2.INTER_LINEAR
        patch = cv2.resize(patch, (n, n), interpolation=interp)
        result = self._mesh.get().process(np.ascontiguousarray(patch))
        if not result.multi_face_landmarks:
            return None
        lm = result.multi_face_landmarks[0].landmark
        pts = np.array([(lm[i].x, lm[i].y) for i in FACE_OVAL], np.float32)
        pts[:, 0] = pts[:, 0] * (x1 - x0) + x0
        pts[:, 1] = pts[:, 1] * (y1 - y0) + y0
        return pts

    def parse(self, rgb: np.ndarray, pose: PoseResult, item: str) -> np.ndarray:
        outline = self.face_outline(rgb, pose)
        if outline is None:
            outline = face_ellipse(pose.keypoints)
        h, w = rgb.shape[:2]
        f = min(1.0, self.work_side / max(h, w))
        if f >= 1.0:
            return estimate_labels(rgb, pose.mask, pose.keypoints, outline)
        # The rules work on regions many pixels wide: label a reduced copy, then fit the
        # result to the full-resolution mask.
        sw, sh = round(w * f), round(h * f)
        sx, sy = sw / w, sh / h
        small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
        small_mask = cv2.resize(pose.mask, (sw, sh), interpolation=cv2.INTER_AREA)
        small_mask = np.where(small_mask >= 128, 255, 0).astype(np.uint8)
        kp = pose.keypoints.copy()
        kp[:, 0] *= sx
        kp[:, 1] *= sy
        if outline is not None:
            outline = outline * np.array([sx, sy], np.float32)
        labels = estimate_labels(small, small_mask, kp, outline)
        return fit_labels_to_mask(labels, pose.mask)


class OnnxHumanParser:
    """A trained human parser exported to ONNX, run with onnxruntime on the CPU (or the
    given providers).

    The photo is scaled to fit `input_size` keeping its aspect ratio, centred, padded with
    zeros after normalisation, normalised per channel as ``(v / 255 - mean) / std`` in
    `channel_order`; the output's logits are cropped to the photo, resized to its size
    (bilinear) and arg-maxed. An output that already holds ids ((1, H, W) integers) is
    resized nearest. The defaults are Self-Correction Human Parsing's (BGR input, ImageNet
    statistics in BGR order); `input_size` defaults to the model's own input shape when it
    is fixed (SCHP's LIP model: 473x473, ATR: 512x512).

    Raises `CheckpointError` when the file is missing or is not a usable ONNX model.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        input_size: tuple[int, int] | None = None,
        mean: Sequence[float] = (0.406, 0.456, 0.485),
        std: Sequence[float] = (0.225, 0.224, 0.229),
        channel_order: str = "bgr",
        label_set: str = "lip",
        providers: Sequence[str] = ("CPUExecutionProvider",),
    ) -> None:
        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise CheckpointError(f"human parser model not found: {self.path}")
        if channel_order not in ("rgb", "bgr"):
            raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
        if label_set not in ("lip", "atr"):
            raise ValueError(f"label_set must be 'lip' or 'atr', got {label_set!r}")
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(f"mean and std need 3 values (std > 0), got {mean} and {std}")
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError("onnxruntime is not installed: pip install onnxruntime") from exc
        try:
            self.session = ort.InferenceSession(self.path, providers=list(providers))
        except Exception as exc:
            raise CheckpointError(
                f"{self.path} is not a loadable ONNX model: {' '.join(str(exc).split())[:300]}"
            ) from exc
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            shapes = [tuple(i.shape) for i in inputs]
            raise CheckpointError(
                f"{self.path}: a human parser takes one (1, 3, H, W) input, this model takes "
                f"{shapes}"
            )
        self.input_name = inputs[0].name
        if input_size is None:
            ih, iw = inputs[0].shape[2:]
            if not (isinstance(ih, int) and isinstance(iw, int)):
                raise CheckpointError(
                    f"{self.path}: the model's input size is not fixed ({ih}, {iw}); "
                    "give input_size=(height, width)"
                )
            input_size = (ih, iw)
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.mean = np.asarray(mean, np.float32)
        self.std = np.asarray(std, np.float32)
        self.channel_order = channel_order
        self.label_set = label_set
        settings = (
            f"{self.input_size[0]}x{self.input_size[1]}-{channel_order}-"
            f"{','.join(f'{v:g}' for v in (*mean, *std))}"
        )
        self.id = f"onnx-{label_set}-{file_sha256(self.path)[:DIGEST_CHARS]}-{settings}"

    def parse(self, rgb: np.ndarray, pose: PoseResult | None, item: str) -> np.ndarray:
        """(H, W, 3) uint8 RGB -> (H, W) uint8 LIP ids; `pose` is not used."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
        h, w = rgb.shape[:2]
        ih, iw = self.input_size
        s = min(ih / h, iw / w)
        th, tw = max(1, round(h * s)), max(1, round(w * s))
        oy, ox = (ih - th) // 2, (iw - tw) // 2
        interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
        small = cv2.resize(rgb, (tw, th), interpolation=interp).astype(np.float32) / 255.0
        if self.channel_order == "bgr":
            small = small[..., ::-1]
        x = np.zeros((ih, iw, 3), np.float32)
        x[oy : oy + th, ox : ox + tw] = (small - self.mean) / self.std
        out = self.session.run(None, {self.input_name: x.transpose(2, 0, 1)[None]})[0]
        out = np.asarray(out)
        if out.ndim == 4 and out.shape[0] == 1:
            logits = out[0].transpose(1, 2, 0).astype(np.float32)  # (oh, ow, C)
            oh, ow = logits.shape[:2]
            fy, fx = oh / ih, ow / iw
            cy0, cy1 = int(np.floor(oy * fy)), max(int(np.ceil((oy + th) * fy)), 1)
            cx0, cx1 = int(np.floor(ox * fx)), max(int(np.ceil((ox + tw) * fx)), 1)
            logits = np.ascontiguousarray(logits[cy0:cy1, cx0:cx1])
            if logits.shape[2] > 512:
                raise CheckpointError(f"{self.path}: {logits.shape[2]} classes is too many")
            big = cv2.resize(logits, (w, h), interpolation=cv2.INTER_LINEAR)
            ids = big.reshape(h, w, -1).argmax(-1)
        elif out.ndim in (2, 3) and np.issubdtype(out.dtype, np.integer):
            ids = out.reshape(out.shape[-2:])
            oh, ow = ids.shape
            fy, fx = oh / ih, ow / iw
            ry = slice(int(oy * fy), max(int((oy + th) * fy), 1))
            rx = slice(int(ox * fx), max(int((ox + tw) * fx), 1))
            crop = ids[ry, rx]
            ids = cv2.resize(crop.astype(np.int32), (w, h), interpolation=cv2.INTER_NEAREST)
        else:
            raise CheckpointError(
                f"{self.path}: expected (1, C, H, W) logits or (1, H, W) ids, got "
                f"{out.shape} {out.dtype}"
            )
        try:
            return labels_to_lip(ids, self.label_set)
        except ValueError as exc:
            raise CheckpointError(f"{self.path}: {exc}") from exc


_default_parser: MediaPipeParser | None = None


def make_parser(spec: str | None = None, **options) -> HumanParser:
    """The parser a setting names: None, ``""`` or ``estimate`` for the embedded MediaPipe
    estimate (one shared instance), else the path of an ONNX export (`options` go to
    `OnnxHumanParser`)."""
    global _default_parser
    if spec in (None, "", "estimate", "mediapipe"):
        if _default_parser is None:
            _default_parser = MediaPipeParser()
        return _default_parser
    return OnnxHumanParser(spec, **options)
