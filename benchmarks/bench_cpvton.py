"""Throughput of the CP-VTON / CP-VTON+ networks: ours against a straightforward
reference-style implementation, measured in the same run, printed as pairs/s and ratios.

Reference style (what the original test scripts do): batches of 4, fp32, NCHW, `no_grad`,
a TPS grid that materialises (B, H, W, 1, N) distance and weight tensors on every call, a
correlation built from transposed views, and the TOM's upsampling then convolving at the
high resolution, every convolution as written (oneDNN). Ours: `vton.models` (TPS
precomputed to one matmul; on the CPU the TOM's upsample + convolution computed at the low
resolution or by Winograd, and the GMM extractors' 3x3 convolutions by Winograd),
`inference_mode`, larger batches,
and on CUDA channels-last with optional bf16 / fp16 autocast (its max abs difference from
our fp32 output is printed). Every pair here has its own person and garment, so the GMM
line has no feature reuse; `bench_shard.py` measures a shard, where it has.

Both use the same random weights (no checkpoint needed) and the same synthetic inputs, and
the outputs of the two are compared (max abs diff) so a speed-up never hides a change.

    python benchmarks/bench_cpvton.py                       # CPU, all available cores, < 2 min
    python benchmarks/bench_cpvton.py --threads 1           # per core
    python benchmarks/bench_cpvton.py --device cuda --batch 64 --amp bf16
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from vton.layers import tps_control_points, warp_cloth, warp_mask
from vton.models import CpVtonGmm, CpVtonTom, create_model

H, W = 256, 192
REF_BATCH = 4


# ---------------------------------------------------------------- reference-style baseline
class NaiveTps(nn.Module):
    """TPS evaluated the straightforward way: per call, build (B, H, W, 1, N) tensors of
    distances to every control point, kernel values and repeated weights, then reduce."""

    def __init__(self, out_h: int, out_w: int, grid_size: int) -> None:
        super().__init__()
        ctrl = tps_control_points(grid_size, torch.float32)
        n = ctrl.shape[0]
        d2 = ((ctrl[:, None] - ctrl[None]) ** 2).sum(-1)
        d2[d2 == 0] = 1
        system = torch.zeros(n + 3, n + 3)
        system[:n, :n] = d2 * torch.log(d2)
        system[:n, n] = 1
        system[:n, n + 1 :] = ctrl
        system[n, :n] = 1
        system[n + 1 :, :n] = ctrl.T
        self.n, self.out_h, self.out_w = n, out_h, out_w
        self.register_buffer("li", torch.linalg.inv(system), persistent=False)
        self.register_buffer("ctrl", ctrl, persistent=False)
        gy, gx = torch.meshgrid(
            torch.linspace(-1, 1, out_h), torch.linspace(-1, 1, out_w), indexing="ij"
        )
        self.register_buffer("gx", gx[None, :, :, None], persistent=False)  # (1, H, W, 1)
        self.register_buffer("gy", gy[None, :, :, None], persistent=False)

    def forward(self, theta: torch.Tensor) -> torch.Tensor:
        b, n, h, w = theta.shape[0], self.n, self.out_h, self.out_w
        q = theta.view(b, 2, n) + self.ctrl.T[None]  # target points (B, 2, N)
        out = []
        for axis in range(2):
            qa = q[:, axis, :, None]  # (B, N, 1)
            wk = torch.bmm(self.li[:n, :n].expand(b, n, n), qa)  # kernel weights (B, N, 1)
            af = torch.bmm(self.li[n:, :n].expand(b, 3, n), qa)  # affine (B, 3, 1)
            wk = wk.view(b, 1, 1, 1, n).repeat(1, h, w, 1, 1)
            af = af.view(b, 1, 1, 1, 3).repeat(1, h, w, 1, 1)
            dx = self.gx[..., None].expand(1, h, w, 1, n) - self.ctrl[:, 0].view(1, 1, 1, 1, n)
            dy = self.gy[..., None].expand(1, h, w, 1, n) - self.ctrl[:, 1].view(1, 1, 1, 1, n)
            d2 = dx**2 + dy**2
            d2[d2 == 0] = 1
            u = d2 * torch.log(d2)
            out.append(af[..., 0] + af[..., 1] * self.gx + af[..., 2] * self.gy + (wk * u).sum(-1))
        return torch.cat(out, dim=3)


def layers_as_written(tom: CpVtonTom) -> CpVtonTom:
    """The reference runs upsample and then the 3x3 convolution at the high resolution;
    turn off our low-resolution evaluation of the pair (`vton.layers.upsample_conv`)."""
    for block in tom.modules():
        if hasattr(block, "fast_upsample"):
            block.fast_upsample = False
    return tom


def naive_gmm_forward(gmm: CpVtonGmm, tps: NaiveTps, person, cloth):
    """The GMM as the reference computes it, sharing `gmm`'s weights."""

    def l2(f):
        norm = torch.pow(torch.sum(torch.pow(f, 2), 1) + 1e-6, 0.5).unsqueeze(1)
        return f / norm.expand_as(f)

    fa, fb = l2(gmm.extractionA.model(person)), l2(gmm.extractionB.model(cloth))  # as written
    b, c, h, w = fa.shape
    fa = fa.transpose(2, 3).contiguous().view(b, c, h * w)
    fb = fb.view(b, c, h * w).transpose(1, 2)
    corr = torch.bmm(fb, fa).view(b, h, w, h * w).transpose(2, 3).transpose(1, 2)
    theta = gmm.regression(corr.contiguous())
    return tps(theta), theta


# ------------------------------------------------------------------------------ harness
def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def pairs_per_s(fn: Callable[[int], object], pairs: int, batch: int, device) -> float:
    """Pairs per second of `fn(start)` over `pairs` pairs in batches of `batch`."""
    _sync(device)
    t0 = time.perf_counter()
    done = 0
    while done < pairs:
        fn(done)
        done += batch
    _sync(device)
    return done / (time.perf_counter() - t0)


def compare(ref_fn, our_fn, pairs: int, our_batch: int, device, rounds: int) -> tuple[float, float]:
    """Best-of-`rounds` pairs/s for both, measured alternately (after a warm-up call each)
    so that load from other processes hits both alike."""
    ref_fn(0)
    our_fn(0)
    best_ref = best_ours = 0.0
    for _ in range(rounds):
        best_ref = max(best_ref, pairs_per_s(ref_fn, pairs, REF_BATCH, device))
        best_ours = max(best_ours, pairs_per_s(our_fn, pairs, our_batch, device))
    return best_ref, best_ours


def make_inputs(n: int, device):
    g = torch.Generator().manual_seed(0)
    person = torch.rand(n, 22, H, W, generator=g) * 2 - 1
    cloth = torch.rand(n, 3, H, W, generator=g) * 2 - 1
    mask = (torch.rand(n, 1, H, W, generator=g) > 0.3).float()
    return person.to(device), cloth.to(device), mask.to(device)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--variant", default="cpvton_plus", choices=["cpvton", "cpvton_plus"])
    ap.add_argument("--batch", type=int, default=None, help="our batch (cpu 4, cuda 64)")
    ap.add_argument("--pairs", type=int, default=None, help="pairs per measurement")
    ap.add_argument("--rounds", type=int, default=2, help="best of this many rounds")
    ap.add_argument("--amp", default="none", choices=["none", "bf16", "fp16"])
    ap.add_argument("--threads", type=int, default=None, help="torch threads (all cores)")
    ap.add_argument(
        "--channels-last",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="default: on for cuda, off for cpu (slower there)",
    )
    args = ap.parse_args(argv)

    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device")
    threads = args.threads or (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    )
    torch.set_num_threads(threads)
    batch = args.batch or (64 if cuda else 4)
    pairs = args.pairs or (max(512, 4 * batch) if cuda else 8)
    channels_last = cuda if args.channels_last is None else args.channels_last
    if cuda:
        torch.backends.cudnn.benchmark = True
    print(
        f"device {device} ({torch.cuda.get_device_name() if cuda else f'{threads} threads'}), "
        f"torch {torch.__version__}, variant {args.variant}, our batch {batch}, "
        f"reference batch {REF_BATCH}, pairs {pairs}, channels_last {channels_last}, "
        f"amp {args.amp}"
    )

    torch.manual_seed(0)
    gmm: CpVtonGmm = create_model(f"gmm_{args.variant}").eval().to(device)
    tom: CpVtonTom = create_model(f"tom_{args.variant}").eval().to(device)
    tom_as_written = create_model(f"tom_{args.variant}").eval().to(device)
    tom_as_written.load_state_dict(tom.state_dict())
    layers_as_written(tom_as_written)
    naive_tps = NaiveTps(H, W, 5).to(device)
    person, cloth, mask = make_inputs(max(batch, REF_BATCH), device)
    gmm_in = cloth if gmm.cloth_chans == 3 else mask

    def ref_gmm(start: int, b: int = REF_BATCH):
        with torch.no_grad():
            grid, _ = naive_gmm_forward(gmm, naive_tps, person[:b], gmm_in[:b])
            wc = F.grid_sample(cloth[:b], grid, padding_mode="border", align_corners=True)
            wm = F.grid_sample(mask[:b], grid, padding_mode="zeros", align_corners=True)
        return grid, wc, wm

    def ref_tom(start: int, b: int = REF_BATCH, wc=None, wm=None):
        wc = cloth[:b] if wc is None else wc
        wm = mask[:b] if wm is None else wm
        with torch.no_grad():
            return tom_as_written(person[:b], wc, wm if tom.uses_mask else None)

    def ref_both(start: int, b: int = REF_BATCH):
        _, wc, wm = ref_gmm(start, b)
        return ref_tom(start, b, wc, wm)

    # ours: channels-last copies and autocast as asked
    fast_gmm, fast_tom = gmm, tom
    p_in, g_in = person, gmm_in
    if channels_last:
        fast_gmm = create_model(f"gmm_{args.variant}").eval().to(device)
        fast_tom = create_model(f"tom_{args.variant}").eval().to(device)
        fast_gmm.load_state_dict(gmm.state_dict())
        fast_tom.load_state_dict(tom.state_dict())
        fast_gmm = fast_gmm.to(memory_format=torch.channels_last)
        fast_tom = fast_tom.to(memory_format=torch.channels_last)
        p_in = person.contiguous(memory_format=torch.channels_last)
        g_in = gmm_in.contiguous(memory_format=torch.channels_last)
    amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(args.amp)

    def autocast(amp: torch.dtype | None):
        if amp is None:
            return contextlib.nullcontext()
        return torch.autocast(device.type, dtype=amp)

    def our_gmm(start: int, b: int = batch, amp: torch.dtype | None = amp_dtype):
        with torch.inference_mode(), autocast(amp):
            grid, _ = fast_gmm(p_in[:b], g_in[:b])
            return grid, warp_cloth(cloth[:b], grid), warp_mask(mask[:b], grid)

    def our_tom(start: int, b: int = batch, wc=None, wm=None, amp=amp_dtype):
        wc = cloth[:b] if wc is None else wc
        wm = mask[:b] if wm is None else wm
        with torch.inference_mode(), autocast(amp):
            out = fast_tom(p_in[:b], wc, wm if fast_tom.uses_mask else None)
        return type(out)(*(t.float() for t in out))

    def our_both(start: int, b: int = batch, amp=amp_dtype):
        _, wc, wm = our_gmm(start, b, amp)
        return our_tom(start, b, wc.float(), wm.float(), amp)

    def maxdiff(a, b) -> float:
        return max((x.float() - y.float()).abs().max().item() for x, y in zip(a, b, strict=True))

    # Identical outputs? Same inputs, the first REF_BATCH pairs.
    ref_out, our_out = ref_gmm(0), our_gmm(0, REF_BATCH, None)
    d_grid, d_warp = maxdiff(ref_out[:1], our_out[:1]), maxdiff(ref_out[1:], our_out[1:])
    d_tom = maxdiff(ref_tom(0), our_tom(0, REF_BATCH, amp=None))
    print(
        f"max abs diff, ours (fp32) vs reference style: grid {d_grid:.1e}, warped cloth/mask "
        f"{d_warp:.1e} (the reference-style float32 TPS rounding, times edge gradients), "
        f"TOM {d_tom:.1e}"
    )
    if amp_dtype is not None:
        diffs = [
            maxdiff(fn(0, REF_BATCH, amp=None), fn(0, REF_BATCH, amp=amp_dtype))
            for fn in (our_gmm, our_tom, our_both)
        ]
        print(
            f"max abs diff, ours {args.amp} vs fp32: GMM {diffs[0]:.2e}, TOM {diffs[1]:.2e}, "
            f"GMM+TOM {diffs[2]:.2e}"
        )

    print(f"{'stage':<10} {'reference pairs/s':>18} {'ours pairs/s':>13} {'ratio':>7}")
    for name, ref_fn, our_fn in (
        ("GMM", ref_gmm, our_gmm),
        ("TOM", ref_tom, our_tom),
        ("GMM+TOM", ref_both, our_both),
    ):
        r, o = compare(ref_fn, our_fn, pairs, batch, device, args.rounds)
        print(f"{name:<10} {r:>18.1f} {o:>13.1f} {o / r:>6.2f}x", flush=True)


if __name__ == "__main__":
    main()
