"""Whole-shard throughput of the neural renderer: decode -> GMM -> TOM -> encode -> store.

    python benchmarks/bench_shard.py [--pairs 32] [--device cpu|cuda] [--batch 16] [--rounds 2]

Measured in one run on the same store, assets and random-weight CP-VTON+ checkpoints:

- reference style: what the original test scripts do, one batch of 4 at a time, each step
  after the other (load the batch's assets, GMM with the straightforward TPS of
  `bench_cpvton.NaiveTps`, warp, TOM, encode and write each image), fp32;
- ours: `vton.render.shard.render_shard` with `NeuralRenderer` (vectorised TPS, larger
  batches, `inference_mode`; the next batch is decoded and the previous one encoded and
  stored while the current one computes).

Prints pairs/s of both (best of `--rounds`, measured alternately) and the ratio (issue
5's target: >= 3x on CPU; >= 2,000 pairs/s on one H100). Persons are prepared once with
MediaPipe's bundled models (not timed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from benchmarks.bench_cpvton import NaiveTps, layers_as_written, naive_gmm_forward
from vton.cloth.masking import make_masker
from vton.cloth.prep import prepare_cloth
from vton.imageio import decode_image, decode_mask, encode_image
from vton.models import create_model
from vton.paths import plan_key, tryon_key, tryon_mask_key, tryon_warp_key
from vton.person.frame import frame_person
from vton.person.pose import MediaPipePoseEstimator
from vton.person.prep import load_person_asset, prepare_person
from vton.person.representation import Variant, representation_for_person
from vton.render.neural import NeuralRenderer
from vton.render.shard import RunContext, render_shard
from vton.schemas import PLAN_SCHEMA, PersonRow, ProductRow
from vton.storage import Store
from vton.synthetic_garments import render_garment, sample_catalog_specs
from vton.tensors import image_to_tensor, mask_to_tensor, tensor_to_image, tensor_to_mask

REF_BATCH = 4


def prepare_assets(root: Path, store: Store, n_persons: int) -> tuple[list[str], list[str]]:
    """Garment and person asset keys (the sample garments; mirrored and shifted crops of
    the bundled astronaut photo, so each person is a distinct asset)."""
    masker = make_masker("classical")
    cloth_keys = []
    for i, spec in enumerate(sample_catalog_specs()):
        path = root / f"g{i}.png"
        path.write_bytes(encode_image(render_garment(spec).image, "png"))
        item = prepare_cloth(
            store, ProductRow(f"g{i}", str(path), "top"), masker, max_pixels=64_000_000
        )
        if item.status == "ok":
            cloth_keys.append(item.key)
    photo = decode_image(
        (
            Path(__file__).resolve().parents[1] / "vton/sample_data/persons/astronaut.jpg"
        ).read_bytes(),
        "astronaut",
    ).rgb
    estimator = MediaPipePoseEstimator()
    person_keys = []
    for j in range(n_persons):
        img = photo[:, ::-1] if j % 2 else photo
        img = np.ascontiguousarray(img[: img.shape[0] - 4 * j])
        path = root / f"p{j}.png"
        path.write_bytes(encode_image(img, "png"))
        item = prepare_person(
            store, PersonRow(f"p{j}", str(path)), estimator, max_side=512, max_pixels=64_000_000
        )
        if item.status == "ok":
            person_keys.append(item.key)
    if not cloth_keys or not person_keys:
        raise SystemExit("asset preparation failed")
    return cloth_keys, person_keys


def write_plan(store: Store, run_id: str, pairs: list[tuple[str, str]]) -> None:
    rows = []
    for i, (c, p) in enumerate(pairs):
        row = dict.fromkeys(PLAN_SCHEMA.names)
        row.update(
            pair_id=f"pair{i:05d}", shard=0, product_id=c.split("/")[2],
            person_id=f"{p.split('/')[2]}-{i}", category="top", cloth_key=c, person_key=p,
            input_digest=f"d{i}",
        )  # fmt: skip
        rows.append(row)
    store.write_parquet(plan_key(run_id), pa.Table.from_pylist(rows, schema=PLAN_SCHEMA))


def reference_style(
    store: Store, pairs: list[tuple[str, str]], gmm, tom, tps: NaiveTps, device
) -> None:
    """One batch of 4 at a time, every step in turn, as the reference's test loop."""
    for start in range(0, len(pairs), REF_BATCH):
        batch = pairs[start : start + REF_BATCH]
        framed, reps_g, reps_t, cloths, masks = [], [], [], [], []
        for c, p in batch:  # decode: the 256x192 cloth files, as the reference reads them
            f = frame_person(load_person_asset(store, p))
            framed.append(f)
            reps_g.append(representation_for_person(f, Variant.CP_VTON_PLUS_GMM))
            reps_t.append(representation_for_person(f, Variant.CP_VTON_PLUS_TOM))
            cloths.append(
                image_to_tensor(decode_image(store.read_bytes(f"{c}/cloth.png"), c).rgb)[0]
            )
            masks.append(mask_to_tensor(decode_mask(store.read_bytes(f"{c}/cloth-mask.png"), c))[0])
        rep_g, rep_t = torch.stack(reps_g).to(device), torch.stack(reps_t).to(device)
        cloth_t, mask_t = torch.stack(cloths).to(device), torch.stack(masks).to(device)
        with torch.no_grad():
            grid, _ = naive_gmm_forward(gmm, tps, rep_g, mask_t)
            wc = F.grid_sample(cloth_t, grid, padding_mode="border", align_corners=True)
            wm = F.grid_sample(mask_t, grid, padding_mode="zeros", align_corners=True)
            out = tom(rep_t, wc, (wm * 255 >= 128).float())
        for k, (c, _) in enumerate(batch):  # encode and store, one after the other
            prod, pers = c.split("/")[2], f"ref{start + k}"
            store.write_bytes(
                tryon_warp_key("ref", prod, pers), encode_image(tensor_to_image(wc[k].cpu()), "png")
            )
            store.write_bytes(
                tryon_mask_key("ref", prod, pers),
                encode_image(tensor_to_mask(out.mask[k].float().cpu()), "png"),
            )
            store.write_bytes(
                tryon_key("ref", prod, pers, "jpg"),
                encode_image(tensor_to_image(out.tryon[k].clamp(-1, 1).cpu()), "jpg"),
            )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=32)
    ap.add_argument("--persons", type=int, default=4)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument(
        "--batch",
        type=int,
        default=None,
        help="pairs per render_batch call (cpu 16, computed 4 at a time; cuda 64)",
    )
    ap.add_argument("--amp", default=None, choices=["bf16", "fp16"])
    ap.add_argument("--rounds", type=int, default=2, help="best of this many rounds")
    args = ap.parse_args(argv)
    device = torch.device(args.device)
    batch = args.batch or (64 if device.type == "cuda" else 16)
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"device {device}, {threads} CPU threads, torch {torch.__version__}, {args.pairs} pairs, "
        f"our batch {batch}, reference batch {REF_BATCH}, amp {args.amp or 'fp32'}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = Store(str(root / "store"))
        cloth_keys, person_keys = prepare_assets(root, store, args.persons)
        pairs = [
            (
                cloth_keys[i % len(cloth_keys)],
                person_keys[(i // len(cloth_keys)) % len(person_keys)],
            )
            for i in range(args.pairs)
        ]
        torch.manual_seed(0)
        gmm, tom = create_model("gmm_cpvton_plus").eval(), create_model("tom_cpvton_plus").eval()
        torch.save(gmm.state_dict(), root / "gmm.pth")
        torch.save(tom.state_dict(), root / "tom.pth")
        renderer = NeuralRenderer(
            root / "gmm.pth", root / "tom.pth", device=device, batch_size=batch, amp=args.amp
        )
        gmm, tom = gmm.to(device), layers_as_written(tom.to(device))
        tps = NaiveTps(256, 192, 5).to(device)
        run_id = "bench"
        write_plan(store, run_id, pairs)
        ctx = RunContext(
            run_id, dt.date(2026, 1, 1), renderer.name, renderer.model_digest, "jpg", "-"
        )

        reference_style(store, pairs[:REF_BATCH], gmm, tom, tps, device)  # warm-up
        render_shard(store, ctx, 0, renderer)
        ref_s = our_s = float("inf")
        for _ in range(args.rounds):  # alternately, so that load from elsewhere hits both
            t = time.perf_counter()
            reference_style(store, pairs, gmm, tom, tps, device)
            ref_s = min(ref_s, time.perf_counter() - t)
            t = time.perf_counter()
            result = render_shard(store, ctx, 0, renderer)
            our_s = min(our_s, time.perf_counter() - t)
            if result.counts["ok"] != len(pairs):
                raise SystemExit(f"shard did not render every pair: {result.counts}")
    ref_rate, our_rate = len(pairs) / ref_s, len(pairs) / our_s
    print(f"{'whole shard':<12} {'reference pairs/s':>18} {'ours pairs/s':>13} {'ratio':>7}")
    print(f"{'':<12} {ref_rate:>18.1f} {our_rate:>13.1f} {our_rate / ref_rate:>7.2f}")
    target = 2000 if device.type == "cuda" else 3 * ref_rate
    what = "2,000 pairs/s" if device.type == "cuda" else "3x reference"
    print(f"target {what}: ratio {our_rate / target:.2f}")


if __name__ == "__main__":
    main()
