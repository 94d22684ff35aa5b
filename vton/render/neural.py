"""The neural renderer: CP-VTON / CP-VTON+ GMM warp, then TOM composition, batched.

Given the published `gmm_final.pth` and `tom_final.pth` (both of one variant; the variant
is recognised from the files), each batch of pairs goes through: person placed in
CP-VTON's 256x192 frame and turned into its 22-channel representation
(`vton.person.representation`), garment resized to 256x192 with its mask thresholded at
128 -> GMM grid -> warped cloth (border padding) and mask (zero padding) -> TOM -> try-on,
and the frame is mapped back to the person photo's size.

Between the stages CP-VTON+ re-reads the warped mask from an 8-bit PNG and thresholds it
(``>= 128``); the TOM here gets the same binary mask (``m * 255 >= 128``). The reference also
round-trips the warped cloth through JPEG; that loss is not reproduced.

The GMM's two feature extractors each see one input, so their features are kept per asset
(`RenderRequest.person_key` / `cloth_key`, bounded LRU caches): a shard renders each
garment against many persons and meets each person once per garment, and only the
correlation, regression and TPS grid run per pair. That is exact (eval-mode BatchNorm is
per sample) and removes about a third of a pair's network work. Likewise the TOM's first
convolution is split into a person term, kept per person (`CpVtonTom.person_term`), and
the garment's 3-4 channels convolved per pair (exact up to float32 rounding).

Runs on CUDA when available (channels-last, optional bf16/fp16 autocast; the TPS grid and
the warps stay fp32), else on the CPU with torch's default threads (where the TOM's
upsampling convolutions run at the low resolution, `vton.layers.upsample_conv`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence

import numpy as np
import torch
from PIL import Image

from vton.digest import digest_parts
from vton.errors import CheckpointError
from vton.imageio import resize_image, resize_mask
from vton.layers import warp_for_tom
from vton.lru import LruCache
from vton.models import CpVtonGmm, CpVtonTom, load_model, model_digest
from vton.person.frame import FRAME_SIZE, FramedPerson, frame_person
from vton.person.representation import Variant, representation_for_person
from vton.render.base import Renderer, RenderOutput, RenderRequest
from vton.tensors import image_to_tensor, mask_to_tensor, tensor_to_image, tensor_to_mask

__all__ = ["NeuralRenderer"]

NEURAL_VERSION = "1"
_AMP = {"bf16": torch.bfloat16, "fp16": torch.float16}
#: GMM features kept per asset: (512, 16, 12) float32, 393 KB each.
MAX_CACHED_PERSON_FEATURES = 256
MAX_CACHED_CLOTH_FEATURES = 16
#: TOM first-layer terms kept per person (`CpVtonTom.person_term`): (64, 128, 96) float32,
#: 3.1 MB each; a default shard (64 pairs) holds at most this many persons.
MAX_CACHED_PERSON_TERMS = 64
#: Network inputs kept per asset: a person's two representations are 8.6 MB (CP-VTON+),
#: a garment's 256x192 cloth and mask 0.8 MB.
MAX_CACHED_PERSON_INPUTS = 32
MAX_CACHED_CLOTH_INPUTS = 16
#: Pairs per network call on the CPU, whatever `batch_size` says: larger batches were slower
#: per pair there (benchmarks/bench_cpvton.py, 2 cores: TOM 1.53x the reference at 4 pairs,
#: 1.28x at 8; likely because the Winograd tile tensors of 8 pairs outgrow the caches).
CPU_COMPUTE_BATCH = 4


class _FeatureCache:
    """Per-asset network features, least recently used dropped first."""

    def __init__(self, limit: int) -> None:
        self.items: LruCache[torch.Tensor] = LruCache(limit)
        self.hits = self.misses = 0

    def features(
        self,
        keys: Sequence[str | None],
        inputs: Sequence[torch.Tensor],
        compute: Callable[[torch.Tensor], torch.Tensor],
    ) -> torch.Tensor:
        """Features (B, ...) of the pairs whose inputs are `inputs` (one tensor each),
        computing each distinct key once (a None key is computed and not kept); only the
        inputs to compute are batched and handed to `compute`."""
        found: dict[object, torch.Tensor] = {}  # key (or row index) -> features
        todo: dict[object, int] = {}  # key (or row index) -> first row that needs it
        slots = [key if key is not None else i for i, key in enumerate(keys)]
        for i, slot in enumerate(slots):
            if slot in found or slot in todo:
                continue
            if isinstance(slot, str) and slot in self.items:
                found[slot] = self.items.get(slot)
                self.hits += 1
            else:
                todo[slot] = i
                self.misses += 1
        if todo:
            batch = torch.stack([inputs[i] for i in todo.values()])
            for slot, f in zip(todo, compute(batch), strict=True):
                found[slot] = f
                if isinstance(slot, str):
                    self.items.put(slot, f)
        return torch.stack([found[slot] for slot in slots])


def _default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class NeuralRenderer(Renderer):
    """CP-VTON / CP-VTON+ try-on from checkpoint files; see the module docstring.

    Raises `CheckpointError` at construction (before any rendering) if a file is missing,
    unreadable, of the wrong network, or if the two files are of different variants.
    """

    def __init__(
        self,
        gmm_checkpoint: str | os.PathLike,
        tom_checkpoint: str | os.PathLike,
        *,
        device: str | torch.device | None = None,
        batch_size: int = 16,
        amp: str | None = None,
    ) -> None:
        if amp is not None and amp not in _AMP:
            raise ValueError(f"amp must be None, 'bf16' or 'fp16', got {amp!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.device = torch.device(device) if device is not None else _default_device()
        self.amp = amp
        self.batch_size = batch_size
        self.compute_batch = (
            batch_size if self.device.type == "cuda" else min(batch_size, CPU_COMPUTE_BATCH)
        )
        self.gmm: CpVtonGmm = load_model(gmm_checkpoint, kind="gmm", device=self.device)
        self.tom: CpVtonTom = load_model(tom_checkpoint, kind="tom", device=self.device)
        gv, tv = self.gmm.pretrained_cfg.variant, self.tom.pretrained_cfg.variant
        if gv != tv:
            raise CheckpointError(
                f"GMM {gmm_checkpoint} is {gv} but TOM {tom_checkpoint} is {tv}; "
                "use both checkpoints of one variant"
            )
        self.variant = gv
        self.name = gv  # "cpvton" or "cpvton_plus": part of output paths
        if self.device.type == "cuda":
            self.gmm.to(memory_format=torch.channels_last)
            self.tom.to(memory_format=torch.channels_last)
        self._person_inputs_cache: LruCache[tuple] = LruCache(MAX_CACHED_PERSON_INPUTS)
        self._cloth_inputs_cache: LruCache[tuple] = LruCache(MAX_CACHED_CLOTH_INPUTS)
        self._person_features = _FeatureCache(MAX_CACHED_PERSON_FEATURES)
        self._cloth_features = _FeatureCache(MAX_CACHED_CLOTH_FEATURES)
        self._person_terms = _FeatureCache(MAX_CACHED_PERSON_TERMS)
        self._digest = "neural:" + digest_parts(
            "neural",
            NEURAL_VERSION,
            gv,
            model_digest(gmm_checkpoint),
            model_digest(tom_checkpoint),
            amp or "fp32",
        )

    @property
    def model_digest(self) -> str:
        return self._digest

    # -- inputs ---------------------------------------------------------------------------
    def _person_inputs(self, framed: FramedPerson) -> tuple[torch.Tensor, torch.Tensor]:
        """(22, H, W) representations for the GMM and for the TOM (they differ only in
        CP-VTON+'s head labels)."""
        if self.variant == "cpvton":
            rep = representation_for_person(framed, Variant.CP_VTON)
            return rep, rep
        return (
            representation_for_person(framed, Variant.CP_VTON_PLUS_GMM),
            representation_for_person(framed, Variant.CP_VTON_PLUS_TOM),
        )

    def _person(self, req: RenderRequest):
        framed = frame_person(req.person)
        return (framed, *self._person_inputs(framed))

    def _cloth(self, req: RenderRequest) -> tuple[torch.Tensor, torch.Tensor]:
        # np.array: PIL hands back read-only arrays, which torch warns about
        cloth = np.array(resize_image(req.cloth.image, FRAME_SIZE))
        mask = np.array(resize_mask(req.cloth.mask, FRAME_SIZE))
        return image_to_tensor(cloth)[0], mask_to_tensor(mask)[0]

    def _prepare(self, req: RenderRequest):
        """The pair's network inputs; a person's and a garment's are made once while they
        stay in the (bounded) caches, since a shard meets each in many pairs."""
        framed, rep_gmm, rep_tom = self._person_inputs_cache.get_or_make(
            req.person_key, lambda: self._person(req)
        )
        cloth, mask = self._cloth_inputs_cache.get_or_make(req.cloth_key, lambda: self._cloth(req))
        return framed, rep_gmm, rep_tom, cloth, mask

    # -- compute --------------------------------------------------------------------------
    def _autocast(self):
        if self.amp is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=_AMP[self.amp])

    def _run(self, reps_gmm, reps_tom, cloth, mask, person_keys, cloth_keys):
        """The pairs' person representations (one (22, H, W) tensor each for the GMM and
        the TOM: batched only where what is made of them is not cached), batched garment
        inputs (B, ...) on the CPU and the pairs' asset keys -> (warped cloth, composition
        mask, try-on) float32 on the CPU, all at 256x192."""
        dev, cl = self.device, self.device.type == "cuda"
        fmt = torch.channels_last if cl else torch.contiguous_format

        def put(t: torch.Tensor) -> torch.Tensor:
            if cl:
                t = t.pin_memory()
            return t.to(dev, non_blocking=cl).contiguous(memory_format=fmt)

        cloth, mask = put(cloth), put(mask)
        gmm_cloth = cloth if self.gmm.cloth_chans == 3 else mask
        with torch.inference_mode(), self._autocast():
            fa = self._person_features.features(
                person_keys, reps_gmm, lambda x: self.gmm.person_features(put(x))
            )
            fb = self._cloth_features.features(cloth_keys, list(gmm_cloth), self.gmm.cloth_features)
            grid, _ = self.gmm.match(fa, fb)
            # CP-VTON+'s TOM takes the binary warped mask as input, CP-VTON's restricts
            # its composition mask to it
            warped, warped_mask = warp_for_tom(cloth, mask, grid)
            term = self._person_terms.features(
                person_keys, reps_tom, lambda x: self.tom.person_term(put(x))
            )
            out = self.tom(None, warped, warped_mask, person_term=term)
        return warped.cpu(), out.mask.float().cpu(), out.tryon.float().clamp(-1, 1).cpu()

    @staticmethod
    def _unframe_image(arr: np.ndarray, framed: FramedPerson) -> np.ndarray:
        fr = framed.frame
        crop = arr[fr.oy : fr.oy + fr.th, fr.ox : fr.ox + fr.tw]
        return resize_image(np.ascontiguousarray(crop), (fr.h, fr.w))

    @staticmethod
    def _unframe_mask(mask: np.ndarray, framed: FramedPerson) -> np.ndarray:
        """Soft (0..255) mask back to the photo's size (bilinear: it stays soft)."""
        fr = framed.frame
        crop = np.ascontiguousarray(mask[fr.oy : fr.oy + fr.th, fr.ox : fr.ox + fr.tw])
        return np.asarray(Image.fromarray(crop).resize((fr.w, fr.h), Image.Resampling.BILINEAR))

    def render_batch(self, requests: Sequence[RenderRequest]) -> list[RenderOutput | Exception]:
        results: list[RenderOutput | Exception | None] = [None] * len(requests)
        ready = []
        for i, req in enumerate(requests):
            try:
                ready.append((i, *self._prepare(req)))
            except Exception as exc:  # e.g. no label map: this pair fails, the others go on
                results[i] = exc
        for start in range(0, len(ready), self.compute_batch):
            chunk = ready[start : start + self.compute_batch]
            reps = [[item[k] for item in chunk] for k in (2, 3)]
            stacked = [torch.stack([item[k] for item in chunk]) for k in (4, 5)]
            keys = [[requests[item[0]].person_key for item in chunk]]
            keys.append([requests[item[0]].cloth_key for item in chunk])
            try:
                warped, comp, tryon = self._run(*reps, *stacked, *keys)
            except Exception as exc:
                for item in chunk:
                    results[item[0]] = exc
                continue
            for j, (i, framed, *_) in enumerate(chunk):
                try:
                    results[i] = RenderOutput(
                        tryon=self._unframe_image(tensor_to_image(tryon[j]), framed),
                        warped_cloth=self._unframe_image(tensor_to_image(warped[j]), framed),
                        composition_mask=self._unframe_mask(tensor_to_mask(comp[j]), framed),
                    )
                except Exception as exc:
                    results[i] = exc
        return results  # type: ignore[return-value]
