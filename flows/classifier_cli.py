"""`vton train-classifier`: fit the garment classifier on labelled photos, on a CPU.

Two sources of labels: a catalog table (``--catalog``, the same CSV / Parquet / JSON Lines
the nightly run reads, with the user's ``category`` and optional ``sleeve`` columns), or a
class-per-folder image collection (``--image-folder``, e.g. clothing-small's ``train/``)
with a mapping from folder class to (category, sleeve). No Prefect: training is one
process, deterministic for a given ``--seed`` and ``--threads``. The weights and their
metadata (``<out>.json``) are what ``vton run --classifier PATH`` loads.

Wiring (in ``flows/cli.py``): ``add_parser(sub)`` in the parser, ``"train-classifier": run``
in the handlers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from flows.cli_options import add_s3_endpoint, storage_options

__all__ = ["add_parser", "run"]

EPILOG = """examples:
  vton train-classifier --catalog s3://shop/products.parquet --out models/garments.pt
  vton train-classifier --image-folder data/clothing-small/train \\
      --val-folder data/clothing-small/validation --out garments.pt --epochs 30
  vton run --classifier models/garments.pt
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train-classifier`` subcommand to `subparsers` (sets ``func=run``)."""
    p = subparsers.add_parser(
        "train-classifier",
        help="train the garment classifier on labelled photos",
        description="Fit the small garment CNN (category and sleeve length) on a labelled "
        "catalog or a class-per-folder image collection and save its weights and metadata. "
        "Runs on a CPU in minutes; the same seed and thread count give the same weights.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--catalog",
        metavar="URL",
        help="products table with category (and optionally sleeve) columns; rows without "
        "a category are skipped",
    )
    src.add_argument(
        "--image-folder",
        metavar="DIR",
        help="class-per-folder images (DIR/<class>/*.jpg), e.g. clothing-small/train",
    )
    p.add_argument(
        "--val-folder",
        metavar="DIR",
        help="held-out images in the same layout (with --image-folder; default: hold out "
        "--val-fraction of the training folder)",
    )
    p.add_argument(
        "--class-map",
        metavar="JSON",
        help="folder class -> [category, sleeve or null], as a JSON file or inline JSON "
        "(default: the clothing-small classes, see vton.cloth.classifier_cnn.FOLDER_CLASSES)",
    )
    p.add_argument(
        "--out",
        metavar="PATH",
        default="garment_classifier.pt",
        help="weights file; the metadata goes beside it as .json (default: %(default)s)",
    )
    p.add_argument("--epochs", type=int, default=30, help="default: %(default)s")
    p.add_argument("--batch-size", type=int, default=64, help="default: %(default)s")
    p.add_argument("--lr", type=float, default=4e-3, help="peak learning rate (one-cycle)")
    p.add_argument("--width", type=int, default=32, help="network width (default: 32)")
    p.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    p.add_argument(
        "--val-fraction",
        type=float,
        default=None,
        help="fraction held out for the accuracy report (default: 0.2 for --catalog, 0 "
        "for --image-folder)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (fix it for bit-identical re-runs; default: torch's)",
    )
    add_s3_endpoint(p)
    p.set_defaults(func=run)


def _class_map(value: str | None) -> dict[str, tuple[str, str | None]] | None:
    if value is None:
        return None
    text = Path(value).read_text() if Path(value).is_file() else value
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"--class-map is neither a JSON file nor JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ValueError("--class-map must map folder class -> [category, sleeve]")
    out = {}
    for cls, v in raw.items():
        if isinstance(v, str):
            v = [v, None]
        if not isinstance(v, list | tuple) or len(v) != 2:
            raise ValueError(f"--class-map {cls!r}: expected [category, sleeve], got {v!r}")
        out[str(cls)] = (v[0], v[1])
    return out


def run(args: argparse.Namespace) -> int:
    """Train as `args` says; print progress and the held-out accuracy. Returns 0, or 2 for
    unusable input (the message says why)."""
    from vton.cloth.classifier_cnn import FOLDER_CLASSES, train_classifier, train_from_folder

    def say(msg: str) -> None:
        print(msg, flush=True)

    common = dict(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        width=args.width,
        seed=args.seed,
        num_threads=args.threads,
        log=say,
    )
    if args.val_fraction is not None:  # else each source's own default (library's)
        common["val_fraction"] = args.val_fraction
    try:
        if args.catalog:
            if args.val_folder or args.class_map:
                raise ValueError("--val-folder and --class-map go with --image-folder")
            report = train_classifier(
                args.catalog, args.out, storage_options=storage_options(args), **common
            )
        else:
            report = train_from_folder(
                args.image_folder,
                args.out,
                val_folder=args.val_folder,
                mapping=_class_map(args.class_map) or FOLDER_CLASSES,
                **common,
            )
    except (ValueError, OSError) as exc:
        print(f"vton train-classifier: {exc}", file=sys.stderr)
        return 2
    for item, reason in sorted(report.skipped.items())[:20]:
        say(f"skipped {item}: {reason}")
    if len(report.skipped) > 20:
        say(f"... and {len(report.skipped) - 20} more skipped")
    acc = "no held-out images"
    if report.val_category_accuracy is not None:
        vs = report.val_sleeve_accuracy
        acc = f"held-out category accuracy {report.val_category_accuracy:.3f}, sleeve " + (
            "-" if vs is None else f"{vs:.3f}"
        )
    say(
        f"wrote {report.weights_path} and {report.meta_path}: {report.n_train} trained, "
        f"{report.n_val} held out, {len(report.skipped)} skipped, {acc}, "
        f"{report.seconds:.0f} s"
    )
    return 0
