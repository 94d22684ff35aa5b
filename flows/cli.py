"""The `vton` command: run the nightly flow, re-run failed shards, query the index.

Flows run in this process against Prefect's API: the ephemeral server by default (nothing
to start), or the server that `PREFECT_API_URL` names.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import re
import sys
import time
import traceback
from collections.abc import Sequence

from flows import classifier_cli, train_cli
from flows.cli_options import add_s3_endpoint, prefect_defaults, storage_options
from vton.config import DEFAULT_STORE, RunSettings
from vton.errors import ConfigError, one_line

__all__ = ["main"]

EPILOG = """examples:
  vton run                                  render the bundled sample into ./vton-store
  vton run --catalog s3://shop/products.parquet --persons s3://shop/models.csv \\
           --store s3://shop-tryon/prod --shard-size 256
  vton rerun-failed --run-id 20261124T020000Z-1a2b3c
  vton index --product tee-plain-navy
  vton train-classifier --catalog s3://shop/products.parquet --out garments.pt
  vton train-gmm --dataroot data/viton --output ckpt/gmm
  vton evaluate --dataroot data/viton --gmm-checkpoint g.pth --tom-checkpoint t.pth \\
                --output eval
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vton",
        description="Catalog-scale virtual try-on: render a try-on image for every wanted "
        "(garment, person) pair and publish them with a Parquet index.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--debug", action="store_true", help="show full tracebacks for configuration errors"
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run the nightly try-on flow",
        description="Ingest the catalog, prepare garments and persons, "
        "render every pair not already up to date, publish the index.",
    )
    run.add_argument(
        "--catalog",
        metavar="URL",
        help="products table (.csv, .parquet, .jsonl); default: bundled sample",
    )
    run.add_argument("--persons", metavar="URL", help="persons table; default: bundled sample")
    run.add_argument(
        "--pairs",
        metavar="URL",
        help="wanted (product_id, person_id) pairs; default: every combination",
    )
    run.add_argument(
        "--store",
        metavar="URL",
        default=DEFAULT_STORE,
        help="output root: path, file://, s3://bucket/prefix (default: %(default)s)",
    )
    run.add_argument(
        "--shard-size",
        type=int,
        default=64,
        metavar="N",
        help="pairs per shard (default: %(default)s)",
    )
    run.add_argument(
        "--renderer",
        default="auto",
        metavar="NAME",
        help="renderer: auto, physical, basic, cpvton, cpvton_plus (default: %(default)s: "
        "the networks when both checkpoints are given, else physical, which needs no weights)",
    )
    run.add_argument(
        "--gmm-checkpoint",
        metavar="PATH",
        help="CP-VTON(+) GMM state dict; with --tom-checkpoint, `auto` renders with the networks",
    )
    run.add_argument("--tom-checkpoint", metavar="PATH", help="CP-VTON(+) TOM state dict")
    run.add_argument(
        "--device", help="torch device for the networks (default: cuda if available, else cpu)"
    )
    run.add_argument(
        "--amp",
        choices=["bf16", "fp16"],
        help="mixed precision for the networks on CUDA (default: fp32)",
    )
    run.add_argument(
        "--masker",
        default="classical",
        metavar="SPEC",
        help="cloth masker: classical (no weights), rembg:PATH.onnx or "
        "rembg:ARCHITECTURE:PATH.onnx (default: %(default)s)",
    )
    run.add_argument(
        "--classifier",
        metavar="PATH",
        help="garment classifier for products without a catalog category: weights from "
        "`vton train-classifier`, or `silhouette` for the weight-free rules (default: the "
        "classifier shipped with vton)",
    )
    run.add_argument(
        "--human-parser",
        metavar="PATH",
        help="LIP/ATR human parser exported to ONNX (default: estimate from "
        "MediaPipe's bundled models)",
    )
    run.add_argument(
        "--format",
        dest="output_format",
        default="jpg",
        choices=["jpg", "png", "webp"],
        help="try-on image format",
    )
    run.add_argument(
        "--run-date",
        type=dt.date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="logical date of the run (index partition); default: today (UTC)",
    )
    run.add_argument(
        "--workers",
        type=int,
        default=2,
        metavar="N",
        help="parallel tasks on this machine (default: %(default)s)",
    )
    run.add_argument(
        "--force", action="store_true", help="render every pair, even those already up to date"
    )
    run.add_argument(
        "--dask",
        metavar="ADDRESS",
        nargs="?",
        const="local",
        help="run tasks on a Dask cluster: its scheduler address, or no value "
        "for a local cluster of --workers processes",
    )
    run.add_argument(
        "--gpu-resource",
        action="store_true",
        help="render tasks ask Dask workers for a GPU resource (start GPU "
        "workers with --resources GPU=<n>)",
    )
    add_s3_endpoint(run)

    rerun = sub.add_parser(
        "rerun-failed",
        help="re-render the failed shards of a run",
        description="Re-render only the shards of a run that have failed "
        "or missing rows, with the run's own settings.",
    )
    rerun.add_argument("--run-id", required=True, metavar="R")
    rerun.add_argument("--store", metavar="URL", default=DEFAULT_STORE)
    add_s3_endpoint(rerun)

    exp = sub.add_parser(
        "export-viton",
        help="write a run's inputs in the VITON dataset layout",
        description="Write image/, cloth/, cloth-mask/, image-parse/, pose/ and "
        "test_pairs.txt from the store's assets, so the reference CP-VTON code and this "
        "pipeline run on the same data.",
    )
    exp.add_argument("--store", metavar="URL", default=DEFAULT_STORE)
    exp.add_argument("--out", metavar="DIR", required=True)
    exp.add_argument(
        "--run-id", metavar="R", help="the run whose pairs to export (default: the newest)"
    )
    exp.add_argument("--datamode", default="test", choices=["train", "test"])
    add_s3_endpoint(exp)

    idx = sub.add_parser(
        "index",
        help="query the try-on index",
        description="Print index rows: the latest image per pair by "
        "default, or every row of one run with --run-id.",
    )
    idx.add_argument("--store", metavar="URL", default=DEFAULT_STORE)
    idx.add_argument("--run-id", metavar="R", help="rows of this run (all statuses)")
    idx.add_argument("--product", metavar="ID", help="only this product")
    idx.add_argument("--status", choices=["ok", "skipped", "failed", "invalid"])
    idx.add_argument("--limit", type=int, default=50, help="rows to print (default 50; 0: all)")
    idx.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    add_s3_endpoint(idx)
    classifier_cli.add_parser(sub)
    train_cli.add_parsers(sub)
    return p


def _summary(manifest: dict, seconds: float) -> str:
    c = manifest.get("counts", {})
    lines = [
        f"run {manifest['run_id']}  ({manifest.get('status', '?')}, renderer "
        f"{manifest.get('renderer')}, {seconds:.1f} s)",
        f"  {'planned':>8} {'ok':>8} {'skipped':>8} {'failed':>8} {'invalid':>8}",
        f"  {manifest.get('planned', 0):>8} {c.get('ok', 0):>8} {c.get('skipped', 0):>8} "
        f"{c.get('failed', 0):>8} {c.get('invalid', 0):>8}",
    ]
    if manifest.get("report_uri"):
        lines.append(f"  report:        {manifest['report_uri']}")
    if manifest.get("contact_sheet_uri"):
        lines.append(f"  contact sheet: {manifest['contact_sheet_uri']}")
    if c.get("failed"):
        lines.append(
            f"  {c['failed']} failed: vton rerun-failed --run-id {manifest['run_id']}"
            f" --store {manifest.get('store')}"
        )
    return "\n".join(lines)


#: Errors that are the user's configuration, not a crash: one line, exit 2, no traceback.
CONFIG_ERRORS: tuple[type[BaseException], ...] = (ConfigError,)


def _config_error_names() -> set[str]:
    """Class names of every configuration error (subclasses defined anywhere included)."""
    names: set[str] = set()
    todo: list[type] = list(CONFIG_ERRORS)
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names


def _final_exception_name(text: str) -> str | None:
    """The class name of the last exception a formatted traceback ends with, or None.

    Frames are indented; the exception lines (``vton.errors.CheckpointError: ...``) are not.
    """
    name = None
    for line in text.splitlines():
        m = re.match(r"(?:\w+\.)*(\w+)(?::|$)", line)
        if m and not line.startswith(("Traceback", "During handling", "The above")):
            name = m.group(1)
    return name


class _QuietConfigErrors(logging.Filter):
    """Drops Prefect's tracebacks of a flow that failed on a configuration error; the CLI
    prints the one line itself (`--debug` keeps them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None:
            return not isinstance(exc, CONFIG_ERRORS)
        message = record.getMessage()
        if "Traceback" in message:
            return _final_exception_name(message) not in _config_error_names()
        return True


def _config_error(exc: BaseException, command: str, debug: bool) -> int:
    if debug:
        traceback.print_exception(exc)
    print(f"vton {command}: {one_line(exc, 2000, typed=False)}", file=sys.stderr)
    return 2


def _run_flow(
    flow_fn,
    store_url: str,
    storage_options: dict,
    params: dict,
    debug: bool = False,
    command: str = "run",
) -> int:
    from flows.progress import progress_sink
    from tasks import progress
    from vton.runs import read_manifest
    from vton.storage import Store

    started = time.perf_counter()
    try:
        store = Store(store_url, storage_options)  # a bad URL: no need to start Prefect
    except CONFIG_ERRORS as exc:
        return _config_error(exc, command, debug)
    quiet = _QuietConfigErrors()
    loggers = [logging.getLogger(n) for n in ("prefect.flow_runs", "prefect.task_runs")]
    if not debug:
        for lg in loggers:
            lg.addFilter(quiet)
    with progress_sink() as sink:
        progress.set_sink(sink)
        try:
            state = flow_fn(**params, return_state=True)
        finally:
            progress.set_sink(None)
            for lg in loggers:
                lg.removeFilter(quiet)
    failure: Exception | None = None
    if state.is_failed():
        try:
            state.result()
        except CONFIG_ERRORS as exc:
            # Nothing was written (and the store may be unreachable): no manifest to read.
            return _config_error(exc, command, debug)
        except Exception as exc:
            failure = exc
    try:
        manifest = read_manifest(store, params["run_id"])
    except FileNotFoundError:
        manifest = None
    if manifest is not None:
        print(_summary(manifest, time.perf_counter() - started))
    if state.is_failed():
        if failure is not None:
            print(f"vton: run failed: {failure}", file=sys.stderr)
        return 1
    return 1 if manifest and manifest.get("counts", {}).get("failed") else 0


def _cmd_run(args: argparse.Namespace) -> int:
    from flows.nightly import nightly
    from vton.runs import new_run_id

    try:
        settings = RunSettings(
            catalog=args.catalog, persons=args.persons, pairs=args.pairs, store=args.store,
            storage_options=storage_options(args), shard_size=args.shard_size,
            renderer=args.renderer, masker=args.masker, classifier=args.classifier,
            output_format=args.output_format,
            human_parser=args.human_parser, gmm_checkpoint=args.gmm_checkpoint,
            tom_checkpoint=args.tom_checkpoint, device=args.device, amp=args.amp,
            run_date=args.run_date, force=args.force, max_workers=args.workers,
            task_runner="dask" if args.dask else "threads",
            dask_address=None if args.dask in (None, "local") else args.dask,
            gpu_resource=args.gpu_resource,
        )  # fmt: skip
    except ValueError as exc:
        print(f"vton run: {exc}", file=sys.stderr)
        return 2
    run_id = new_run_id()
    print(f"run {run_id}: store {settings.store}")
    params = {"settings": settings, "run_id": run_id}
    return _run_flow(nightly, settings.store, settings.storage_options, params, args.debug)


def _cmd_rerun(args: argparse.Namespace) -> int:
    from flows.rerun import rerun_failed

    opts = storage_options(args)
    params = {"run_id": args.run_id, "store": args.store, "storage_options": opts}
    return _run_flow(rerun_failed, args.store, opts, params, args.debug, "rerun-failed")


def _cmd_export_viton(args: argparse.Namespace) -> int:
    from vton.person.viton import export_viton
    from vton.storage import Store

    opts = storage_options(args)
    result = export_viton(
        Store(args.store, opts), args.out, args.run_id, datamode=args.datamode, storage_options=opts
    )
    print(
        f"run {result.run_id}: {result.pairs} pairs, {result.persons} persons, "
        f"{result.garments} garments -> {result.out} ({result.pairs_file})"
    )
    for item in result.left_out:
        print(f"  left out: {item}")
    return 0


def _cmd_index(args: argparse.Namespace) -> int:
    import pyarrow.compute as pc

    from vton.index import read_index, read_latest
    from vton.storage import Store

    store = Store(args.store, storage_options(args))
    if args.run_id:
        table = read_index(store, run_id=args.run_id, product_id=args.product)
    else:
        table = read_latest(store)
        if args.product:
            table = table.filter(pc.equal(table["product_id"], args.product))
    if args.status:
        table = table.filter(pc.equal(table["status"], args.status))
    rows = table.to_pylist()
    shown = rows if args.limit == 0 else rows[: args.limit]
    if args.json:
        for r in shown:
            print(json.dumps(r, default=str))
    else:
        cols = ["run_date", "product_id", "person_id", "renderer", "status", "output_uri", "error"]
        _print_table(cols, [[r.get(c) for c in cols] for r in shown])
        if len(shown) < len(rows):
            print(f"... {len(rows) - len(shown)} more (use --limit 0)")
    return 0


def _print_table(cols: Sequence[str], rows: Sequence[Sequence]) -> None:
    text = [[("" if v is None else str(v)) for v in r] for r in rows]
    widths = [max([len(c)] + [min(len(r[i]), 80) for r in text]) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
    for r in text:
        print("  ".join(v[:80].ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    prefect_defaults()
    if args.command in train_cli.COMMANDS:
        return train_cli.run(args)
    handlers = {
        "run": _cmd_run,
        "rerun-failed": _cmd_rerun,
        "index": _cmd_index,
        "export-viton": _cmd_export_viton,
        "train-classifier": classifier_cli.run,
    }
    try:
        return handlers[args.command](args)
    except CONFIG_ERRORS as exc:  # e.g. `vton index --store nosuch://x`: the user's to fix
        return _config_error(exc, args.command, args.debug)


if __name__ == "__main__":
    sys.exit(main())
