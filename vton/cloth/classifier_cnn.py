"""A small CNN that tells garment category and sleeve length from the product photo.

Why a CNN of our own: the silhouette rules (`vton.cloth.classify`) know only outlines, and
on real marketplace photos (garments flat on beds, floors and rugs, or on hangers) the
outline itself is unreliable because the masker struggles there. No pretrained weights can
be downloaded at run time, so the network is small enough to train from scratch on a CPU in
minutes: `train_classifier` fits it on a labelled catalog (the user's own ``category`` and
``sleeve`` columns), `train_from_folder` on a class-per-folder image collection, and
`load_classifier` brings the result back for the pipeline. The package ships one trained on
the CC0 clothing-small photos (`DEFAULT_WEIGHTS`, see ``weights/MODEL_CARD.md``).

Input: the whole product photo, letterboxed (aspect kept, border replicated) to `INPUT_SIZE`
as a (N, 3, H, W) float32 tensor in [-1, 1], and beside it the garment mask's silhouette
(`vton.cloth.studio.silhouette_vector`, from the masker's mask, as the cloth stage has it).
The photo carries most of the evidence (flat-lay masks are often wrong, and a mask error
must not become a category error; the network is trained with the silhouette dropped for a
fifth of the items and on wrong masks as the masker makes them); the silhouette separates
a tee from a dress and trousers from a dress on clean studio shots, where the mask is good.
Heads: category logits (`CATEGORIES`), sleeve logits (`SLEEVES`) and, when trained from
folders, logits over the folder classes (``fine``), whose probabilities summed per
category are averaged with the category head's. Logits are divided by temperatures fitted
on the held-out split (calibration), so a confidence below the cloth stage's threshold
means a real doubt.

Training data (`train_from_folder`): each photo as it is, and studio-like shots made from
it (`vton.cloth.studio`: the garment cut out by the masker and composited onto a catalog
backdrop), one of them drawn per garment per epoch; sleeveless garments are derived from
t-shirts and dresses by cutting their sleeves off the mask (the collection has none).

Architecture: a stem convolution and eight depthwise-separable blocks (residual where the
shape allows), global average pooling, a small silhouette layer, linear heads; about 0.2 M
parameters, a hundred or more images per second per CPU core at 112x84
(``benchmarks/bench_classifier.py``).

Files: ``<name>.pt`` holds the state dict (loadable with ``torch.load(weights_only=True)``)
and ``<name>.json`` beside it the metadata: format and version, architecture width, input
size, class lists and folder-class mapping, the sha256 of the weights, the training data
and the held-out accuracy.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vton.catalog import CATEGORIES, SLEEVES, parse_products, read_input_bytes, read_table
from vton.cloth.classify import SHIPPED_WEIGHTS, SLEEVED_CATEGORIES, Classification
from vton.cloth.studio import (
    MIN_MASK_CONFIDENCE,
    MaskCache,
    composite_rng,
    cut_sleeves,
    silhouette_vector,
    studio_composite,
)
from vton.digest import digest_parts, file_sha256
from vton.errors import CheckpointError, one_line
from vton.imageio import DEFAULT_MAX_PIXELS, DecodedImage, decode_image
from vton.schemas import ProductRow

__all__ = [
    "DEFAULT_WEIGHTS",
    "FOLDER_CLASSES",
    "FORMAT",
    "INPUT_SIZE",
    "SLEEVELESS_FROM",
    "CnnClassifier",
    "GarmentNet",
    "TrainingReport",
    "letterbox",
    "load_classifier",
    "photo_tensor",
    "read_image_folder",
    "silhouette_tensor",
    "sleeve_set",
    "train_classifier",
    "train_from_folder",
]

FORMAT = "vton-garment-classifier"
FORMAT_VERSION = 3
#: Versions `load_classifier` reads: 2 (photo only) and 3 (photo + silhouette, calibrated).
_READABLE_VERSIONS = (2, 3)
#: (height, width) of the network input: a 4:3 portrait canvas, like CP-VTON's.
INPUT_SIZE = (112, 84)
#: The classifier shipped with the package (trained on clothing-small, CC0).
DEFAULT_WEIGHTS = SHIPPED_WEIGHTS
#: Folder class -> (category, sleeve) for class-per-folder collections such as clothing-small.
#: A sleeve of None means "not labelled" (dresses come in every length); alternatives joined
#: by ``|`` mean "one of these": shirts there are short- or long-sleeved, never sleeveless.
#: Outerwear is mostly coats and jackets (long); the odd vest is labelled long too.
FOLDER_CLASSES: dict[str, tuple[str, str | None]] = {
    "t-shirt": ("top", "short"),
    "shirt": ("top", "short|long"),
    "longsleeve": ("top", "long"),
    "dress": ("dress", None),
    "outwear": ("outerwear", "long"),
    "pants": ("bottom", None),
    "shorts": ("bottom", None),
    "skirt": ("bottom", None),
    "shoes": ("other", None),
    "hat": ("other", None),
}
#: Folder classes whose cut-outs give derived sleeveless garments, and the cut's kind
#: (`vton.cloth.studio.cut_sleeves`): t-shirts and dresses. Long sleeves (longsleeve,
#: shirt, outwear) are left alone: laid flat they often hang beside the body, where no cut
#: can tell them from it.
SLEEVELESS_FROM: dict[str, str] = {"t-shirt": "top", "dress": "dress"}
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
_NO_LABEL = -100  # cross_entropy's ignore_index
#: Share of training items whose silhouette is dropped (zeroed): the network must also work
#: without a mask, and must not lean on one blindly.
_SILHOUETTE_DROPOUT = 0.2
#: Chance that an epoch shows a garment's own photo rather than one of its studio shots.
_P_FLAT = 0.5
#: Share of the derived (sleeveless) garments an epoch shows (`_epoch_rows`).
_P_DERIVED = 0.35


def sleeve_set(spec: str | None) -> tuple[bool, bool, bool]:
    """The sleeve lengths a label allows, as a mask over `SLEEVES`: None allows all (not
    labelled), ``"short|long"`` either of two. Raises ValueError for an unknown length."""
    if spec is None or spec == "":
        return (True, True, True)
    names = spec.split("|")
    for n in names:
        if n not in SLEEVES:
            raise ValueError(f"unknown sleeve length {n!r} (expected one of {SLEEVES})")
    return tuple(s in names for s in SLEEVES)  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# Network
# --------------------------------------------------------------------------------------------


def _conv_bn_relu(cin: int, cout: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class SeparableBlock(nn.Module):
    """Depthwise 3x3 (with `stride`) then pointwise 1x1; a residual sum when the shape is
    kept. Depthwise convolutions give the receptive field for a fraction of the cost."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.dw = _conv_bn_relu(cin, cin, stride, groups=cin)
        self.pw = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.residual = cin == cout and stride == 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pw(self.dw(x))
        return torch.relu(y + x if self.residual else y)


class GarmentNet(nn.Module):
    """Stem + eight separable blocks (strides 2, 1, 2, 1, 2, 1, 2, 1, 1: 1/16 resolution),
    global pooling, an optional silhouette layer (``n_silhouette`` features -> 32, joined to
    the pooled features), dropout and linear heads. Attribute names are the checkpoint
    format."""

    def __init__(
        self,
        width: int = 32,
        n_categories: int = 5,
        n_sleeves: int = 3,
        n_fine: int = 0,
        n_silhouette: int = 0,
    ) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(
            _conv_bn_relu(3, w, 2),
            SeparableBlock(w, 2 * w),
            SeparableBlock(2 * w, 2 * w, 2),
            SeparableBlock(2 * w, 2 * w),
            SeparableBlock(2 * w, 4 * w, 2),
            SeparableBlock(4 * w, 4 * w),
            SeparableBlock(4 * w, 8 * w, 2),
            SeparableBlock(8 * w, 8 * w),
            SeparableBlock(8 * w, 8 * w),
            nn.AdaptiveAvgPool2d(1),
        )
        self.n_silhouette = n_silhouette
        self.silhouette = (
            nn.Sequential(nn.Linear(n_silhouette, 32), nn.ReLU(inplace=True))
            if n_silhouette
            else None
        )
        d = 8 * w + (32 if n_silhouette else 0)
        self.dropout = nn.Dropout(0.2)
        self.category_head = nn.Linear(d, n_categories)
        self.sleeve_head = nn.Linear(d, n_sleeves)
        self.fine_head = nn.Linear(d, n_fine) if n_fine else None

    def forward(
        self, x: torch.Tensor, silhouette: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """x: (N, 3, H, W) float32 RGB in [-1, 1]; silhouette: (N, n_silhouette) float32
        (`silhouette_tensor`; None or zeros: no mask) -> category, sleeve and fine-class
        logits (the last None without a fine head)."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expected (N, 3, H, W), got {tuple(x.shape)}")
        z = self.features(x).flatten(1)
        if self.silhouette is not None:
            if silhouette is None:
                silhouette = x.new_zeros(x.shape[0], self.n_silhouette)
            if tuple(silhouette.shape) != (x.shape[0], self.n_silhouette):
                raise ValueError(
                    f"expected silhouette ({x.shape[0]}, {self.n_silhouette}), "
                    f"got {tuple(silhouette.shape)}"
                )
            z = torch.cat([z, self.silhouette(silhouette)], 1)
        z = self.dropout(z)
        fine = self.fine_head(z) if self.fine_head is not None else None
        return self.category_head(z), self.sleeve_head(z), fine


# --------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------


def letterbox(image: np.ndarray, size: tuple[int, int] = INPUT_SIZE) -> np.ndarray:
    """Fit an (H, W, 3) uint8 RGB photo into `size` = (height, width), aspect kept, the
    border replicated (so a landscape photo gets more floor, not black bars the training
    photos never had). Returns (height, width, 3) uint8."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {image.shape} {image.dtype}")
    h, w = image.shape[:2]
    out_h, out_w = size
    scale = min(out_h / h, out_w / w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(image, (new_w, new_h), interpolation=interp)
    top, left = (out_h - new_h) // 2, (out_w - new_w) // 2
    return cv2.copyMakeBorder(
        small, top, out_h - new_h - top, left, out_w - new_w - left, cv2.BORDER_REPLICATE
    )


def _to_input(batch: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) uint8 -> float32 in [-1, 1]."""
    return batch.float() / 127.5 - 1.0


def photo_tensor(images: Sequence[np.ndarray]) -> torch.Tensor:
    """Product photos, each (H, W, 3) uint8 RGB of any size, as the network's
    (N, 3, *INPUT_SIZE) float32 input in [-1, 1]."""
    boxed = np.stack([letterbox(im) for im in images])
    return _to_input(torch.from_numpy(boxed).permute(0, 3, 1, 2))


def silhouette_tensor(masks: Sequence[np.ndarray | None]) -> torch.Tensor:
    """Garment masks, each (H, W) uint8 {0, 255} or None (no mask), as the network's
    (N, N_SILHOUETTE) float32 silhouette input (`vton.cloth.studio.silhouette_vector`)."""
    return torch.from_numpy(np.stack([silhouette_vector(m) for m in masks]))


# --------------------------------------------------------------------------------------------
# Inference
# --------------------------------------------------------------------------------------------


def _combine(
    lc: torch.Tensor,
    ls: torch.Tensor,
    lf: torch.Tensor | None,
    fine_to_cat: torch.Tensor | None,
    t_cat: float = 1.0,
    t_sleeve: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Category (N, C) and sleeve (N, S) probabilities from one pass's logits, divided by
    the temperatures; the fine-class softmax summed per category is averaged in."""
    c = F.softmax(lc / t_cat, 1)
    if lf is not None and fine_to_cat is not None:
        c = 0.5 * (c + F.softmax(lf / t_cat, 1) @ fine_to_cat)
    return c, F.softmax(ls / t_sleeve, 1)


class CnnClassifier:
    """A trained `GarmentNet` behind the `GarmentClassifier` interface.

    `classify` looks at the photo and, for a model with a silhouette layer, at the mask's
    silhouette (see the module docstring). Predictions average the photo and its mirror
    image (the silhouette features are mirror-invariant). `category_confidence` is the top
    category probability after temperature scaling (fitted on the held-out split), so a
    garment the network hesitates over scores low and gets flagged. `id` is
    ``cnn-<sha256 of the weights, 12 hex>``: it goes into the asset digest, so a retrained
    model re-classifies every garment.
    """

    def __init__(self, model: GarmentNet, meta: dict) -> None:
        self.model = model.eval()
        self.meta = meta
        self.id = f"cnn-{meta['weights_sha256'][:12]}"
        self.categories = tuple(meta["categories"])
        self.sleeves = tuple(meta["sleeves"])
        self.n_silhouette = int(meta.get("silhouette_features") or 0)
        self.category_temperature = float(meta.get("category_temperature") or 1.0)
        self.sleeve_temperature = float(meta.get("sleeve_temperature") or 1.0)
        fine = list(meta.get("fine_classes") or [])
        # (n_fine, n_categories) 0/1 matrix: fine-class probabilities summed per category.
        self._fine_to_cat = None
        if fine:
            m = torch.zeros(len(fine), len(self.categories))
            for i, name in enumerate(fine):
                m[i, self.categories.index(meta["fine_mapping"][name][0])] = 1.0
            self._fine_to_cat = m

    @torch.inference_mode()
    def logits(
        self, x: torch.Tensor, silhouette: torch.Tensor | None = None
    ) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]]:
        """Raw (category, sleeve, fine) logits of the input and of its mirror image."""
        sil = silhouette if self.n_silhouette else None
        return [self.model(t, sil) for t in (x, x.flip(3))]

    @torch.inference_mode()
    def probabilities(
        self, x: torch.Tensor, silhouette: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, 3, H, W) input and (N, n_silhouette) silhouette (None: no masks) ->
        category (N, C) and sleeve (N, S) probabilities, calibrated, averaged over the
        input and its left-right mirror image."""
        pc = ps = 0.0
        for lc, ls, lf in self.logits(x, silhouette):
            c, s = _combine(
                lc, ls, lf, self._fine_to_cat, self.category_temperature, self.sleeve_temperature
            )
            pc, ps = pc + 0.5 * c, ps + 0.5 * s
        return pc, ps

    def classify_batch(
        self, images: Sequence[np.ndarray], masks: Sequence[np.ndarray | None] | None = None
    ) -> list[Classification]:
        """Classify several (H, W, 3) uint8 RGB photos at once (faster per item), with
        their (H, W) uint8 {0, 255} garment masks where known (None: no mask)."""
        if masks is not None and len(masks) != len(images):
            raise ValueError(f"{len(images)} images but {len(masks)} masks")
        sil = None
        if self.n_silhouette:
            sil = silhouette_tensor(list(masks) if masks is not None else [None] * len(images))
        pc, ps = self.probabilities(photo_tensor(images), sil)
        out = []
        for c, s in zip(pc, ps, strict=True):
            ci, si = int(c.argmax()), int(s.argmax())
            category = self.categories[ci]
            sleeved = category in SLEEVED_CATEGORIES
            out.append(
                Classification(
                    category,
                    self.sleeves[si] if sleeved else None,
                    round(float(c[ci]), 4),
                    round(float(s[si]), 4) if sleeved else None,
                    "classifier",
                )
            )
        return out

    def classify(self, image: np.ndarray, mask: np.ndarray | None = None) -> Classification:
        """(H, W, 3) uint8 RGB product photo and its (H, W) uint8 {0, 255} garment mask
        (None: no mask) -> Classification."""
        return self.classify_batch([image], [mask])[0]


def _meta_path(path: str | os.PathLike) -> Path:
    return Path(path).with_suffix(".json")


def load_classifier(path: str | os.PathLike = DEFAULT_WEIGHTS) -> CnnClassifier:
    """Load a classifier saved by `train_classifier`: ``path`` (.pt) and its .json.

    Raises `CheckpointError` naming the problem: a missing file, metadata of another
    format, weights whose sha256 differs from the metadata, or a state dict that does not
    fit the network. Weights are read with ``weights_only=True``; nothing else is executed.
    """
    weights = Path(path)
    meta_file = _meta_path(weights)
    for f, what in ((weights, "weights"), (meta_file, "metadata")):
        if not f.is_file():
            raise CheckpointError(f"garment classifier {what} file {f} does not exist")
    try:
        meta = json.loads(meta_file.read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"garment classifier metadata {meta_file}: {exc}") from exc
    if meta.get("format") != FORMAT or meta.get("version") not in _READABLE_VERSIONS:
        raise CheckpointError(
            f"{meta_file} is not a {FORMAT} v{'/'.join(map(str, _READABLE_VERSIONS))} file "
            f"(format={meta.get('format')!r}, version={meta.get('version')!r})"
        )
    sha = file_sha256(weights)
    if sha != meta.get("weights_sha256"):
        raise CheckpointError(
            f"{weights}: sha256 {sha[:12]} does not match its metadata "
            f"({str(meta.get('weights_sha256'))[:12]}); the files are from different runs"
        )
    if tuple(meta.get("input_size", ())) != INPUT_SIZE:
        raise CheckpointError(f"{meta_file}: input size {meta.get('input_size')} != {INPUT_SIZE}")
    try:
        model = GarmentNet(
            int(meta["width"]),
            len(meta["categories"]),
            len(meta["sleeves"]),
            len(meta.get("fine_classes") or []),
            int(meta.get("silhouette_features") or 0),
        )
        state = torch.load(weights, map_location="cpu", weights_only=True)
        state = {k.removeprefix("module."): v for k, v in state.items()}
        model.load_state_dict(state, strict=True)
        clf = CnnClassifier(model, meta)
    except Exception as exc:
        raise CheckpointError(f"{weights}: cannot load into GarmentNet: {one_line(exc)}") from exc
    return clf


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingReport:
    """What training did: files written, how many garments it used or skipped (and why),
    accuracy on the held-out photos as they are (None when there are none) and on studio
    shots made from them (None without compositing)."""

    weights_path: str
    meta_path: str
    n_train: int
    n_val: int
    skipped: dict[str, str]
    val_category_accuracy: float | None
    val_sleeve_accuracy: float | None
    seconds: float
    val_studio_category_accuracy: float | None = None
    val_studio_sleeve_accuracy: float | None = None


@dataclass
class _Examples:
    """Training rows: letterboxed photos (N, 3, H, W) uint8, category and fine-class indices
    (``_NO_LABEL`` where unknown), the allowed sleeve lengths (N, 3) bool (all True: not
    labelled), silhouettes (N, N_SILHOUETTE) float32, the garment (group) each row shows
    and whether the row is a studio composite. One garment has one photo row and any number
    of studio rows; an epoch shows one row per garment."""

    x: torch.Tensor
    category: torch.Tensor
    sleeve: torch.Tensor
    fine: torch.Tensor
    sil: torch.Tensor
    group: torch.Tensor
    studio: torch.Tensor

    def __len__(self) -> int:
        return len(self.x)

    @property
    def n_groups(self) -> int:
        return int(self.group.unique().numel())

    def subset(self, keep: torch.Tensor) -> _Examples:
        return _Examples(
            self.x[keep], self.category[keep], self.sleeve[keep], self.fine[keep],
            self.sil[keep], self.group[keep], self.studio[keep],
        )  # fmt: skip


class _Rows:
    """Accumulates `_Examples` rows garment by garment (`add_garment`)."""

    def __init__(self, *, variants: int, seed: int, silhouette: bool) -> None:
        self.variants, self.seed, self.silhouette = variants, seed, silhouette
        self.cols: dict[str, list] = {k: [] for k in ("x", "cat", "sleeve", "fine", "sil",
                                                       "group", "studio")}  # fmt: skip
        self.split_keys: list[str] = []  # per group: the key that decides its split
        self.n_composited = 0
        self.n_sleeveless = 0

    def _row(self, photo, cat, sleeve, fine, mask, group, studio) -> None:
        c = self.cols
        c["x"].append(letterbox(photo))
        c["cat"].append(cat)
        c["sleeve"].append(sleeve)
        c["fine"].append(fine)
        c["sil"].append(silhouette_vector(mask) if self.silhouette else np.zeros(0, np.float32))
        c["group"].append(group)
        c["studio"].append(studio)

    def _group(self, key: str) -> int:
        self.split_keys.append(key)
        return len(self.split_keys) - 1

    def add_garment(
        self,
        key: str,
        rgb: np.ndarray,
        mask: np.ndarray | None,
        confidence: float,
        category: int,
        sleeve: tuple[bool, bool, bool],
        fine: int,
        derive: str | None = None,
    ) -> None:
        """The photo (H, W, 3) uint8 RGB as one garment: its own row, `variants` studio
        composites when its (H, W) uint8 mask is trusted (confidence >= MIN_MASK_CONFIDENCE)
        and, with `derive` (a `cut_sleeves` kind), a derived sleeveless garment (same
        category and split key) of `variants` composites; a garment of unknown sleeve
        length whose sleeves could be cut is labelled short or long."""
        trusted = mask is not None and confidence >= MIN_MASK_CONFIDENCE and self.variants > 0
        cut = None
        if trusted and derive is not None:
            cut = cut_sleeves(mask, composite_rng(self.seed, f"{key}#cut", 0), derive)
            if cut is not None and all(sleeve):
                # Sleeves were there to cut: a garment of unknown length (a dress) is then
                # known not to be sleeveless; without this the sleeve head would learn
                # sleeveless dresses only and call every dress sleeveless.
                sleeve = sleeve_set("short|long")
        g = self._group(key)
        self._row(rgb, category, sleeve, fine, mask, g, False)
        if not trusted:
            return
        for k in range(self.variants):
            comp = studio_composite(rgb, mask, composite_rng(self.seed, key, k))
            self._row(comp.image, category, sleeve, fine, comp.mask, g, True)
        self.n_composited += 1
        if cut is None:
            return
        g2 = self._group(key)
        sleeveless = sleeve_set("sleeveless")
        for k in range(self.variants):
            comp = studio_composite(rgb, cut, composite_rng(self.seed, f"{key}#sleeveless", k))
            self._row(comp.image, category, sleeveless, fine, comp.mask, g2, True)
        self.n_sleeveless += 1

    def examples(self) -> _Examples | None:
        c = self.cols
        if not c["x"]:
            return None
        t = lambda v, dt=torch.long: torch.tensor(v, dtype=dt)  # noqa: E731
        return _Examples(
            torch.from_numpy(np.stack(c["x"])).permute(0, 3, 1, 2).contiguous(),
            t(c["cat"]), t(c["sleeve"], torch.bool), t(c["fine"]),
            torch.from_numpy(np.stack(c["sil"]).astype(np.float32)),
            t(c["group"]), t(c["studio"], torch.bool),
        )  # fmt: skip


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random flips, zooms, shifts, small rotations and colour changes of a (N, 3, H, W)
    uint8 batch; returns float32 in [-1, 1]. Photos of real catalogs vary in framing,
    lighting and white balance far more than in the garment's class."""
    n = x.shape[0]
    x = _to_input(x)
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    scale = 0.8 + torch.rand(n, generator=gen) * 0.35  # < 1 zooms in
    angle = (torch.rand(n, generator=gen) - 0.5) * (2 * np.pi / 18)  # +-10 degrees
    shift = (torch.rand(n, 2, generator=gen) - 0.5) * 0.2
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    # Colour: brightness, contrast, per-channel gain (white balance), sometimes grey.
    v = (x + 1.0) * 0.5
    bright = 0.75 + 0.5 * torch.rand(n, 1, 1, 1, generator=gen)
    gain = 0.85 + 0.3 * torch.rand(n, 3, 1, 1, generator=gen)
    contrast = 0.7 + 0.6 * torch.rand(n, 1, 1, 1, generator=gen)
    mean = v.mean(dim=(1, 2, 3), keepdim=True)
    v = ((v - mean) * contrast + mean) * bright * gain
    grey = (torch.rand(n, generator=gen) < 0.1)[:, None, None, None]
    v = torch.where(grey, v.mean(1, keepdim=True).expand_as(v), v)
    return (v.clamp(0.0, 1.0) * 2.0 - 1.0).contiguous()


def _clf(model: GarmentNet, meta: dict) -> CnnClassifier:
    full = {"categories": CATEGORIES, "sleeves": SLEEVES, "weights_sha256": "training", **meta}
    return CnnClassifier(model, full)


def _sil(data: _Examples, sl: slice | torch.Tensor) -> torch.Tensor | None:
    return data.sil[sl] if data.sil.shape[1] else None


def _predict(model: GarmentNet, meta: dict, data: _Examples, batch: int = 256):
    """Category and sleeve predictions (flip-averaged) for `data`, as index tensors."""
    clf = _clf(model, meta)
    pcs, pss = [], []
    for i in range(0, len(data), batch):
        sl = slice(i, i + batch)
        pc, ps = clf.probabilities(_to_input(data.x[sl]), _sil(data, sl))
        pcs.append(pc.argmax(1))
        pss.append(ps.argmax(1))
    return torch.cat(pcs), torch.cat(pss)


def _scores(pc: torch.Tensor, ps: torch.Tensor, data: _Examples) -> tuple[float, float | None]:
    """Category accuracy, and sleeve accuracy over the rows with a sleeve label (right when
    the predicted length is one the label allows)."""
    cat_acc = float((pc == data.category).float().mean())
    has = ~data.sleeve.all(1)
    hit = data.sleeve[torch.arange(len(ps)), ps]
    sleeve_acc = float(hit[has].float().mean()) if has.any() else None
    return cat_acc, sleeve_acc


def _accuracy(model: GarmentNet, meta: dict, data: _Examples) -> tuple[float, float | None]:
    model.eval()
    return _scores(*_predict(model, meta, data), data)


def _is_val(key: str, val_fraction: float, seed: int) -> bool:
    """A stable held-out split: by a digest of the id, so adding rows never reshuffles."""
    d = int(digest_parts("classifier-split", str(seed), key)[:8], 16)
    return d < val_fraction * 0xFFFFFFFF


def _split(
    data: _Examples, keys: Sequence[str], val_fraction: float, seed: int
) -> tuple[_Examples, _Examples]:
    """(train, held out): `data` split by `_is_val` on each garment's key (`keys`, one per
    group: a garment's studio shots and derived garments go where its photo goes). A split
    that would leave fewer than 2 garments to train on (a tiny collection) trains on all."""
    is_val = torch.tensor([_is_val(k, val_fraction, seed) for k in keys])
    if (~is_val).sum() < 2:
        is_val[:] = False
    row_val = is_val[data.group]
    return data.subset(~row_val), data.subset(row_val)


def _garments(data: _Examples) -> tuple[dict[int, int], dict[int, list[int]], list[int]]:
    """Per garment (group): its photo row, its studio rows, and the derived garments (those
    with studio rows only: the sleeveless cuts)."""
    flat: dict[int, int] = {}
    shots: dict[int, list[int]] = {}
    for i, (g, s) in enumerate(zip(data.group.tolist(), data.studio.tolist(), strict=True)):
        if s:
            shots.setdefault(g, []).append(i)
        else:
            flat.setdefault(g, i)
    derived = sorted(g for g in shots if g not in flat)
    return flat, shots, derived


def _epoch_size(data: _Examples) -> int:
    """Rows per epoch: every photographed garment, and `_P_DERIVED` of the derived ones."""
    flat, _, derived = _garments(data)
    return len(flat) + round(_P_DERIVED * len(derived))


def _epoch_rows(data: _Examples, gen: torch.Generator) -> torch.Tensor:
    """One row per garment, garments in random order: its photo with probability `_P_FLAT`
    when it also has studio shots (always when it has none), else one of those shots. Of
    the derived (sleeveless) garments a fixed share `_P_DERIVED`, drawn anew each epoch, so
    that in the studio domain sleeveless is not more common than short sleeves (there are
    more cut-outs to derive from than a catalog has tanks)."""
    flat, shots, derived = _garments(data)
    k = round(_P_DERIVED * len(derived))
    pick = torch.randperm(len(derived), generator=gen)[:k].tolist()
    ids = sorted(flat) + sorted(derived[i] for i in pick)
    order = torch.randperm(len(ids), generator=gen).tolist()
    u = torch.rand(len(ids), 2, generator=gen).tolist()
    rows = []
    for j in order:
        g = ids[j]
        sh = shots.get(g, [])
        if g in flat and (not sh or u[j][0] < _P_FLAT):
            rows.append(flat[g])
        else:
            rows.append(sh[min(len(sh) - 1, int(u[j][1] * len(sh)))])
    return torch.tensor(rows, dtype=torch.long)


def _set_nll(logits: torch.Tensor, allowed: torch.Tensor, smoothing: float = 0.0):
    """Mean negative log-probability of the allowed set of each row ((N, K) logits, (N, K)
    bool), with label smoothing towards the uniform distribution."""
    logp = F.log_softmax(logits, 1)
    nll = -torch.logsumexp(logp.masked_fill(~allowed, float("-inf")), 1)
    return ((1 - smoothing) * nll - smoothing * logp.mean(1)).mean()


_TEMPERATURES = np.round(np.arange(0.5, 4.001, 0.05), 2)


@torch.inference_mode()
def _calibrate(model: GarmentNet, meta: dict, val: _Examples, batch: int = 256) -> dict:
    """Temperature scaling on the held-out rows (photos and studio shots): the category
    and sleeve temperatures (grid 0.5-4) that minimise the held-out negative log-likelihood
    of the flip-averaged probabilities, as `CnnClassifier` computes them. Also the share of
    held-out rows the cloth stage would flag at its threshold, and their accuracy."""
    from vton.cloth.prep import LOW_CATEGORY_CONFIDENCE  # prep imports this module lazily

    model.eval()
    clf = _clf(model, meta)
    passes = []
    for i in range(0, len(val), batch):
        sl = slice(i, i + batch)
        passes.append(clf.logits(_to_input(val.x[sl]), _sil(val, sl)))
    has = ~val.sleeve.all(1)

    def probs(t_cat: float, t_sleeve: float) -> tuple[torch.Tensor, torch.Tensor]:
        pcs, pss = [], []
        for flips in passes:
            pc = ps = 0.0
            for lc, ls, lf in flips:
                c, s = _combine(lc, ls, lf, clf._fine_to_cat, t_cat, t_sleeve)
                pc, ps = pc + 0.5 * c, ps + 0.5 * s
            pcs.append(pc)
            pss.append(ps)
        return torch.cat(pcs), torch.cat(pss)

    def nll_cat(t: float) -> float:
        pc, _ = probs(t, 1.0)
        return float(-pc[torch.arange(len(pc)), val.category].clamp_min(1e-8).log().mean())

    def nll_sleeve(t: float) -> float:
        _, ps = probs(1.0, t)
        p = (ps * val.sleeve).sum(1)[has]
        return float(-p.clamp_min(1e-8).log().mean()) if has.any() else 0.0

    t_cat = float(min(_TEMPERATURES, key=nll_cat))
    t_sleeve = float(min(_TEMPERATURES, key=nll_sleeve)) if has.any() else 1.0
    pc, _ = probs(t_cat, t_sleeve)
    conf, pred = pc.max(1)
    ok = pred == val.category
    flagged = conf < LOW_CATEGORY_CONFIDENCE
    acc = lambda m: round(float(ok[m].float().mean()), 4) if m.any() else None  # noqa: E731
    return {
        "category_temperature": t_cat,
        "sleeve_temperature": t_sleeve,
        "calibration": {
            "method": "temperature scaling on the held-out rows (photos and studio shots), "
            "grid 0.5-4 step 0.05, minimising negative log-likelihood",
            "n_rows": len(val),
            "category_nll_before": round(nll_cat(1.0), 4),
            "category_nll_after": round(nll_cat(t_cat), 4),
            "sleeve_nll_before": round(nll_sleeve(1.0), 4),
            "sleeve_nll_after": round(nll_sleeve(t_sleeve), 4),
            "flag_threshold": LOW_CATEGORY_CONFIDENCE,
            "flagged_share": round(float(flagged.float().mean()), 4),
            "flagged_accuracy": acc(flagged),
            "unflagged_accuracy": acc(~flagged),
        },
    }


def _domain_scores(model: GarmentNet, meta: dict, val: _Examples) -> dict:
    """Held-out accuracy of the photos as they are and of the studio shots made from them
    (with the final temperatures)."""
    out = {}
    for name, rows in (("photo", ~val.studio), ("studio", val.studio)):
        if rows.any():
            part = val.subset(rows)
            c, s = _scores(*_predict(model, meta, part), part)
            out[name] = {"rows": int(rows.sum()), "category_accuracy": c, "sleeve_accuracy": s}
    return out


def _fit(
    source: str,
    train: _Examples,
    val: _Examples | None,
    meta: dict,
    out_path: str | os.PathLike,
    *,
    skipped: dict[str, str],
    started: float,
    epochs: int,
    batch_size: int,
    lr: float,
    width: int,
    seed: int,
    num_threads: int | None,
    say: Callable[[str], None],
) -> TrainingReport:
    """The one training path of both entry points (`source` names the caller in the log):
    train a `GarmentNet` on `train` (one row per garment per epoch, `_epoch_rows`), score it
    on `val`'s photos, calibrate it on all of `val`, write weights and metadata, and report.
    `skipped` and `started` (a `time.perf_counter()` reading) go into the report."""
    n_sil = int(train.sil.shape[1])
    n_train = train.n_groups
    val_photos = val.subset(~val.studio) if val is not None and len(val) else None
    n_val = len(val_photos) if val_photos is not None else 0
    say(
        f"{source}: {n_train} train garments ({len(train)} rows), {n_val} held out "
        f"({len(val) if val is not None else 0} rows), {len(skipped)} skipped"
    )
    if n_train < 2:
        raise ValueError(f"need at least 2 training images, got {n_train}")
    threads = torch.get_num_threads()
    if num_threads:
        torch.set_num_threads(num_threads)
    meta = {**meta, "silhouette_features": n_sil}
    try:
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        n_fine = len(meta.get("fine_classes") or [])
        model = GarmentNet(width, len(CATEGORIES), len(SLEEVES), n_fine, n_sil)
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=5e-4)
        per_epoch = (_epoch_size(train) + batch_size - 1) // batch_size
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=lr, total_steps=max(1, epochs * per_epoch), pct_start=0.2
        )
        # Balanced-ish: weights ~ 1/sqrt(count) over garments, so rare categories are learnt
        # without trading away much accuracy on the common ones.
        first = torch.zeros(int(train.group.max()) + 1, dtype=torch.long)
        first[train.group.flip(0)] = torch.arange(len(train) - 1, -1, -1)
        present = torch.zeros_like(first, dtype=torch.bool)
        present[train.group] = True
        counts = torch.bincount(train.category[first[present]], minlength=len(CATEGORIES)).float()
        cw = torch.where(counts > 0, counts.clamp(min=1).rsqrt(), 0.0)
        cw = cw * (counts > 0).sum() / cw.sum()
        has_fine = n_fine > 0 and bool((train.fine != _NO_LABEL).any())
        # Held-out (category, sleeve) accuracy, scored every fifth epoch and after the last.
        scores: tuple[float, float | None] | None = None
        for epoch in range(epochs):
            model.train()
            t0 = time.perf_counter()
            order = _epoch_rows(train, gen)
            total = 0.0
            for i in range(0, len(order), batch_size):
                idx = order[i : i + batch_size]
                if len(idx) < 2:  # BatchNorm needs two samples
                    continue
                sil = None
                if n_sil:
                    keep = torch.rand(len(idx), generator=gen) >= _SILHOUETTE_DROPOUT
                    sil = train.sil[idx] * keep[:, None]
                lc, ls, lf = model(_augment(train.x[idx], gen), sil)
                loss = F.cross_entropy(lc, train.category[idx], weight=cw, label_smoothing=0.1)
                allowed = train.sleeve[idx]
                labelled = ~allowed.all(1)
                if labelled.any():
                    loss = loss + 0.5 * _set_nll(ls[labelled], allowed[labelled], 0.1)
                yf = train.fine[idx]
                if has_fine and lf is not None and (yf != _NO_LABEL).any():
                    loss = loss + 0.5 * F.cross_entropy(
                        lf, yf, ignore_index=_NO_LABEL, label_smoothing=0.1
                    )
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                total += float(loss.detach()) * len(idx)
            msg = f"epoch {epoch + 1}/{epochs} loss {total / max(len(order), 1):.3f}"
            if n_val and (epoch == epochs - 1 or epoch % 5 == 4):
                scores = _accuracy(model, meta, val_photos)
                msg += f" held-out category {scores[0]:.3f} sleeve {scores[1]}"
            say(f"{msg} ({time.perf_counter() - t0:.0f} s)")
        model.eval()
        if n_val and scores is None:  # no epoch ran, so none was scored
            scores = _accuracy(model, meta, val_photos)
        calibration, domains = {}, {}
        if val is not None and len(val):
            calibration = _calibrate(model, meta, val)
            domains = _domain_scores(model, {**meta, **calibration}, val)
            c = calibration["calibration"]
            say(
                f"calibration: temperature category {calibration['category_temperature']}, "
                f"sleeve {calibration['sleeve_temperature']}; validation rows flagged below "
                f"{c['flag_threshold']}: {c['flagged_share']:.1%} (accuracy flagged "
                f"{c['flagged_accuracy']}, unflagged {c['unflagged_accuracy']})"
            )
            say(f"validation accuracy by domain: {domains}")
    finally:
        torch.set_num_threads(threads)

    val_cat, val_sleeve = scores or (None, None)
    studio = domains.get("studio", {})
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Serialised in memory: a file's archive records carry its name, and the temporary
    # name is random; bytes that depend only on the weights make the sha256 reproducible.
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".tmp-", suffix=".pt")
    weights = buf.getvalue()
    with os.fdopen(fd, "wb") as fh:
        fh.write(weights)
    os.replace(tmp, out)
    meta = {
        **meta,
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "architecture": "GarmentNet",
        "width": width,
        "input_size": list(INPUT_SIZE),
        "input": "whole product photo letterboxed (aspect kept, border replicated) to "
        "input_size; RGB (N, 3, H, W) float32 in [-1, 1]"
        + (
            "; and the garment mask's silhouette_vector (vton.cloth.studio), zeros without a mask"
            if n_sil
            else "; mask not used"
        ),
        "categories": list(CATEGORIES),
        "sleeves": list(SLEEVES),
        "weights_sha256": hashlib.sha256(weights).hexdigest(),  # what was written
        "n_train": n_train,
        "n_train_rows": len(train),
        "n_val": n_val,
        "train_category_counts": {
            c: int(n) for c, n in zip(CATEGORIES, counts.tolist(), strict=True)
        },
        "val_category_accuracy": val_cat,
        "val_sleeve_accuracy": val_sleeve,
        "val_by_domain": domains,
        **calibration,
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "torch": torch.__version__,
    }
    meta_file = _meta_path(out)
    tmp_meta = meta_file.with_name(f".tmp-{meta_file.name}")
    tmp_meta.write_text(json.dumps(meta, indent=1) + "\n")
    os.replace(tmp_meta, meta_file)
    return TrainingReport(
        str(out), str(meta_file), n_train, n_val, skipped, val_cat, val_sleeve,
        time.perf_counter() - started, studio.get("category_accuracy"),
        studio.get("sleeve_accuracy"),
    )  # fmt: skip


def _mask_cache(masker: str | Any | None, mask_cache: str | os.PathLike | None):
    """The `MaskCache` over `masker` (a `make_masker` spec or a masker object), or None."""
    if masker is None:
        return None
    if isinstance(masker, str):
        from vton.cloth.masking import make_masker

        masker = make_masker(masker)
    return MaskCache(masker, mask_cache)


def _load(
    data: bytes, item: str, max_pixels: int, cache: MaskCache | None
) -> tuple[DecodedImage, np.ndarray | None, float]:
    """The decoded photo and, with a cache, its garment mask and the mask's confidence."""
    decoded = decode_image(data, item, max_pixels=max_pixels)
    if cache is None:
        return decoded, None, 0.0
    mask, conf = cache.get(data, item, decoded)
    return decoded, mask, conf


def _studio_meta(rows: _Rows, cache: MaskCache | None, derive: Mapping[str, str]) -> dict:
    return {
        "studio_variants": rows.variants,
        "studio_p_flat": _P_FLAT if rows.variants else None,
        "sleeveless_share_per_epoch": _P_DERIVED if rows.n_sleeveless else None,
        "silhouette_dropout": _SILHOUETTE_DROPOUT if rows.silhouette else None,
        "masker": cache.fingerprint if cache is not None else None,
        "min_mask_confidence": MIN_MASK_CONFIDENCE if rows.variants else None,
        "sleeveless_from": dict(derive) if rows.variants else {},
        "n_train_composited": rows.n_composited,
        "n_train_sleeveless": rows.n_sleeveless,
    }


def train_classifier(
    catalog: str | Sequence[ProductRow],
    out_path: str | os.PathLike,
    *,
    epochs: int = 30,
    batch_size: int = 64,
    lr: float = 4e-3,
    width: int = 32,
    val_fraction: float = 0.2,
    seed: int = 0,
    num_threads: int | None = None,
    studio_variants: int = 0,
    silhouette: bool = True,
    masker: str | Any | None = "classical",
    mask_cache: str | os.PathLike | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    storage_options: Mapping[str, Any] | None = None,
    log: Callable[[str], None] | None = None,
) -> TrainingReport:
    """Fit a `GarmentNet` on a labelled catalog and save it to `out_path` (+ .json).

    Parameters
    ----------
    catalog : str or sequence of ProductRow
        A products table (CSV, Parquet or JSON Lines; path or fsspec URL) with the usual
        ``product_id`` and ``image`` columns and the user's labels in ``category`` (rows
        without one are skipped) and optionally ``sleeve``; or already parsed rows.
    out_path : path
        Where the weights go (``.pt``); the metadata is written beside it as ``.json``.
    epochs, batch_size, lr, width, seed
        Training schedule (AdamW, one-cycle), network width and randomness: the same seed,
        data and thread count give the same weights.
    val_fraction : float
        Fraction of products held out (chosen by a digest of the id, so the split is
        stable); their accuracy is reported and saved in the metadata, and the confidence
        is calibrated on them.
    num_threads : int, optional
        Torch CPU threads while training (restored afterwards).
    studio_variants : int
        Studio composites per product (`vton.cloth.studio`; 0: the photos only, the
        default here, since a catalog's own photos are already what it will classify).
    silhouette, masker, mask_cache
        Whether the network also sees the mask's silhouette; the masker that makes the
        masks (a ``--masker`` spec or a masker; the nightly run's, for the same masks at
        inference) and a directory caching them (None: not kept).
    max_pixels, storage_options
        As for the nightly run: decompression-bomb limit, fsspec options for image URLs.
    log : callable, optional
        Receives one line per epoch.

    Returns
    -------
    TrainingReport. Raises ValueError when no labelled image could be used.
    """
    t0 = time.perf_counter()
    say = log or (lambda _msg: None)
    if isinstance(catalog, str):
        rows, rejected = parse_products(read_table(catalog, storage_options), catalog)
        skipped = {f"row {r.row}": r.reason for r in rejected}
    else:
        rows, skipped = list(catalog), {}
    cache = _mask_cache(masker, mask_cache) if (silhouette or studio_variants) else None
    acc = _Rows(variants=studio_variants if cache else 0, seed=seed, silhouette=silhouette)
    for p in rows:
        if p.category is None:
            skipped[p.product_id] = "no category label"
            continue
        item = f"product {p.product_id}"
        try:
            decoded, mask, conf = _load(
                read_input_bytes(p.image, storage_options), item, max_pixels, cache
            )
        except Exception as exc:
            skipped[p.product_id] = one_line(exc)
            continue
        sleeve = sleeve_set(p.sleeve if p.sleeve in SLEEVES else None)
        acc.add_garment(
            p.product_id, decoded.rgb, mask, conf, CATEGORIES.index(p.category), sleeve,
            _NO_LABEL,
        )  # fmt: skip
    data = acc.examples()
    if data is None:
        raise ValueError(f"no usable labelled garment in the catalog ({len(skipped)} skipped)")
    train, held = _split(data, acc.split_keys, val_fraction, seed)
    meta = {
        "training_data": catalog if isinstance(catalog, str) else None,
        "val_fraction": val_fraction,
        **_studio_meta(acc, cache, {}),
    }
    return _fit(
        "train_classifier", train, held, meta, out_path, skipped=skipped, started=t0,
        epochs=epochs, batch_size=batch_size, lr=lr, width=width, seed=seed,
        num_threads=num_threads, say=say,
    )  # fmt: skip


def read_image_folder(
    folder: str | os.PathLike,
    mapping: Mapping[str, tuple[str, str | None]] = FOLDER_CLASSES,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The (path, folder class) of every image under `folder`/<class>/, sorted, and the
    skipped entries with reasons (folders not in `mapping`). Raises ValueError when
    `folder` has no class folder at all."""
    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"image folder {root} does not exist")
    items, skipped = [], {}
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        if sub.name not in mapping:
            skipped[sub.name] = f"folder class not in the mapping {sorted(mapping)}"
            continue
        for f in sorted(sub.iterdir()):
            if f.suffix.lower() in _IMAGE_SUFFIXES:
                items.append((str(f), sub.name))
    if not items:
        raise ValueError(f"no images in class folders under {root} (classes {sorted(mapping)})")
    return items, skipped


def _folder_rows(
    items: list[tuple[str, str]],
    fine: list[str],
    mapping: Mapping[str, tuple[str, str | None]],
    max_pixels: int,
    skipped: dict[str, str],
    acc: _Rows,
    cache: MaskCache | None,
    derive: Mapping[str, str],
) -> None:
    for path, cls in items:
        try:
            decoded, mask, conf = _load(Path(path).read_bytes(), path, max_pixels, cache)
        except Exception as exc:
            skipped[path] = one_line(exc)
            continue
        category, sleeve = mapping[cls]
        acc.add_garment(
            f"{cls}/{Path(path).name}", decoded.rgb, mask, conf, CATEGORIES.index(category),
            sleeve_set(sleeve), fine.index(cls), derive.get(cls),
        )  # fmt: skip


def train_from_folder(
    folder: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    val_folder: str | os.PathLike | None = None,
    mapping: Mapping[str, tuple[str, str | None]] = FOLDER_CLASSES,
    epochs: int = 30,
    batch_size: int = 64,
    lr: float = 4e-3,
    width: int = 32,
    val_fraction: float = 0.0,
    seed: int = 0,
    num_threads: int | None = None,
    studio_variants: int = 2,
    silhouette: bool = True,
    sleeveless_from: Mapping[str, str] = SLEEVELESS_FROM,
    masker: str | Any | None = "classical",
    mask_cache: str | os.PathLike | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    log: Callable[[str], None] | None = None,
) -> TrainingReport:
    """Fit a `GarmentNet` on a class-per-folder collection (``folder/<class>/*.jpg``, as
    clothing-small) and save it to `out_path` (+ .json).

    `mapping` gives each folder class its (category, sleeve); a sleeve of None leaves the
    sleeve unlabelled, ``"short|long"`` allows either. The network also learns the folder
    classes themselves (a third head): telling a t-shirt from a shirt teaches it more than
    "top" does. Each photo whose mask the masker trusts also gives `studio_variants` studio
    composites (`vton.cloth.studio`), and the classes in `sleeveless_from` a derived
    sleeveless garment (cut from the mask; same folder class). Held-out images come from
    `val_folder` (same layout, composited alike: the calibration and the per-domain
    accuracy use them) when given, else a `val_fraction` of `folder` chosen by a digest of
    the file name. Other parameters as for `train_classifier`.
    """
    t0 = time.perf_counter()
    say = log or (lambda _msg: None)
    for cls, (category, sleeve) in mapping.items():
        try:
            if category not in CATEGORIES:
                raise ValueError(category)
            sleeve_set(sleeve)
        except ValueError:
            raise ValueError(
                f"mapping {cls!r} -> ({category!r}, {sleeve!r}): unknown label"
            ) from None
    for cls, kind in sleeveless_from.items():
        if kind not in ("top", "dress"):
            raise ValueError(f"sleeveless_from {cls!r}: kind {kind!r} is not 'top' or 'dress'")
    items, skipped = read_image_folder(folder, mapping)
    fine = sorted({cls for _, cls in items})
    cache = _mask_cache(masker, mask_cache) if (silhouette or studio_variants) else None
    variants = studio_variants if cache else 0
    acc = _Rows(variants=variants, seed=seed, silhouette=silhouette)
    _folder_rows(items, fine, mapping, max_pixels, skipped, acc, cache, sleeveless_from)
    data = acc.examples()
    if data is None:
        raise ValueError(f"no usable image under {folder} ({len(skipped)} skipped)")
    if val_folder is not None:
        val_items, val_skipped = read_image_folder(val_folder, mapping)
        val_items = [(p, c) for p, c in val_items if c in fine]
        skipped.update({f"validation {k}": v for k, v in val_skipped.items()})
        # One composite per held-out photo: enough to calibrate on and to score the domain.
        vacc = _Rows(variants=min(variants, 1), seed=seed + 1, silhouette=silhouette)
        _folder_rows(val_items, fine, mapping, max_pixels, skipped, vacc, cache,
                     sleeveless_from)  # fmt: skip
        held, train = vacc.examples(), data
    else:
        train, held = _split(data, acc.split_keys, val_fraction, seed)
    say(
        f"train_from_folder: {acc.n_composited} garments composited x {variants}, "
        f"{acc.n_sleeveless} sleeveless derived"
        + (f"; masks {cache.hits} cached, {cache.misses} computed" if cache else "")
    )
    meta = {
        "training_data": str(folder),
        "validation_data": str(val_folder) if val_folder is not None else None,
        "val_fraction": val_fraction if val_folder is None else None,
        "fine_classes": fine,
        "fine_mapping": {c: list(mapping[c]) for c in fine},
        **_studio_meta(acc, cache, sleeveless_from),
    }
    return _fit(
        "train_from_folder", train, held, meta, out_path, skipped=skipped, started=t0,
        epochs=epochs, batch_size=batch_size, lr=lr, width=width, seed=seed,
        num_threads=num_threads, say=say,
    )  # fmt: skip
