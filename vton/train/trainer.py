"""Training loops for the GMM and the TOM, resumable bit for bit.

`train(settings)` builds the network (seeded, or from `init_checkpoint`), Adam
(lr 1e-4, betas 0.5/0.999) with the constant-then-linear schedule actually stepped
(`vton.train.schedule`), and runs steps ``start .. keep_steps + decay_steps``:

- GMM: grid = GMM(agnostic, cloth (CP-VTON) or cloth mask (CP-VTON+)); loss = L1(warped
  cloth, parse_cloth) + gic_weight * GIC(grid) (`vton.train.losses`).
- TOM: raw = TOM(agnostic | warped cloth | warped mask (CP-VTON+)), composed as each
  reference composes; loss = L1(try-on, image) + VGG19 perceptual + L1(mask, target). The
  warps come from the dataroot's `warp-cloth/` files or from a frozen GMM run on the fly.
  Without VGG19 weights the perceptual term is left out, and the log and every checkpoint's
  metadata say so.

Every `save_every` steps a checkpoint with the optimiser, scheduler, gradient scaler, RNG
states and the step goes to the output store (`vton.train.checkpointing`); the data order
is a function of the step (`vton.train.dataset.StepBatchSampler`), so a run that resumes
from a checkpoint computes exactly the losses an uninterrupted run computes (on the same
device and thread count: CPU kernels are deterministic there; on CUDA, cuDNN's
non-deterministic kernels make it close, not bitwise).

A run resumes only with the settings it was started with (`TrainSettings.resume_changes`,
and the same number of processes, which fixes the global batch): a changed learning rate,
schedule, batch or loss weight would silently splice two different runs, so it is refused
before any step with a ValueError that lists each change.

Mixed precision (`amp`: bf16, or fp16 with a gradient scaler; CUDA or CPU autocast)
autocasts the networks; the TPS grid, the warps and the losses stay float32. Under
torchrun (``WORLD_SIZE > 1``) the model is wrapped in DistributedDataParallel, each rank
takes its slice of every global batch (`StepBatchSampler`), the logged losses are the
means over the ranks (those of the global batch, as one process would log them), rank 0
alone logs and writes to the store. Networks with BatchNorm (the GMM) normalise with each
rank's own batch statistics, as DDP without SyncBatchNorm does, and the saved running
statistics are rank 0's; the TOM (InstanceNorm) computes, up to float rounding, what one
process with the whole global batch computes.

Losses are read on the host without stalling a GPU: on CUDA each step's losses stay
detached tensors on the device and are read (one host synchronisation, and under torchrun
one all-reduce, for all the steps since the last read) only every `log_every` steps, at
every checkpoint and at the end. A `loss.item()` per step would make the CPU wait for each
forward pass before it could queue the backward, leaving the GPU idle at every step. The
price: a non-finite loss is noticed at that read, not at its own step, so the steps from
it up to the read run on (their updates NaN, or skipped by the fp16 gradient scaler), wasted.
Then every rank raises FloatingPointError together (they all read the same all-reduced
losses), naming the first non-finite step; because the read comes before each checkpoint
and before the final weights are written, nothing after a non-finite loss is ever saved,
and resuming restarts from the last checkpoint before it. On the CPU (`READ_EVERY_STEP_ON`)
the losses are read every step, before the backward, as that costs no wait there, and
a non-finite loss stops the run before any backward or update through it. The values
logged and returned are the same either way.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader

from vton.layers import warp_for_tom
from vton.models import create_model, load_model
from vton.storage import Store
from vton.train.checkpointing import (
    capture_rng_state,
    load_latest_state,
    restore_rng_state,
    save_final_weights,
    save_state,
)
from vton.train.config import TrainSettings
from vton.train.dataset import StepBatchSampler, make_dataset
from vton.train.losses import VGGLoss, gmm_losses, tom_losses, tom_outputs
from vton.train.schedule import make_scheduler
from vton.train.vgg import load_vgg19

__all__ = [
    "TrainResult",
    "train",
    "build_model",
    "PERCEPTUAL_OFF",
    "MAX_RESULT_LOSSES",
    "READ_EVERY_STEP_ON",
]

_log = logging.getLogger(__name__)
_AMP = {"bf16": torch.bfloat16, "fp16": torch.float16}
#: Per-step losses a `TrainResult` keeps (a 200k-step run would otherwise hold 200k dicts).
MAX_RESULT_LOSSES = 10_000
PERCEPTUAL_OFF = "off: no vgg_weights configured, trained without the VGG19 perceptual term"
#: Device types whose losses are read on the host every step, before the backward. A CPU
#: has computed them when the forward returns, so reading them makes nothing wait; and a
#: run must not go on there after a non-finite loss: torch's CPU `grid_sample` backward
#: crashes the process (SIGSEGV) on a NaN grid (border padding, torch 2.13), which NaN
#: weights give. Elsewhere (CUDA) losses are read at the log and checkpoint steps only.
READ_EVERY_STEP_ON: tuple[str, ...] = ("cpu",)


@dataclass(frozen=True)
class TrainResult:
    """What one call of `train` did.

    losses: one dict per step run in this call ({"step": s (0-based), "total": ..., the
    components, "lr": ...}), float values as `loss.item()` would give them (under torchrun,
    their means over the ranks: the global batch's losses); the last
    `MAX_RESULT_LOSSES` steps of a longer call (the store's `history.json` has the logged
    steps of the whole run).
    final_uri: the `<stage>_final.pth` written (None when stopped before the last step).
    """

    stage: str
    variant: str
    output: str
    start_step: int
    steps_done: int
    total_steps: int
    final_uri: str | None
    checkpoint_uri: str | None
    perceptual: str
    losses: tuple[dict[str, float], ...] = field(repr=False)


def build_model(stage: str, variant: str, init_checkpoint: str | None = None) -> nn.Module:
    """The untrained network (seed torch first for a reproducible init), or the one at
    `init_checkpoint` (strict, weights-only), in train mode."""
    name = f"{stage}_{variant}"
    model = create_model(name, checkpoint_path=init_checkpoint)
    return model.train()


@dataclass
class _Dist:
    world: int = 1
    rank: int = 0
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def _setup_distributed(device_hint: str | None) -> _Dist:
    """torchrun's environment -> process group (read at call time, never at import).

    The group is started once per process and kept until it exits: under torchrun, torch
    (2.13) cannot start the default group again after destroying it (the second
    `init_process_group` waits forever on the rendezvous keys of the first), so a process
    that trains twice (the GMM, then the TOM) reuses it.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return _Dist()
    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        cuda = torch.cuda.is_available() and (device_hint or "cuda").startswith("cuda")
        dist.init_process_group(backend="nccl" if cuda else "gloo")
        atexit.register(_destroy_process_group)
    return _Dist(world, rank, local)


def _destroy_process_group() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def _device(settings: TrainSettings, dd: _Dist) -> torch.device:
    if settings.device is not None and not settings.device.startswith("cuda"):
        return torch.device(settings.device)
    if torch.cuda.is_available():
        if dd.world > 1:
            torch.cuda.set_device(dd.local_rank)
            return torch.device("cuda", dd.local_rank)
        return torch.device(settings.device or "cuda")
    if settings.device is not None:
        raise ValueError(f"device {settings.device!r} requested but CUDA is not available")
    return torch.device("cpu")


def _cpu_has_native(amp: str) -> bool:
    """Whether oneDNN has `amp` convolutions on this CPU (AVX512-BF16, AMX, AVX512-FP16...);
    without them CPU autocast runs a slow fallback (measured 30-70x slower than float32
    for the GMM and the TOM on an AVX2 AMD EPYC, torch 2.13)."""
    name = {"bf16": "_is_mkldnn_bf16_supported", "fp16": "_is_mkldnn_fp16_supported"}[amp]
    try:
        return bool(getattr(torch.ops.mkldnn, name)())
    except (AttributeError, RuntimeError):
        return False


def _check_resumable(state: dict[str, Any], settings: TrainSettings, dd: _Dist, url: str) -> None:
    """Refuse to resume `state` under settings that would change the loss curve."""
    meta = state.get("metadata", {})
    stage, variant = settings.stage, settings.variant
    if (meta.get("stage"), meta.get("variant")) != (stage, variant):
        raise ValueError(
            f"{url} holds a {meta.get('stage')}/{meta.get('variant')} checkpoint, "
            f"not {stage}/{variant}: use another output or resume=False"
        )
    changes = settings.resume_changes(meta.get("settings") or {})
    if meta.get("world_size", dd.world) != dd.world:
        changes.append(f"world_size (processes): {meta['world_size']} -> {dd.world}")
    if changes:
        raise ValueError(
            f"{url} holds a checkpoint at step {state.get('step')} of a run with other "
            "settings; resuming would splice two different runs. Changed: "
            + "; ".join(changes)
            + ". Use another output to train with the new settings, resume=False "
            "(--no-resume) to start over in this one, or the old settings to resume."
        )


def _metadata(settings: TrainSettings, perceptual: str, dd: _Dist, amp: str | None) -> dict:
    cfg = settings.model_dump(mode="json")
    cfg.pop("storage_options", None)  # may hold credentials; never written to a store
    return {
        "stage": settings.stage,
        "variant": settings.variant,
        "settings": cfg,
        "perceptual": perceptual,
        "gic_weight": settings.effective_gic_weight if settings.stage == "gmm" else None,
        "world_size": dd.world,
        "amp": amp,
        "torch": str(torch.__version__),
        "schedule": f"constant {settings.keep_steps} steps, then linear to 0 over "
        f"{settings.decay_steps} (stepped every step)",
    }


def train(
    settings: TrainSettings,
    *,
    stop_after: int | None = None,
    log: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train (or resume training) the GMM or TOM of `settings`; see the module docstring.

    `stop_after` ends the call once that many steps are done in all (a checkpoint is
    written there if `save_every` divides it; what was done after the last checkpoint is
    done again on resume), as a killed run would; used to test resuming.
    """
    dd = _setup_distributed(settings.device)
    say = (log or _log.info) if dd.main else (lambda _msg: None)
    return _train(settings, dd, stop_after, say)


def _train(
    settings: TrainSettings, dd: _Dist, stop_after: int | None, say: Callable[[str], None]
) -> TrainResult:
    device = _device(settings, dd)
    amp = settings.amp
    if amp is not None and not torch.amp.is_autocast_available(device.type):
        raise ValueError(f"amp={amp!r}: torch has no autocast for {device.type} devices")
    out = Store(settings.output, settings.storage_options)
    stage, variant = settings.stage, settings.variant
    total = settings.total_steps
    # read (and checked) before anything is built, so that a refused resume costs nothing
    state = load_latest_state(out) if settings.resume else None
    if state is not None:
        _check_resumable(state, settings, dd, out.url)
    if amp is not None and device.type == "cpu" and not _cpu_has_native(amp):
        say(
            f"amp={amp} on a CPU without native {amp} kernels: convolutions take torch's "
            "slow fallback (30-70x slower than float32 on an AVX2 CPU); leave amp unset here"
        )

    dataset = make_dataset(
        settings.source,
        settings.dataroot,
        stage=stage,
        variant=variant,
        datamode=settings.datamode,
        data_list=settings.data_list,
        radius=settings.radius,
        warped_from=settings.warped_from,
        storage_options=settings.storage_options,
    )

    torch.manual_seed(settings.seed)
    model = build_model(stage, variant, settings.init_checkpoint).to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr, betas=settings.betas)
    scheduler = make_scheduler(optimizer, settings.keep_steps, settings.decay_steps)
    scaler = torch.amp.GradScaler(device.type) if amp == "fp16" else None

    vgg: VGGLoss | None = None
    perceptual = "n/a (GMM)"
    gmm: nn.Module | None = None
    if stage == "tom":
        if settings.vgg_weights and settings.vgg_weight > 0:
            vgg = VGGLoss(load_vgg19(settings.vgg_weights)).to(device)
            perceptual = f"vgg19 relu1_1..relu5_1 from {settings.vgg_weights}"
        else:
            perceptual = PERCEPTUAL_OFF if not settings.vgg_weights else "off: vgg_weight = 0"
            say(f"TOM: {perceptual}")
        if settings.warped_from == "gmm":
            gmm = load_model(settings.gmm_checkpoint, kind="gmm", variant=variant, device=device)
            for p in gmm.parameters():
                p.requires_grad_(False)
    metadata = _metadata(settings, perceptual, dd, amp)

    start, history = 0, []
    if state is not None:
        model.load_state_dict(state["model"], strict=True)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if scaler is not None and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        restore_rng_state(state["rng"])
        start, history = int(state["step"]), list(state.get("history") or [])
        say(f"{stage}: resuming at step {start} from {out.url}")

    # The TOM's loss composes its raw output per variant, so the U-Net itself is trained.
    net: nn.Module = model if stage == "gmm" else model.model
    if dd.world > 1:
        net = nn.parallel.DistributedDataParallel(
            net, device_ids=[device.index] if device.type == "cuda" else None
        )
    stop = min(total, stop_after) if stop_after is not None else total
    loader = DataLoader(
        dataset,
        batch_sampler=StepBatchSampler(
            len(dataset),
            settings.batch_size,
            start_step=start,
            stop_step=max(start, stop),
            seed=settings.seed,
            shuffle=settings.shuffle,
            rank=dd.rank,
            world_size=dd.world,
        ),
        num_workers=settings.workers,
        pin_memory=device.type == "cuda",
    )

    def autocast():
        if amp is None:
            return contextlib.nullcontext()
        return torch.autocast(device.type, dtype=_AMP[amp])

    def put(t: torch.Tensor) -> torch.Tensor:
        t = t.to(device, non_blocking=True)
        return t.contiguous(memory_format=torch.channels_last) if device.type == "cuda" else t

    # Each step returns its loss and the named components, all 0-dim float32 tensors on
    # the device, read on the host by `read_pending` only (see the module docstring).
    def gmm_step(b: dict[str, Any]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        cloth, mask = put(b["cloth"]), put(b["cloth_mask"])
        with autocast():
            grid, _ = net(put(b["agnostic"]), cloth if variant == "cpvton" else mask)
        losses, _ = gmm_losses(cloth, grid, put(b["parse_cloth"]), settings.effective_gic_weight)
        return losses.total, {"warp": losses.warp, "gic": losses.gic}

    def tom_step(b: dict[str, Any]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        cloth, mask = put(b["cloth"]), put(b["cloth_mask"])
        if gmm is not None:
            with torch.no_grad(), autocast():
                grid, _ = gmm(put(b["agnostic_gmm"]), cloth if variant == "cpvton" else mask)
            cloth, mask = warp_for_tom(cloth, mask, grid)
        parts = [put(b["agnostic"]), cloth] + ([mask] if variant == "cpvton_plus" else [])
        with autocast():
            raw = net(torch.cat(parts, 1))
        _, m, tryon = tom_outputs(raw, cloth, mask, variant)
        target = mask if variant == "cpvton" else put(b["parse_cloth_mask"])
        losses = tom_losses(
            tryon,
            m,
            put(b["image"]),
            target,
            vgg,
            vgg_weight=settings.vgg_weight,
            mask_weight=settings.mask_weight,
        )
        return losses.total, {"l1": losses.l1, "vgg": losses.vgg, "mask": losses.mask}

    #: (step, lr, detached [total, *components]) of the steps not yet read on the host
    pending: list[tuple[int, float, torch.Tensor]] = []
    names: list[str] = []

    def read_pending() -> list[dict[str, float]]:
        """The pending steps' records, with one host synchronisation (and, under torchrun,
        one all-reduce: every rank calls this at the same steps) for all of them; raises
        FloatingPointError at the first non-finite total loss, on every rank at once."""
        if not pending:
            return []
        values = torch.stack([v for _, _, v in pending])
        if dd.world > 1:
            # float64, as `loss.item()` values were summed: the global batch's losses
            values = values.to(torch.float64)
            dist.all_reduce(values)
            values = values / dd.world
        records = [
            {"step": s, "total": row[0], **dict(zip(names, row[1:], strict=True)), "lr": lr}
            for (s, lr, _), row in zip(pending, values.tolist(), strict=True)
        ]
        pending.clear()
        for r in records:
            if not math.isfinite(r["total"]):
                parts = {k: r[k] for k in names}
                raise FloatingPointError(
                    f"{stage} step {r['step']}: loss is {r['total']} ({parts}); read at step "
                    f"{records[-1]['step']}, before any checkpoint holds an update after it"
                )
        return records

    step_fn = gmm_step if stage == "gmm" else tom_step
    read_each_step = device.type in READ_EVERY_STEP_ON
    model.train()
    losses: deque[dict[str, float]] = deque(maxlen=MAX_RESULT_LOSSES)
    ckpt_uri = None
    done = start
    t0 = time.perf_counter()
    say(
        f"{stage} ({variant}): steps {start}..{stop} of {total}, {len(dataset)} pairs, "
        f"batch {settings.batch_size} x {dd.world}, device {device}, amp {amp or 'fp32'}"
    )
    for step, batch in zip(range(start, stop), loader, strict=True):
        loss, parts = step_fn(batch)
        names[:] = parts
        # the lr this step's update uses (the scheduler steps after it)
        lr = optimizer.param_groups[0]["lr"]
        pending.append((step, lr, torch.stack([t.detach() for t in (loss, *parts.values())])))
        if read_each_step:
            losses.extend(read_pending())  # before the backward (see READ_EVERY_STEP_ON)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        scheduler.step()
        done = step + 1
        log_now = done % settings.log_every == 0 or done == stop
        save_now = done % settings.save_every == 0 or done == total
        if log_now or save_now:
            losses.extend(read_pending())  # before anything is saved
        if log_now:
            record = losses[-1]
            history.append(record)
            now = time.perf_counter()
            rate = (done - start) / max(now - t0, 1e-9)
            say(
                f"{stage} step {done}/{total} loss {record['total']:.5f} "
                + " ".join(f"{k} {record[k]:.5f}" for k in names)
                + f" lr {record['lr']:.2e} {rate:.2f} steps/s"
            )
        if save_now:
            if dd.main:
                ckpt_uri = save_state(
                    out,
                    {
                        "step": done,
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(),
                        "scaler": scaler.state_dict() if scaler is not None else None,
                        "rng": capture_rng_state(),
                        "history": history,
                        "metadata": {**metadata, "steps": done},
                    },
                    keep=settings.keep_checkpoints,
                )
            if dd.world > 1:
                dist.barrier()
    final_uri = None
    if done >= total and dd.main:
        final_uri = save_final_weights(
            out, f"{stage}_final", model, {**metadata, "steps": done, "history_tail": history[-5:]}
        )
        say(f"{stage}: final weights {final_uri} ({perceptual if stage == 'tom' else 'GMM'})")
    return TrainResult(
        stage=stage,
        variant=variant,
        output=out.url,
        start_step=start,
        steps_done=done,
        total_steps=total,
        final_uri=final_uri,
        checkpoint_uri=ckpt_uri,
        perceptual=perceptual,
        losses=tuple(losses),
    )
