"""A small CNN that tells garment category and sleeve length from the product photo.

Why a CNN of our own: the silhouette rules (`vton.cloth.classify`) know only outlines, and
on real marketplace photos (garments flat on beds, floors and rugs, or on hangers) the
outline itself is unreliable because the masker struggles there. No pretrained weights can
be downloaded at run time, so the network is small enough to train from scratch on a CPU in
minutes: `train_classifier` fits it on a labelled catalog (the user's own ``category`` and
``sleeve`` columns), `train_from_folder` on a class-per-folder image collection, and
`load_classifier` brings the result back for the pipeline. The package ships one trained on
the CC0 clothing-small photos (`DEFAULT_WEIGHTS`, see ``weights/MODEL_CARD.md``).

Input: the whole product photo, not the masked garment. Masks of flat-lay photos are often
wrong (measured: the classical masker fails or has low confidence on about half of them),
and a mask error would become a category error; the photo alone classifies better. The photo
is letterboxed (aspect kept, border replicated) to `INPUT_SIZE` and given as a (N, 3, H, W)
float32 tensor in [-1, 1]. Heads: category logits (`CATEGORIES`), sleeve logits
(`SLEEVES`) and, when trained from folders, logits over the folder classes (``fine``), whose
probabilities summed per category are averaged with the category head's.

Architecture: a stem convolution and eight depthwise-separable blocks (residual where the
shape allows), global average pooling, linear heads; about 0.2 M parameters, a few hundred
images per second per CPU core at 112x84 (``benchmarks/bench_classifier.py``).

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
from vton.digest import digest_parts, file_sha256
from vton.errors import CheckpointError, one_line
from vton.imageio import DEFAULT_MAX_PIXELS, decode_image
from vton.schemas import ProductRow

__all__ = [
    "DEFAULT_WEIGHTS",
    "FOLDER_CLASSES",
    "FORMAT",
    "INPUT_SIZE",
    "CnnClassifier",
    "GarmentNet",
    "TrainingReport",
    "letterbox",
    "load_classifier",
    "photo_tensor",
    "read_image_folder",
    "train_classifier",
    "train_from_folder",
]

FORMAT = "vton-garment-classifier"
FORMAT_VERSION = 2
#: (height, width) of the network input: a 4:3 portrait canvas, like CP-VTON's.
INPUT_SIZE = (112, 84)
#: The classifier shipped with the package (trained on clothing-small, CC0).
DEFAULT_WEIGHTS = SHIPPED_WEIGHTS
#: Folder class -> (category, sleeve) for class-per-folder collections such as clothing-small.
#: A sleeve of None means "not labelled": shirts there are short- and long-sleeved, dresses
#: every length, so they train the category but not the sleeve head. Outerwear is mostly
#: coats and jackets (long); the odd vest is labelled long too.
FOLDER_CLASSES: dict[str, tuple[str, str | None]] = {
    "t-shirt": ("top", "short"),
    "shirt": ("top", None),
    "longsleeve": ("top", "long"),
    "dress": ("dress", None),
    "outwear": ("outerwear", "long"),
    "pants": ("bottom", None),
    "shorts": ("bottom", None),
    "skirt": ("bottom", None),
    "shoes": ("other", None),
    "hat": ("other", None),
}
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
_NO_LABEL = -100  # cross_entropy's ignore_index


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
    global pooling, dropout and linear heads. Attribute names are the checkpoint format."""

    def __init__(
        self, width: int = 32, n_categories: int = 5, n_sleeves: int = 3, n_fine: int = 0
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
        self.dropout = nn.Dropout(0.2)
        self.category_head = nn.Linear(8 * w, n_categories)
        self.sleeve_head = nn.Linear(8 * w, n_sleeves)
        self.fine_head = nn.Linear(8 * w, n_fine) if n_fine else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """x: (N, 3, H, W) float32 RGB in [-1, 1] -> category, sleeve and fine-class logits
        (the last None without a fine head)."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expected (N, 3, H, W), got {tuple(x.shape)}")
        z = self.dropout(self.features(x).flatten(1))
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


# --------------------------------------------------------------------------------------------
# Inference
# --------------------------------------------------------------------------------------------


class CnnClassifier:
    """A trained `GarmentNet` behind the `GarmentClassifier` interface.

    `classify` looks at the photo only (see the module docstring for why); the mask is
    accepted for the interface and ignored. Predictions average the photo and its mirror
    image. `category_confidence` is the top category probability (softmax), so a garment
    the network hesitates over scores low and gets flagged. `id` is
    ``cnn-<sha256 of the weights, 12 hex>``: it goes into the asset digest, so a retrained
    model re-classifies every garment.
    """

    def __init__(self, model: GarmentNet, meta: dict) -> None:
        self.model = model.eval()
        self.meta = meta
        self.id = f"cnn-{meta['weights_sha256'][:12]}"
        self.categories = tuple(meta["categories"])
        self.sleeves = tuple(meta["sleeves"])
        fine = list(meta.get("fine_classes") or [])
        # (n_fine, n_categories) 0/1 matrix: fine-class probabilities summed per category.
        self._fine_to_cat = None
        if fine:
            m = torch.zeros(len(fine), len(self.categories))
            for i, name in enumerate(fine):
                m[i, self.categories.index(meta["fine_mapping"][name][0])] = 1.0
            self._fine_to_cat = m

    @torch.inference_mode()
    def probabilities(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, 3, H, W) input -> category (N, C) and sleeve (N, S) probabilities, averaged
        over the input and its left-right mirror image."""
        pc = ps = 0.0
        for t in (x, x.flip(3)):
            lc, ls, lf = self.model(t)
            c = F.softmax(lc, 1)
            if lf is not None and self._fine_to_cat is not None:
                c = 0.5 * (c + F.softmax(lf, 1) @ self._fine_to_cat)
            pc, ps = pc + 0.5 * c, ps + 0.5 * F.softmax(ls, 1)
        return pc, ps

    def classify_batch(
        self, images: Sequence[np.ndarray], masks: Sequence[np.ndarray] | None = None
    ) -> list[Classification]:
        """Classify several (H, W, 3) uint8 RGB photos at once (faster per item)."""
        pc, ps = self.probabilities(photo_tensor(images))
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
        """(H, W, 3) uint8 RGB product photo (mask ignored) -> Classification."""
        return self.classify_batch([image])[0]


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
    if meta.get("format") != FORMAT or meta.get("version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{meta_file} is not a {FORMAT} v{FORMAT_VERSION} file "
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
    """What training did: files written, how many items it used or skipped (and why), and
    accuracy on the held-out items (None when there are none)."""

    weights_path: str
    meta_path: str
    n_train: int
    n_val: int
    skipped: dict[str, str]
    val_category_accuracy: float | None
    val_sleeve_accuracy: float | None
    seconds: float


@dataclass
class _Examples:
    """Letterboxed photos (N, 3, H, W) uint8 and labels: category, sleeve and fine-class
    indices, ``_NO_LABEL`` where unknown."""

    x: torch.Tensor
    category: torch.Tensor
    sleeve: torch.Tensor
    fine: torch.Tensor

    def __len__(self) -> int:
        return len(self.x)

    def subset(self, keep: torch.Tensor) -> _Examples:
        return _Examples(self.x[keep], self.category[keep], self.sleeve[keep], self.fine[keep])


def _examples(photos: list[np.ndarray], cats: list[int], sleeves: list[int], fine: list[int]):
    x = torch.from_numpy(np.stack(photos)).permute(0, 3, 1, 2).contiguous()
    t = lambda v: torch.tensor(v, dtype=torch.long)  # noqa: E731
    return _Examples(x, t(cats), t(sleeves), t(fine))


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


def _predict(model: GarmentNet, meta: dict, data: _Examples, batch: int = 256):
    """Category and sleeve predictions (flip-averaged) for `data`, as index tensors."""
    full = {"categories": CATEGORIES, "sleeves": SLEEVES, "weights_sha256": "training", **meta}
    clf = CnnClassifier(model, full)
    pcs, pss = [], []
    for i in range(0, len(data), batch):
        pc, ps = clf.probabilities(_to_input(data.x[i : i + batch]))
        pcs.append(pc.argmax(1))
        pss.append(ps.argmax(1))
    return torch.cat(pcs), torch.cat(pss)


def _accuracy(model: GarmentNet, meta: dict, data: _Examples) -> tuple[float, float | None]:
    model.eval()
    pc, ps = _predict(model, meta, data)
    cat_acc = float((pc == data.category).float().mean())
    has = data.sleeve != _NO_LABEL
    sleeve_acc = float((ps[has] == data.sleeve[has]).float().mean()) if has.any() else None
    return cat_acc, sleeve_acc


def _is_val(key: str, val_fraction: float, seed: int) -> bool:
    """A stable held-out split: by a digest of the id, so adding rows never reshuffles."""
    d = int(digest_parts("classifier-split", str(seed), key)[:8], 16)
    return d < val_fraction * 0xFFFFFFFF


def _split(
    data: _Examples, keys: Sequence[str], val_fraction: float, seed: int
) -> tuple[_Examples, _Examples]:
    """(train, held out): `data` split by `_is_val` on each item's key. A split that would
    leave fewer than 2 to train on (a tiny collection) trains on all rather than none."""
    is_val = torch.tensor([_is_val(k, val_fraction, seed) for k in keys])
    if (~is_val).sum() < 2:
        is_val[:] = False
    return data.subset(~is_val), data.subset(is_val)


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
    train a `GarmentNet` on `train`, score it on `val`, write weights and metadata, and
    report. `skipped` and `started` (a `time.perf_counter()` reading) go into the report."""
    n_val = len(val) if val is not None else 0
    say(f"{source}: {len(train)} train, {n_val} held out, {len(skipped)} skipped")
    if len(train) < 2:
        raise ValueError(f"need at least 2 training images, got {len(train)}")
    threads = torch.get_num_threads()
    if num_threads:
        torch.set_num_threads(num_threads)
    try:
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        n_fine = len(meta.get("fine_classes") or [])
        model = GarmentNet(width, len(CATEGORIES), len(SLEEVES), n_fine)
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=5e-4)
        per_epoch = (len(train) + batch_size - 1) // batch_size
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=lr, total_steps=max(1, epochs * per_epoch), pct_start=0.2
        )
        # Balanced-ish: weights ~ 1/sqrt(count), so rare categories are learnt without
        # trading away much accuracy on the common ones.
        counts = torch.bincount(train.category, minlength=len(CATEGORIES)).float()
        cw = torch.where(counts > 0, counts.clamp(min=1).rsqrt(), 0.0)
        cw = cw * (counts > 0).sum() / cw.sum()
        has_sleeve = bool((train.sleeve != _NO_LABEL).any())
        has_fine = n_fine > 0 and bool((train.fine != _NO_LABEL).any())
        # Held-out (category, sleeve) accuracy, scored every fifth epoch and after the last.
        scores: tuple[float, float | None] | None = None
        for epoch in range(epochs):
            model.train()
            t0 = time.perf_counter()
            order = torch.randperm(len(train), generator=gen)
            total = 0.0
            for i in range(0, len(train), batch_size):
                idx = order[i : i + batch_size]
                if len(idx) < 2:  # BatchNorm needs two samples
                    continue
                lc, ls, lf = model(_augment(train.x[idx], gen))
                loss = F.cross_entropy(lc, train.category[idx], weight=cw, label_smoothing=0.1)
                ys = train.sleeve[idx]
                if has_sleeve and (ys != _NO_LABEL).any():
                    loss = loss + 0.5 * F.cross_entropy(
                        ls, ys, ignore_index=_NO_LABEL, label_smoothing=0.1
                    )
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
            msg = f"epoch {epoch + 1}/{epochs} loss {total / len(train):.3f}"
            if n_val and (epoch == epochs - 1 or epoch % 5 == 4):
                scores = _accuracy(model, meta, val)
                msg += f" held-out category {scores[0]:.3f} sleeve {scores[1]}"
            say(f"{msg} ({time.perf_counter() - t0:.0f} s)")
        model.eval()
        if n_val and scores is None:  # no epoch ran, so none was scored
            scores = _accuracy(model, meta, val)
    finally:
        torch.set_num_threads(threads)

    val_cat, val_sleeve = scores or (None, None)
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
        "input_size; RGB (N, 3, H, W) float32 in [-1, 1]; mask not used",
        "categories": list(CATEGORIES),
        "sleeves": list(SLEEVES),
        "weights_sha256": hashlib.sha256(weights).hexdigest(),  # what was written
        "n_train": len(train),
        "n_val": n_val,
        "train_category_counts": {
            c: int(n) for c, n in zip(CATEGORIES, counts.tolist(), strict=True)
        },
        "val_category_accuracy": val_cat,
        "val_sleeve_accuracy": val_sleeve,
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
        str(out), str(meta_file), len(train), n_val, skipped, val_cat, val_sleeve,
        time.perf_counter() - started,
    )  # fmt: skip


def _load_photo(url: str, item: str, max_pixels: int, storage_options) -> np.ndarray:
    data = read_input_bytes(url, storage_options)
    return letterbox(decode_image(data, item, max_pixels=max_pixels).rgb)


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
        stable); their accuracy is reported and saved in the metadata.
    num_threads : int, optional
        Torch CPU threads while training (restored afterwards).
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
    photos, cats, sleeves, keys = [], [], [], []
    for p in rows:
        if p.category is None:
            skipped[p.product_id] = "no category label"
            continue
        try:
            photos.append(
                _load_photo(p.image, f"product {p.product_id}", max_pixels, storage_options)
            )
        except Exception as exc:
            skipped[p.product_id] = one_line(exc)
            continue
        cats.append(CATEGORIES.index(p.category))
        sleeves.append(SLEEVES.index(p.sleeve) if p.sleeve in SLEEVES else _NO_LABEL)
        keys.append(p.product_id)
    if not photos:
        raise ValueError(f"no usable labelled garment in the catalog ({len(skipped)} skipped)")
    data = _examples(photos, cats, sleeves, [_NO_LABEL] * len(photos))
    train, held = _split(data, keys, val_fraction, seed)
    meta = {
        "training_data": catalog if isinstance(catalog, str) else None,
        "val_fraction": val_fraction,
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


def _folder_examples(
    items: list[tuple[str, str]],
    fine: list[str],
    mapping: Mapping[str, tuple[str, str | None]],
    max_pixels: int,
    skipped: dict[str, str],
) -> tuple[_Examples | None, list[str]]:
    photos, cats, sleeves, fines, keys = [], [], [], [], []
    for path, cls in items:
        try:
            photos.append(_load_photo(path, path, max_pixels, None))
        except Exception as exc:
            skipped[path] = one_line(exc)
            continue
        category, sleeve = mapping[cls]
        cats.append(CATEGORIES.index(category))
        sleeves.append(SLEEVES.index(sleeve) if sleeve else _NO_LABEL)
        fines.append(fine.index(cls))
        keys.append(f"{cls}/{Path(path).name}")
    if not photos:
        return None, keys
    return _examples(photos, cats, sleeves, fines), keys


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
    max_pixels: int = DEFAULT_MAX_PIXELS,
    log: Callable[[str], None] | None = None,
) -> TrainingReport:
    """Fit a `GarmentNet` on a class-per-folder collection (``folder/<class>/*.jpg``, as
    clothing-small) and save it to `out_path` (+ .json).

    `mapping` gives each folder class its (category, sleeve); a sleeve of None leaves the
    sleeve unlabelled. The network also learns the folder classes themselves (a third
    head): telling a t-shirt from a shirt teaches it more than "top" does. Held-out images
    come from `val_folder` (same layout) when given, else a `val_fraction` of `folder`
    chosen by a digest of the file name. Other parameters as for `train_classifier`.
    """
    t0 = time.perf_counter()
    say = log or (lambda _msg: None)
    for cls, (category, sleeve) in mapping.items():
        if category not in CATEGORIES or (sleeve is not None and sleeve not in SLEEVES):
            raise ValueError(f"mapping {cls!r} -> ({category!r}, {sleeve!r}): unknown label")
    items, skipped = read_image_folder(folder, mapping)
    fine = sorted({cls for _, cls in items})
    data, keys = _folder_examples(items, fine, mapping, max_pixels, skipped)
    if data is None:
        raise ValueError(f"no usable image under {folder} ({len(skipped)} skipped)")
    if val_folder is not None:
        val_items, val_skipped = read_image_folder(val_folder, mapping)
        val_items = [(p, c) for p, c in val_items if c in fine]
        skipped.update({f"validation {k}": v for k, v in val_skipped.items()})
        held, _ = _folder_examples(val_items, fine, mapping, max_pixels, skipped)
        train = data
    else:
        train, held = _split(data, keys, val_fraction, seed)
    meta = {
        "training_data": str(folder),
        "validation_data": str(val_folder) if val_folder is not None else None,
        "val_fraction": val_fraction if val_folder is None else None,
        "fine_classes": fine,
        "fine_mapping": {c: list(mapping[c]) for c in fine},
    }
    return _fit(
        "train_from_folder", train, held, meta, out_path, skipped=skipped, started=t0,
        epochs=epochs, batch_size=batch_size, lr=lr, width=width, seed=seed,
        num_threads=num_threads, say=say,
    )  # fmt: skip
