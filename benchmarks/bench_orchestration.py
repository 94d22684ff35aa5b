"""Orchestration overhead of the nightly flow at catalog scale, with a no-op renderer.

    python benchmarks/bench_orchestration.py [--products 100 --persons 100] [--big]

Builds a catalog of tiny garments and persons, runs the nightly flow twice (cold, then with
nothing changed) with a renderer that does no work, and prints per pair: wall time,
orchestration overhead (wall time minus the time spent inside preparation and rendering
library calls) and peak memory. `--big` adds the 100,000-pair no-change re-run (planned
pairs memory and re-run time targets). Pose estimation is stubbed (a fixed skeleton): this
measures the pipeline, not MediaPipe.

Targets (issue 7): overhead < 5 ms per pair; 100,000 planned pairs under 4 GiB; the
no-change re-run of 100,000 pairs under 60 s.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from vton.imageio import encode_image
from vton.person.pose import PoseResult
from vton.render.base import Renderer, RenderOutput
from vton.render.registry import register_renderer

TIMERS = {"prep": 0.0, "render": 0.0}


class StubPose:
    """A fixed upright skeleton and a full-frame mask: no model, no variance."""

    id = "stub-pose"

    def estimate(self, rgb, item):
        h, w = rgb.shape[:2]
        kp = np.zeros((18, 3), np.float32)
        for i, (x, y) in {2: (0.35, 0.3), 5: (0.65, 0.3), 8: (0.4, 0.7), 11: (0.6, 0.7)}.items():
            kp[i] = (x * w, y * h, 1.0)
        kp[1] = ((kp[2, 0] + kp[5, 0]) / 2, kp[2, 1], 1.0)
        return PoseResult(kp, np.full((h, w), 255, np.uint8))


class NoopRenderer(Renderer):
    """Returns the person image untouched, with no intermediates: rendering costs nothing
    and each pair publishes one file."""

    name = "noop"
    batch_size = 64

    @property
    def model_digest(self) -> str:
        return "noop-1"

    def render_batch(self, requests):
        t = time.perf_counter()
        out = [RenderOutput(r.person.image, None, None) for r in requests]
        TIMERS["render"] += time.perf_counter() - t
        return out


def _timed(fn):
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMERS["prep"] += time.perf_counter() - t

    return wrapper


def make_catalog(root: Path, n_products: int, n_persons: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    (root / "img").mkdir(parents=True, exist_ok=True)
    garment = np.full((32, 24, 3), 255, np.uint8)
    garment[4:28, 4:20] = (40, 80, 160)
    rows = []
    for i in range(n_products):
        g = garment.copy()
        g[14, 10:14] = rng.integers(0, 255, 3)  # distinct bytes, distinct digests
        (root / "img" / f"g{i}.png").write_bytes(encode_image(g))
        rows.append({"product_id": f"g{i:06d}", "image": f"img/g{i}.png", "category": "top"})
    with open(root / "products.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, ["product_id", "image", "category"])
        w.writeheader()
        w.writerows(rows)
    person = np.full((96, 72, 3), 128, np.uint8)
    people = []
    for j in range(n_persons):
        p = person.copy()
        p[0, 0] = (j % 256, j // 256, 7)
        (root / "img" / f"m{j}.png").write_bytes(encode_image(p))
        people.append({"person_id": f"m{j:06d}", "image": f"img/m{j}.png"})
    with open(root / "persons.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, ["person_id", "image"])
        w.writeheader()
        w.writerows(people)
    return root / "products.csv", root / "persons.csv"


def run(products: Path, persons: Path, store: Path, shard_size: int, workers: int) -> tuple:
    from flows.nightly import nightly
    from vton.config import RunSettings

    TIMERS.update(prep=0.0, render=0.0)
    settings = RunSettings(
        catalog=str(products),
        persons=str(persons),
        store=str(store),
        renderer="noop",
        shard_size=shard_size,
        max_workers=workers,
        prep_chunk_size=256,
        output_format="png",
        contact_sheet_rows=4,
    )
    t = time.perf_counter()
    manifest = nightly(settings)
    return time.perf_counter() - t, manifest, dict(TIMERS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--products", type=int, default=100)
    ap.add_argument("--persons", type=int, default=100)
    ap.add_argument("--shard-size", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--big", action="store_true", help="also 1000 x 100 = 100,000 pairs")
    args = ap.parse_args()

    from prefect.testing.utilities import prefect_test_harness

    import tasks.prep as task_prep
    import vton.cloth.prep as cloth_prep
    import vton.person.prep as person_prep

    register_renderer("noop", lambda options: NoopRenderer())
    task_prep._estimator = StubPose()
    task_prep.prepare_cloth = _timed(cloth_prep.prepare_cloth)
    task_prep.prepare_person = _timed(person_prep.prepare_person)

    sizes = [(args.products, args.persons)] + ([(1000, 100)] if args.big else [])
    with prefect_test_harness(server_startup_timeout=120), tempfile.TemporaryDirectory() as tmp:
        for n_products, n_persons in sizes:
            root = Path(tmp) / f"{n_products}x{n_persons}"
            products, persons = make_catalog(root, n_products, n_persons)
            pairs = n_products * n_persons
            print(
                f"\n== {pairs:,} pairs ({n_products} garments x {n_persons} persons), "
                f"shard size {args.shard_size}, {args.workers} workers"
            )
            for label in ("cold", "no change"):
                wall, manifest, timers = run(
                    products, persons, root / "store", args.shard_size, args.workers
                )
                overhead = wall - timers["prep"] / args.workers - timers["render"]
                rss_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
                counts = manifest["counts"]
                print(
                    f"{label:>10}: {wall:7.1f} s wall, {1000 * wall / pairs:6.2f} ms/pair, "
                    f"overhead {1000 * overhead / pairs:6.2f} ms/pair "
                    f"(target < 5: ratio {5 / max(1e-9, 1000 * overhead / pairs):.2f}), "
                    f"peak RSS {rss_gib:.2f} GiB, ok {counts['ok']} skipped "
                    f"{counts['skipped']}"
                )
                phases = ", ".join(f"{k} {v:.1f}" for k, v in manifest.get("phases", {}).items())
                print(f"{'':>10}  phases (s): {phases}")
                if pairs >= 100_000 and label == "no change":
                    print(
                        f"   100k no-change re-run: {wall:.1f} s (target < 60 s: ratio "
                        f"{60 / wall:.2f}); peak RSS {rss_gib:.2f} GiB (target < 4 GiB: "
                        f"ratio {4 / rss_gib:.2f})"
                    )


if __name__ == "__main__":
    main()
