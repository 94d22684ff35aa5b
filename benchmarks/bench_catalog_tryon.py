"""Try-on quality on real catalog photos: acceptance, coverage, preservation, neckline, speed.

Usage::

    python benchmarks/bench_catalog_tryon.py [--data ../shared/data/catalog-nc]
        [--persons 28] [--store DIR] [--renderer physical]

Every labelled top of `catalog-nc/garment/` (the label file's category and sleeve are given
as catalog metadata, so classification errors do not count here) is rendered on the first
`--persons` model photos of `catalog-nc/model/` by the real nightly flow (cloth masking,
person parsing, the renderer, the store), then each pair is scored from the store:

1. acceptance: share of pairs rendered ``ok``; target >= 0.95;
2. coverage: IoU of the composited-garment mask with the person's upper-body region of the
   project's own parse (`vton.metrics.tryon_fit.torso_region`: the old top and the bare torso
   skin below the shoulder line down to the hips, so that a tee on a model in a crop top is
   not penalised for covering her midriff), the arms left out of both
   (`vton.metrics.tryon_fit.coverage_iou`: sleeves differ from garment to garment); target
   >= 0.80; printed beside it for information: the IoU with the arms in, the IoU with the
   old top alone (CP-VTON's same-garment reading, which only a garment of the old top's cut
   can meet), the IoU with the torso down to the garment's own hem (a crop top's
   length is its design, not a misfit), and the same also past the hips down to a long
   garment's hem over the legs' silhouette (length not judged at all: what is left is
   cover, width and neckline);
3. preservation: SSIM between try-on and photo over face, hair, legs, lower garment and
   background away from the old and new garment (`keep_region`, `masked_ssim`); target >= 0.97;
4. neckline: |neckline - neck keypoint| / neck-to-hip length, median (reported, no target);
5. speed: pairs/s per core (CPU time, OpenCV on one thread) at 1024x768 and at 256x192
   person photos; targets >= 7 and >= 20.

The parse the coverage figure rests on is written beside the results as `parse-check.png`
(photo | LIP labels | upper-body region, one row per model): look at it before trusting the
coverage. catalog-nc is non-commercial: nothing of it is copied into the repository; the
store defaults to a temporary folder.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flows.cli_options import prefect_defaults
from vton.imageio import decode_image, decode_mask, encode_image
from vton.index import read_index
from vton.metrics.tryon_fit import (
    coverage_iou,
    keep_region,
    masked_ssim,
    neckline_error,
    torso_region,
)
from vton.person.labels import colorize
from vton.person.prep import PersonAsset, load_person_asset
from vton.render.base import RenderRequest
from vton.render.registry import RendererOptions, make_renderer
from vton.runs import read_plan
from vton.storage import Store

TARGETS = {"acceptance": 0.95, "coverage": 0.80, "preservation": 0.97}
SPEED_TARGETS = {(1024, 768): 7.0, (256, 192): 20.0}
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "catalog-nc"


def _ratio(value: float, target: float) -> str:
    r = value / target
    return f"{r:5.2f}x target {target} ({'met' if r >= 1 else 'MISSED'})"


def write_tables(data: Path, n_persons: int, out: Path) -> tuple[Path, Path, int]:
    """Products (labelled tops, with their labels as metadata) and persons tables."""
    products, persons = out / "products.csv", out / "persons.csv"
    with open(data / "garment-labels.csv") as f:
        tops = [r for r in csv.DictReader(f) if r["category"] in ("top", "outerwear")]
    with open(products, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["product_id", "image", "category", "sleeve"])
        for r in tops:
            w.writerow([Path(r["image"]).stem, str(data / r["image"]), r["category"], r["sleeve"]])
    models = sorted((data / "model").iterdir())[:n_persons]
    with open(persons, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["person_id", "image"])
        for m in models:
            w.writerow([m.stem, str(m)])
    return products, persons, len(tops)


def run_flow(store_url: str, products: Path, persons: Path, renderer: str) -> str:
    from flows.nightly import nightly
    from vton.config import RunSettings
    from vton.runs import new_run_id

    prefect_defaults()
    run_id = new_run_id()
    settings = RunSettings(
        catalog=str(products), persons=str(persons), store=store_url, renderer=renderer,
        shard_size=512, force=True, run_date=dt.date(2026, 1, 1),
    )  # fmt: skip
    state = nightly(settings=settings, run_id=run_id, return_state=True)
    if state.is_failed():
        print(f"(the run reported a failure: {state.message})")
    return run_id


def score(store: Store, run_id: str) -> tuple[dict[str, list[float]], list[dict], dict]:
    rows = read_index(store, run_id=run_id).to_pylist()
    plan = {r["pair_id"]: r for r in read_plan(store, run_id).to_pylist()}
    res: dict[str, list[float]] = {
        "coverage": [], "coverage_arms": [], "coverage_old_top": [], "coverage_to_hem": [],
        "coverage_own_length": [],
        "preservation": [], "neckline": [],
    }  # fmt: skip
    persons: dict[str, PersonAsset] = {}
    for r in rows:
        if r["status"] != "ok":
            continue
        pk = plan[r["pair_id"]]["person_key"]
        if pk not in persons:
            persons[pk] = load_person_asset(store, pk)
        person = persons[pk]
        tryon = decode_image(store.read_bytes(store.key_of(r["output_uri"])), r["pair_id"]).rgb
        mask = decode_mask(store.read_bytes(store.key_of(r["mask_uri"])), r["pair_id"])
        kp, labels = person.keypoints, person.parse
        res["coverage"].append(coverage_iou(mask, labels, kp))
        res["coverage_arms"].append(coverage_iou(mask, labels, kp, arms=True))
        res["coverage_old_top"].append(coverage_iou(mask, labels, kp, old_top=True))
        res["coverage_to_hem"].append(coverage_iou(mask, labels, kp, to_hem=True))
        res["coverage_own_length"].append(
            coverage_iou(mask, labels, kp, to_hem=True, past_hips=True)
        )
        res["preservation"].append(masked_ssim(tryon, person.image, keep_region(labels, kp, mask)))
        res["neckline"].append(neckline_error(mask, kp))
    return res, rows, persons


def parse_sheet(persons: dict[str, PersonAsset], path: Path, height: int = 256) -> None:
    tiles = []
    for p in persons.values():
        region = torso_region(p.parse, p.keypoints)
        over = p.image.copy()
        over[region] = (0.5 * over[region] + [0, 127, 0]).astype(np.uint8)
        row = np.concatenate([p.image, colorize(p.parse), over], axis=1)
        w = round(row.shape[1] * height / row.shape[0])
        tiles.append(cv2.resize(row, (w, height), interpolation=cv2.INTER_AREA))
    width = max(t.shape[1] for t in tiles)
    tiles = [np.pad(t, ((0, 0), (0, width - t.shape[1]), (0, 0))) for t in tiles]
    path.write_bytes(encode_image(np.concatenate(tiles, axis=0), "png"))


def _resized(p: PersonAsset, size: tuple[int, int]) -> PersonAsset:
    h, w = size
    sy, sx = h / p.image.shape[0], w / p.image.shape[1]
    kp = p.keypoints.copy()
    kp[:, 0] *= sx
    kp[:, 1] *= sy
    return PersonAsset(
        cv2.resize(p.image, (w, h), interpolation=cv2.INTER_AREA),
        cv2.resize(p.mask, (w, h), interpolation=cv2.INTER_NEAREST),
        kp,
        p.meta,
        cv2.resize(p.parse, (w, h), interpolation=cv2.INTER_NEAREST),
    )


def speed(store: Store, run_id: str, renderer_name: str, rows: list[dict], size, n: int) -> float:
    """Pairs per CPU-second of the renderer alone, over the pairs that rendered ok."""
    from vton.cloth.prep import load_cloth_asset

    renderer = make_renderer(renderer_name, RendererOptions())
    plan = {r["pair_id"]: r for r in read_plan(store, run_id).to_pylist()}
    ok = [plan[r["pair_id"]] for r in rows if r["status"] == "ok"][:n]
    cloth, person = {}, {}
    reqs = []
    for p in ok:
        ck, pk = p["cloth_key"], p["person_key"]
        if ck not in cloth:
            cloth[ck] = load_cloth_asset(store, ck)
        if pk not in person:
            person[pk] = _resized(load_person_asset(store, pk), size)
        reqs.append(RenderRequest(p["pair_id"], cloth[ck], person[pk]))
    if not reqs:
        return float("nan")
    renderer.render_batch(reqs[:1])
    t0 = time.process_time()
    renderer.render_batch(reqs)
    return len(reqs) / (time.process_time() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--persons", type=int, default=28, help="model photos used (default all)")
    ap.add_argument("--store", help="store for the run (default: a temporary folder)")
    ap.add_argument("--renderer", default="physical")
    ap.add_argument("--speed-pairs", type=int, default=40)
    args = ap.parse_args()
    if not (args.data / "garment-labels.csv").exists():
        sys.exit(f"catalog-nc not found at {args.data} (pass --data)")
    tmp = Path(tempfile.mkdtemp(prefix="bench-catalog-"))
    store_dir = Path(args.store) if args.store else tmp / "store"
    products, persons, n_tops = write_tables(args.data, args.persons, tmp)
    t0 = time.perf_counter()
    run_id = run_flow(str(store_dir), products, persons, args.renderer)
    wall = time.perf_counter() - t0
    store = Store(str(store_dir))
    res, rows, person_assets = score(store, run_id)
    planned = len(rows)
    ok = sum(r["status"] == "ok" for r in rows)
    print(
        f"\n{n_tops} tops x {args.persons} models = {planned} pairs, run {run_id} in {wall:.0f} s"
    )
    print(f"store: {store_dir}   contact sheet: {store_dir}/runs/{run_id}/contact-sheet.png")
    reasons: dict[str, int] = {}
    for r in rows:
        if r["status"] != "ok":
            why = re.sub(r"^pair \S+ ", "", r["error"] or "")
            key = f"{r['status']}: {why[:150]}"
            reasons[key] = reasons.get(key, 0) + 1
    acc = ok / planned if planned else float("nan")
    print(f"1. acceptance: {ok}/{planned} = {acc:.3f}  {_ratio(acc, TARGETS['acceptance'])}")
    for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
        print(f"     {n:4d} x {reason}")
    for i, key in ((2, "coverage"), (3, "preservation")):
        v = np.array(res[key], np.float64)
        v = v[np.isfinite(v)]
        if v.size == 0:
            print(f"{i}. {key}: no pairs rendered")
            continue
        spread = f"median {np.median(v):.3f} p10 {np.percentile(v, 10):.3f} (n={v.size})"
        print(f"{i}. {key}: mean {v.mean():.3f} {spread}  {_ratio(v.mean(), TARGETS[key])}")
        if key == "coverage":
            va = np.array(res["coverage_arms"], np.float64)
            vo = np.array(res["coverage_old_top"], np.float64)
            vh = np.array(res["coverage_to_hem"], np.float64)
            vl = np.array(res["coverage_own_length"], np.float64)
            print(f"   (no target: with the arms in both masks: mean {np.nanmean(va):.3f}; "
                  f"against the old top alone: {np.nanmean(vo):.3f}; the torso down to the "
                  f"garment's own hem: {np.nanmean(vh):.3f}; to its own hem also past the "
                  f"hips, length not judged: {np.nanmean(vl):.3f})")  # fmt: skip
    ne = np.array(res["neckline"], np.float64)
    ne = ne[np.isfinite(ne)]
    if ne.size:
        print(f"4. neckline error / neck-to-hip: median |e| {np.median(np.abs(ne)):.3f}, "
              f"median signed {np.median(ne):+.3f} (+ above the neck keypoint), "
              f"p90 |e| {np.percentile(np.abs(ne), 90):.3f}")  # fmt: skip
    sheet = store_dir / "runs" / run_id / "parse-check.png"
    if person_assets:
        parse_sheet(person_assets, sheet)
        print(f"   parse check (photo | labels | upper-body region): {sheet}")
    cv2.setNumThreads(1)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print("5. speed (CPU time, one core, OpenCV 1 thread):")
    for size, target in SPEED_TARGETS.items():
        v = speed(store, run_id, args.renderer, rows, size, args.speed_pairs)
        print(f"   {size[1]}x{size[0]}: {v:6.1f} pairs/s per core  {_ratio(v, target)}")


if __name__ == "__main__":
    main()
