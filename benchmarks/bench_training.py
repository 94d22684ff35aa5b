"""Training throughput of the GMM and the TOM: optimiser steps/s at batch 4 and 16 on the
device at hand, plus how fast the VITON reader produces pairs (it must keep up).

Each step is what `vton.train.trainer` does per step: forward, the references' losses
(GMM: L1 warp + CP-VTON+'s grid regulariser; TOM: L1 + VGG19 perceptual + mask L1, the
VGG with random weights: same cost as ImageNet's), backward, Adam. Inputs are a batch from
the synthetic VITON-layout set (`vton.train.synthetic`), moved to the device once, so the
numbers are compute only; the reader's pairs/s is printed separately (with `--workers N`
DataLoader processes it scales with cores).

    python benchmarks/bench_training.py                         # CPU: a few minutes
    python benchmarks/bench_training.py --device cuda --amp bf16 --steps 20
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from vton.train.dataset import VitonDataset
from vton.train.losses import VGGLoss, gmm_losses, tom_losses, tom_outputs
from vton.train.synthetic import write_synthetic_viton
from vton.train.trainer import build_model
from vton.train.vgg import Vgg19Features

_AMP = {"bf16": torch.bfloat16, "fp16": torch.float16}


def _batch(ds: VitonDataset, n: int, device: torch.device) -> dict:
    items = [ds[i % len(ds)] for i in range(n)]
    batch = torch.utils.data.default_collate(items)
    return {k: v.to(device) for k, v in batch.items() if isinstance(v, torch.Tensor)}


def _time_steps(step, steps: int, device: torch.device) -> float:
    step()  # warm-up (allocator, cuDNN autotune)
    if device.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - t)


def bench(stage: str, batch: dict, device: torch.device, amp: str | None, steps: int) -> float:
    torch.manual_seed(0)
    model = build_model(stage, "cpvton_plus").to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.5, 0.999))
    scaler = torch.amp.GradScaler("cuda") if amp == "fp16" else None
    vgg = VGGLoss(Vgg19Features()).to(device) if stage == "tom" else None

    def autocast():
        if amp is None:
            return contextlib.nullcontext()
        return torch.autocast(device.type, dtype=_AMP[amp])

    def step() -> None:
        if stage == "gmm":
            with autocast():
                grid, _ = model(batch["agnostic"], batch["cloth_mask"])
            loss = gmm_losses(batch["cloth"], grid, batch["parse_cloth"], 40.0)[0].total
        else:
            x = torch.cat([batch["agnostic"], batch["cloth"], batch["cloth_mask"]], 1)
            with autocast():
                raw = model.forward_raw(x)
            _, m, tryon = tom_outputs(raw, batch["cloth"], batch["cloth_mask"], "cpvton_plus")
            loss = tom_losses(tryon, m, batch["image"], batch["parse_cloth_mask"], vgg).total
        opt.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()

    return _time_steps(step, steps, device)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--amp", choices=["bf16", "fp16"])
    p.add_argument("--steps", type=int, default=3, help="timed steps per case (default 3)")
    p.add_argument("--batches", default="4,16", help="batch sizes (default 4,16)")
    p.add_argument("--stages", default="gmm,tom")
    args = p.parse_args()
    device = torch.device(args.device)
    amp = args.amp if device.type == "cuda" else None
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device {name}, torch threads {torch.get_num_threads()}, amp {amp or 'fp32'}, "
          f"load average {load:.1f} on {os.cpu_count()} cores")  # fmt: skip
    with tempfile.TemporaryDirectory() as root:
        write_synthetic_viton(root, 16)
        ds = VitonDataset(root, stage="tom", variant="cpvton_plus")
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # as in a DataLoader worker process
        t = time.perf_counter()
        for i in range(len(ds)):
            ds[i]
        print(f"reader: {len(ds) / (time.perf_counter() - t):.1f} pairs/s per worker process")
        torch.set_num_threads(threads)
        batches = [int(b) for b in args.batches.split(",")]
        full = _batch(ds, max(batches), device)
        print(f"{'stage':<6}{'batch':>6}{'steps/s':>10}{'pairs/s':>10}")
        for stage in args.stages.split(","):
            for b in batches:
                sub = {k: v[:b] for k, v in full.items()}
                rate = bench(stage, sub, device, amp, args.steps)
                print(f"{stage:<6}{b:>6}{rate:>10.3f}{rate * b:>10.2f}", flush=True)


if __name__ == "__main__":
    main()
