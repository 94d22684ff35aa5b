"""Physical renderer benchmark: geometry, print, colour and speed on known-geometry pairs.

Usage::

    python benchmarks/bench_physical.py [--repeats 3] [--all-cores]

Pairs are synthetic persons (`vton.person.synthetic`: torso, arms and head known exactly;
several arm angles, short and long old sleeves) wearing the bundled synthetic garments
(`vton.synthetic_garments`: tees, tanks, a long-sleeve; plain, striped, text, logo,
check), put through the cloth stage's canvas as `vton.cloth.prep` stores them. Measures
(definitions in `tests/render/helpers.py`), with the targets of issue 6:

1. Coverage IoU of the rendered garment (composition mask) against the person's torso,
   arms left out. Target >= 0.9 for tees and long-sleeves; tanks are printed apart (their
   scoop neck and armholes leave the torso bare by design, so their IoU is lower).
2. Print preservation: SSIM of the try-on mapped back through the inverse of the drape
   onto the garment canvas, against the garment, inside its visible torso part, at the
   drawn scale. Target >= 0.8. Also printed: the same with one affine map for the chest
   (the score then also drops where the drape bends or stretches the print unevenly).
3. Colour fidelity: mean CIEDE2000 of the try-on against the unshaded warped garment on
   the flat-lit inside of the garment (contact shadows at its edges excluded). Target <= 3.
4. Speed: pairs/s per core (CPU time, OpenCV on one thread, pinned to one core unless
   `--all-cores`) at 256x192 and 1024x768 person photos. Targets >= 20 and >= 7 (issue 15).

What it cannot measure: how real a try-on looks on real photos (no ground truth exists for
a garment never worn); `docs/physical_contact_sheet.png` shows real pairs
(`benchmarks/make_contact_sheet.py`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.render.helpers import (
    PersonSpec,
    arm_region,
    cloth_asset,
    colour_delta_e,
    coverage_iou,
    person_asset,
    print_ssim,
)
from vton.person.labels import LIP
from vton.render.base import RenderRequest
from vton.render.physical import PhysicalRenderer
from vton.synthetic_garments import sample_catalog_specs

TARGETS = {"iou": 0.9, "ssim": 0.8, "de": 3.0, "speed_256": 20.0, "speed_1024": 7.0}
SIZES = ((256, 192), (512, 384), (1024, 768))
#: Synthetic persons: arm angle, old sleeves, size and place in the photo.
POSES = (
    {"arm_angle": 12.0, "sleeves": "short"},
    {"arm_angle": 25.0, "sleeves": "long"},
    {"arm_angle": 25.0, "sleeves": "short", "skin": (120, 80, 60)},
    {"arm_angle": 40.0, "sleeves": "long", "scale": 0.8, "centre": (0.48, 0.08)},
)


def _ratio(value: float, target: float, higher_is_better: bool = True) -> str:
    r = value / target if higher_is_better else target / max(value, 1e-9)
    return f"{r:5.2f}x target ({'met' if r >= 1 else 'MISSED'})"


def quality(renderer: PhysicalRenderer) -> dict[str, list[float]]:
    specs = sample_catalog_specs()
    clothes = {s.product_id: (s, cloth_asset(s)) for s in specs}
    res: dict[str, list[float]] = {k: [] for k in ("iou", "iou_tank", "ssim", "rigid", "de")}
    for h, w in SIZES:
        for pose in POSES:
            ps = PersonSpec(h, w, **pose)
            pa, p = person_asset(ps)
            visible = ~arm_region(ps, p) & ~np.isin(p.labels, (LIP["face"], LIP["hair"]))
            for spec, cloth in clothes.values():
                req = RenderRequest(f"{spec.product_id}-{h}", cloth, pa)
                drape = renderer.drape(req)
                out = renderer.render_one(req)
                matching = (spec.style == "longsleeve") == (pose["sleeves"] == "long")
                if spec.style == "tank":
                    res["iou_tank"].append(coverage_iou(out, ps, p)[0])
                elif matching:
                    res["iou"].append(coverage_iou(out, ps, p)[0])
                res["ssim"].append(print_ssim(out, drape, visible))
                res["rigid"].append(print_ssim(out, drape, visible, rigid=True))
                res["de"].append(colour_delta_e(out, p.labels, drape.body.sw))
    return res


def speed(renderer: PhysicalRenderer, size: tuple[int, int], repeats: int) -> float:
    """Pairs per CPU-second (render only: assets are loaded once, as a shard does)."""
    clothes = [cloth_asset(s) for s in sample_catalog_specs()]
    persons = [person_asset(PersonSpec(*size, **pose))[0] for pose in POSES]
    reqs = [RenderRequest("x", c, p) for c in clothes for p in persons[:3]]
    renderer.render_one(reqs[0])  # warm-up
    t0 = time.process_time()
    n = 0
    for _ in range(repeats):
        for r in reqs:
            renderer.render_one(r)
            n += 1
    return n / (time.process_time() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--all-cores", action="store_true")
    args = ap.parse_args()
    if not args.all_cores:
        cv2.setNumThreads(1)
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    renderer = PhysicalRenderer()
    print(f"physical renderer {renderer.model_digest}; load average {load:.2f}")
    t0 = time.perf_counter()
    res = quality(renderer)
    n = len(res["ssim"])
    print(f"\nquality on {n} synthetic pairs ({time.perf_counter() - t0:.1f} s):")
    iou = float(np.mean(res["iou"]))
    print(f"  coverage IoU, tees + long-sleeves ({len(res['iou'])} pairs): mean {iou:.3f} "
          f"min {min(res['iou']):.3f}  {_ratio(iou, TARGETS['iou'])}")  # fmt: skip
    print(f"  coverage IoU, tanks (not held to the target): mean {np.mean(res['iou_tank']):.3f}")
    ss = float(np.mean(res["ssim"]))
    print(f"  print SSIM after inverse warp: mean {ss:.3f} min {min(res['ssim']):.3f}  "
          f"{_ratio(ss, TARGETS['ssim'])}")  # fmt: skip
    print(f"  print SSIM, one affine map for the chest: mean {np.mean(res['rigid']):.3f} "
          f"min {min(res['rigid']):.3f}")  # fmt: skip
    de = float(np.mean(res["de"]))
    print(f"  colour CIEDE2000 on flat-lit garment: mean {de:.2f} max {max(res['de']):.2f}  "
          f"{_ratio(de, TARGETS['de'], higher_is_better=False)}")  # fmt: skip
    cores = "all cores" if args.all_cores else "one core, OpenCV 1 thread"
    print(f"\nspeed (CPU time, {cores}):")
    for (h, w), key in (((256, 192), "speed_256"), ((1024, 768), "speed_1024")):
        v = speed(renderer, (h, w), args.repeats)
        print(f"  {w}x{h}: {v:6.1f} pairs/s per core  {_ratio(v, TARGETS[key])}")


if __name__ == "__main__":
    main()
