"""Training and evaluation settings: frozen, validated objects that the flows take whole.

As with `vton.config.RunSettings`, a misspelt setting fails at once (`extra="forbid"`), and
the settings are recorded whole in every training checkpoint's metadata, so a checkpoint
says how it was made. Nothing here reads the environment.

Defaults are the references' (CP-VTON / CP-VTON+ `train.py`): batch 4, Adam lr 1e-4 with
betas (0.5, 0.999), 100k steps at constant rate then 100k decaying linearly to zero, pose
squares of radius 5.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["TrainSettings", "EvalSettings", "Stage", "ModelVariant", "RESUME_FREE_SETTINGS"]

Stage = Literal["gmm", "tom"]
ModelVariant = Literal["cpvton", "cpvton_plus"]

#: `TrainSettings` fields a run may change when it resumes: where results go, how often they
#: are saved or logged, how the data is loaded, which device runs it, and
#: `init_checkpoint` (read only at step 0; a resumed run takes its weights from the
#: checkpoint). Every other field changes the loss curve (the LR schedule, the data, the
#: numerics...), so resuming with it changed is refused (`TrainSettings.resume_changes`).
#: `dataroot`, `gmm_checkpoint` and `vgg_weights` count as changes even when the new path
#: holds a copy of the same files: the settings cannot tell, and the error shows both paths.
RESUME_FREE_SETTINGS = frozenset(
    {
        "output",
        "storage_options",
        "resume",
        "save_every",
        "log_every",
        "keep_checkpoints",
        "workers",
        "device",
        "init_checkpoint",
    }
)


class TrainSettings(BaseModel):
    """Everything one GMM or TOM training run depends on."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    stage: Stage
    """Which network to train: `gmm` (warps the cloth) or `tom` (renders the try-on)."""

    variant: ModelVariant = "cpvton_plus"
    """`cpvton` (Wang et al. 2018: GMM sees the cloth RGB, 25-channel TOM) or `cpvton_plus`
    (Minar et al. 2020: GMM sees the cloth mask, 26-channel TOM, CP-VTON+ head labels and
    body mask)."""

    dataroot: str
    """Where the training data is: a VITON-layout dataroot (`source="viton"`) or the
    pipeline's store (`source="store"`); a local path or an fsspec URL."""

    source: Literal["viton", "store"] = "viton"
    """`viton`: `<dataroot>/<datamode>/{image,cloth,cloth-mask,image-parse(-new),
    image-mask,pose}/`. `store`: prepared assets of this pipeline (`assets/person/...`,
    `assets/cloth/...`), so a catalog's own photos can be used for fine-tuning."""

    datamode: str = "train"
    """Sub-folder of a VITON dataroot (the references' `--datamode`)."""

    data_list: str = "train_pairs.txt"
    """Pairs file, relative to `dataroot`: lines `<person>.jpg <cloth>.jpg` (VITON) or
    `<person asset> <cloth asset>` (store: asset keys such as
    `assets/person/p1/<digest>`, or bare ids when each has one prepared asset). Training
    pairs are a person and the garment they wear."""

    output: str
    """Store URL (local path, file://, s3://...) that receives checkpoints, the loss
    history and the final weights."""

    storage_options: dict[str, Any] = Field(default_factory=dict)
    """fsspec options for `dataroot`, `output` and the pairs file (S3 endpoint, keys...)."""

    warped_from: Literal["files", "gmm"] = "files"
    """TOM only: its warped-cloth input comes from `warp-cloth/` and `warp-mask/` files in
    the dataroot (written by a GMM test run, as the references do) or is computed on the fly
    by the frozen GMM `gmm_checkpoint` (needed with `source="store"`)."""

    gmm_checkpoint: str | None = None
    """TOM with `warped_from="gmm"`: the trained GMM state dict (same variant)."""

    init_checkpoint: str | None = None
    """Start from these weights (e.g. the published `gmm_final.pth` to fine-tune) instead
    of a random initialisation; loaded strictly, weights-only."""

    vgg_weights: str | None = None
    """TOM: torchvision VGG19 state dict (`vgg19-dcbb9e9d.pth`) for the perceptual loss.
    Never downloaded; without it TOM trains without the perceptual term, and the log and
    the checkpoints' metadata say so."""

    batch_size: int = Field(default=4, ge=1, le=4096)
    """Pairs per step and per process (under torchrun each rank takes this many)."""

    keep_steps: int = Field(default=100_000, ge=0)
    """Steps at the constant learning rate."""

    decay_steps: int = Field(default=100_000, ge=0)
    """Steps after `keep_steps` over which the rate decays linearly to zero."""

    lr: float = Field(default=1e-4, gt=0)
    """Adam's initial learning rate."""

    betas: tuple[float, float] = (0.5, 0.999)
    """Adam's betas."""

    gic_weight: float | None = Field(default=None, ge=0)
    """GMM: weight of CP-VTON+'s grid regulariser (GIC loss, normalised per grid point).
    None: 40 for `cpvton_plus` (its train.py), 0 for `cpvton` (which has none)."""

    vgg_weight: float = Field(default=1.0, ge=0)
    """TOM: weight of the VGG19 perceptual loss."""

    mask_weight: float = Field(default=1.0, ge=0)
    """TOM: weight of the composition mask's L1 loss."""

    radius: int = Field(default=5, ge=0, le=64)
    """Half side of the pose squares in the person representation (5 in both references)."""

    shuffle: bool = True
    """Visit pairs in a seeded random order each epoch (the references always shuffle)."""

    seed: int = 0
    """Seeds the initial weights and the data order: the same seed, the same run."""

    workers: int = Field(default=1, ge=0, le=64)
    """DataLoader worker processes (0: load in the training process). A worker reads about
    50 pairs/s on one CPU core (one torch thread, as DataLoader workers run; measured by
    `benchmarks/bench_training.py`); give a fast GPU several."""

    save_every: int = Field(default=5000, ge=1)
    """Write a resumable checkpoint every this many steps (and at the end)."""

    keep_checkpoints: int = Field(default=3, ge=1)
    """Resumable checkpoints kept; older ones are deleted."""

    log_every: int = Field(default=20, ge=1)
    """Log the losses (and keep them in the history) every this many steps."""

    resume: bool = True
    """Continue from the newest checkpoint under `output` if there is one."""

    device: str | None = None
    """Torch device (cuda, cuda:1, cpu); None: CUDA when available. Under torchrun each rank
    uses cuda:<LOCAL_RANK>."""

    amp: Literal["bf16", "fp16"] | None = None
    """Mixed precision: the networks run under torch autocast in bfloat16 or float16 (fp16
    with a gradient scaler), on CUDA and on the CPU alike; the TPS grid, the warps and the
    losses stay float32. None is float32 throughout. The weights and the final state dict
    stay float32 either way. On the CPU it pays only where oneDNN has native bf16/fp16
    kernels (AVX512-BF16, AMX): elsewhere torch falls back to a slow convolution, measured
    30-70x slower than float32 on an AVX2 CPU (the run logs a warning there)."""

    @model_validator(mode="after")
    def _check(self) -> TrainSettings:
        if self.keep_steps + self.decay_steps < 1:
            raise ValueError("keep_steps + decay_steps must be at least 1")
        if self.stage == "tom" and self.warped_from == "gmm" and not self.gmm_checkpoint:
            raise ValueError('warped_from="gmm" needs gmm_checkpoint')
        if self.stage == "tom" and self.source == "store" and self.warped_from != "gmm":
            raise ValueError(
                'TOM on store assets needs warped_from="gmm" and a gmm_checkpoint: the store '
                "has no warp-cloth/ files"
            )
        return self

    def resume_changes(self, recorded: Mapping[str, Any]) -> list[str]:
        """What differs, as ``"name: old -> new"`` lines, between these settings and those
        `recorded` in a checkpoint's metadata (``settings``, JSON-style values), leaving out
        `RESUME_FREE_SETTINGS`. `gic_weight` is compared as `effective_gic_weight`, so None
        and its default value agree; fields the checkpoint does not record (written before
        they existed) are not compared."""
        now = self.model_dump(mode="json")
        changes = []
        for name, new in now.items():
            if name in RESUME_FREE_SETTINGS or name not in recorded:
                continue
            old = recorded[name]
            if name == "gic_weight":
                old = _effective_gic_weight(old, recorded.get("variant", self.variant))
                new = self.effective_gic_weight
            if old != new:
                changes.append(f"{name}: {old!r} -> {new!r}")
        return changes

    @property
    def total_steps(self) -> int:
        return self.keep_steps + self.decay_steps

    @property
    def effective_gic_weight(self) -> float:
        return _effective_gic_weight(self.gic_weight, self.variant)


def _effective_gic_weight(gic_weight: float | None, variant: str) -> float:
    if gic_weight is not None:
        return float(gic_weight)
    return 40.0 if variant == "cpvton_plus" else 0.0


class EvalSettings(BaseModel):
    """What `vton evaluate` measures, on which pairs, with which optional backbones."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    dataroot: str
    """VITON-layout dataroot (or the store with `source="store"`) holding the ground truth."""

    source: Literal["viton", "store"] = "viton"
    """As in `TrainSettings.source`."""

    variant: ModelVariant = "cpvton_plus"
    """Which reference's inputs to build when running checkpoints."""

    datamode: str = "test"
    """Sub-folder of a VITON dataroot."""

    data_list: str = "test_pairs.txt"
    """Pairs file, relative to `dataroot`."""

    output: str
    """Store URL that receives `report.json`, `report.parquet` (one row, laid out like
    CP-VTON+'s Table 1) and `pairs.parquet` (per pair)."""

    method: str = "model"
    """Row label of the report (e.g. `CP-VTON+ (ours, 200k)`)."""

    storage_options: dict[str, Any] = Field(default_factory=dict)
    """fsspec options for every URL above."""

    gmm_checkpoint: str | None = None
    """Run this GMM to get the warped masks (and, with `tom_checkpoint`, try-ons)."""

    tom_checkpoint: str | None = None
    """Run this TOM on the GMM's warps to get the try-on images."""

    warp_mask_dir: str | None = None
    """Instead of running the GMM: folder of warped masks named by person image (the
    references' `result/<name>/test/warp-mask/`)."""

    tryon_dir: str | None = None
    """Instead of running the TOM: folder of try-on images named by person image (the
    references' `.../try-on/`)."""

    same_cloth: Literal["auto", "all", "none"] = "auto"
    """Which pairs have ground truth (the person wears that very cloth): `auto` uses VITON's
    naming (`000001_0.jpg` wears `000001_1.jpg`), `all` (a `test_pairs_same.txt`) or `none`.
    IoU, SSIM and LPIPS are measured on those, IS on the others (different-cloth pairs, as
    in CP-VTON+'s Table 1), FID/KID on all pairs."""

    lpips_backbone: str | None = None
    """torchvision VGG16 state dict for LPIPS (never downloaded); with `lpips_weights`."""

    lpips_weights: str | None = None
    """LPIPS's linear-layer weights for VGG (the `lpips` package's `weights/v0.1/vgg.pth`)."""

    fid_extractor: str | None = None
    """TorchScript feature extractor for FID/KID (e.g. clean-fid's Inception
    `inception-2015-12-05.pt`): takes (B, 3, S, S) float32 in [0, 255], returns (B, D)."""

    fid_input_size: int = Field(default=299, ge=16, le=1024)
    """Side the images are resized to (bilinear) before `fid_extractor` and
    `is_classifier`."""

    is_classifier: str | None = None
    """TorchScript or `torch.export` (``.pt2``) classifier for the Inception Score: takes
    (B, 3, S, S) float32 in [0, 255] and returns (B, C) class logits (e.g. Inception v3's,
    as torch-fidelity's `logits_unbiased`); never downloaded. IS is computed on the
    try-ons of the different-cloth pairs, as CP-VTON+'s Table 1 reports it."""

    is_splits: int = Field(default=10, ge=1)
    """IS: the images are cut into this many equal splits and the score is reported as
    mean and std over them (10, as in Salimans et al. and CP-VTON+); fewer when there are
    fewer images, which the report's notes say."""

    kid_subsets: int = Field(default=100, ge=1)
    """KID: number of random subsets the MMD is averaged over."""

    kid_subset_size: int = Field(default=1000, ge=2)
    """KID: subset size (capped at the number of images)."""

    batch_size: int = Field(default=8, ge=1, le=4096)
    """Pairs per batch through the networks and feature extractors."""

    radius: int = Field(default=5, ge=0, le=64)
    """Half side of the pose squares in the person representation."""

    device: str | None = None
    """Torch device; None: CUDA when available."""

    @model_validator(mode="after")
    def _check(self) -> EvalSettings:
        if self.gmm_checkpoint is None and self.warp_mask_dir is None:
            raise ValueError("give gmm_checkpoint or warp_mask_dir (the warped masks)")
        if self.tom_checkpoint is not None and self.gmm_checkpoint is None:
            raise ValueError("tom_checkpoint needs gmm_checkpoint (TOM renders GMM's warps)")
        if (self.lpips_backbone is None) != (self.lpips_weights is None):
            raise ValueError("LPIPS needs both lpips_backbone and lpips_weights")
        return self
