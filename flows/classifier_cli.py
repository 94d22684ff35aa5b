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

__all__ = ["add_parser", "mask_cache_dir", "run"]

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
        "--studio-variants",
        type=int,
        default=None,
        help="studio-like composites per photo (garment cut out by --masker, put on a "
        "catalog backdrop; sleeveless garments derived from t-shirts and dresses); 0: the "
        "photos only (default: 2 for --image-folder, 0 for --catalog)",
    )
    p.add_argument(
        "--no-silhouette",
        action="store_true",
        help="photo only: do not give the network the mask's silhouette features",
    )
    p.add_argument(
        "--masker",
        default="classical",
        help="masker for the cut-outs and silhouettes, as for vton run (default: "
        "%(default)s, the nightly run's default)",
    )
    p.add_argument(
        "--mask-cache",
        metavar="DIR",
        default=None,
        help="where masks are kept between runs, by photo content and masker version "
        "(default: $XDG_CACHE_HOME/vton/cloth-masks or ~/.cache/vton/cloth-masks; 'none': "
        "not kept)",
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


def mask_cache_dir(value: str | None) -> str | None:
    """The --mask-cache directory: as given, None for 'none', else the user's cache
    directory (`vton.cloth.studio.default_mask_cache`)."""
    if value is not None:
        return None if value.lower() == "none" else value
    from vton.cloth.studio import default_mask_cache

    return str(default_mask_cache())


def run(args: argparse.Namespace) -> int:
    """Train as `args` says; print progress and the held-out accuracy. Returns 0, or 2 for
    unusable input (the message says why)."""
    from vton.cloth.classifier_cnn import FOLDER_CLASSES, train_classifier, train_from_folder
    from vton.errors import ConfigError, one_line

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
    if args.studio_variants is not None:
        common["studio_variants"] = args.studio_variants
    common.update(
        silhouette=not args.no_silhouette,
        masker=args.masker,
        mask_cache=mask_cache_dir(args.mask_cache),
    )
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
    except (ValueError, OSError, ConfigError) as exc:
        print(f"vton train-classifier: {one_line(exc)}", file=sys.stderr)
        return 2
    for item, reason in sorted(report.skipped.items())[:20]:
        say(f"skipped {item}: {reason}")
    if len(report.skipped) > 20:
        say(f"... and {len(report.skipped) - 20} more skipped")
    acc = "no held-out images"
    if report.val_category_accuracy is not None:
        fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
        acc = (
            f"held-out category accuracy {report.val_category_accuracy:.3f}, sleeve "
            f"{fmt(report.val_sleeve_accuracy)}"
        )
        if report.val_studio_category_accuracy is not None:
            acc += (
                f" (studio shots made from them: category "
                f"{fmt(report.val_studio_category_accuracy)}, sleeve "
                f"{fmt(report.val_studio_sleeve_accuracy)})"
            )
    say(
        f"wrote {report.weights_path} and {report.meta_path}: {report.n_train} trained, "
        f"{report.n_val} held out, {len(report.skipped)} skipped, {acc}, "
        f"{report.seconds:.0f} s"
    )
    return 0
