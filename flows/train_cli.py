"""`vton train-gmm`, `vton train-tom` and `vton evaluate`.

`flows.cli` adds these subcommands with `add_parsers(sub)` and hands them to `run(args)`.
They run the Prefect flows in this process (the ephemeral API unless `PREFECT_API_URL` is
set). Under torchrun (``WORLD_SIZE > 1``) every rank runs the training function itself,
without Prefect: one flow run per rank would only add noise. This module also runs
standalone for that case::

    torchrun --nproc-per-node 4 -m flows.train_cli train-gmm --dataroot data --output ckpt
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from flows.cli_options import add_s3_endpoint, prefect_defaults, storage_options

__all__ = ["COMMANDS", "add_parsers", "run", "main"]

COMMANDS = ("train-gmm", "train-tom", "evaluate")

TRAIN_EPILOG = """examples:
  vton train-gmm --dataroot data/viton --output ckpt/gmm
  vton train-tom --dataroot data/viton --output ckpt/tom --vgg-weights vgg19-dcbb9e9d.pth
  vton train-tom --dataroot ./vton-store --source store --data-list pairs.txt \\
                 --warped-from gmm --gmm-checkpoint ckpt/gmm/gmm_final.pth --output s3://b/tom
  torchrun --nproc-per-node 4 -m flows.train_cli train-gmm --dataroot data/viton --output ckpt

A run resumes from the newest checkpoint in --output (use --no-resume to start over).
"""

EVAL_EPILOG = """examples:
  vton evaluate --dataroot data/viton --gmm-checkpoint gmm_final.pth \\
                --tom-checkpoint tom_final.pth --output eval/cpvton_plus
  vton evaluate --dataroot data/viton --warp-mask-dir result/GMM/test/warp-mask \\
                --tryon-dir result/tom_final.pth/test/try-on --output eval/reference
"""


def _add_count(p: argparse.ArgumentParser, flag: str, default: int, what: str) -> None:
    """An integer option shown as N, its default in the help, as most of ours are."""
    p.add_argument(
        flag, type=int, default=default, metavar="N", help=f"{what} (default: %(default)s)"
    )


def _add_common(p: argparse.ArgumentParser, *, train: bool) -> None:
    p.add_argument(
        "--dataroot",
        required=True,
        metavar="URL",
        help="VITON-layout dataroot (or the pipeline store with --source store)",
    )
    p.add_argument(
        "--source",
        choices=["viton", "store"],
        default="viton",
        help="viton: <dataroot>/<datamode>/image, cloth, ... ; store: prepared assets "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--variant",
        choices=["cpvton", "cpvton_plus"],
        default="cpvton_plus",
        help="CP-VTON (cloth RGB to GMM, 25-ch TOM) or CP-VTON+ (default: %(default)s)",
    )
    p.add_argument(
        "--datamode",
        default="train" if train else "test",
        help="sub-folder of the dataroot (default: %(default)s)",
    )
    p.add_argument(
        "--data-list",
        default="train_pairs.txt" if train else "test_pairs.txt",
        metavar="FILE",
        help="pairs file relative to the dataroot: '<person>.jpg <cloth>.jpg' per line "
        "(store: '<person asset> <cloth asset>') (default: %(default)s)",
    )
    p.add_argument(
        "--output",
        required=True,
        metavar="URL",
        help="store (path, file://, s3://...) for checkpoints and final weights"
        if train
        else "store for report.json, report.parquet and pairs.parquet",
    )
    _add_count(p, "--batch-size", 4 if train else 8, "pairs per step, per process under torchrun")
    p.add_argument("--radius", type=int, default=5, help="pose square half side (default: 5)")
    p.add_argument("--device", help="torch device (default: cuda if available, else cpu)")
    add_s3_endpoint(p)


def _add_train(sub, name: str, stage: str) -> None:
    what = "warps the cloth" if stage == "gmm" else "renders the try-on"
    p = sub.add_parser(
        name,
        help=f"train the {stage.upper()} ({what})",
        description=(
            "Train CP-VTON(+)'s geometric matching module: L1 between the warped cloth and "
            "the person's cloth region, plus CP-VTON+'s grid regulariser."
            if stage == "gmm"
            else "Train CP-VTON(+)'s try-on module: L1 + VGG19 perceptual + composition "
            "mask L1, on warps from warp-cloth/ files or a frozen GMM."
        )
        + " Adam (lr 1e-4, betas 0.5/0.999), constant then linear decay to zero; "
        "resumable checkpoints every --save-every steps; final weights in the reference "
        "format (<stage>_final.pth).",
        epilog=TRAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(p, train=True)
    _add_count(p, "--keep-steps", 100_000, "steps at the constant rate")
    _add_count(p, "--decay-steps", 100_000, "steps of linear decay to zero")
    p.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate (default: 1e-4)")
    _add_count(p, "--save-every", 5000, "checkpoint every N steps")
    _add_count(p, "--log-every", 20, "log losses every N steps")
    _add_count(p, "--keep-checkpoints", 3, "resumable checkpoints kept")
    p.add_argument("--seed", type=int, default=0, help="weights and data order seed")
    _add_count(p, "--workers", 1, "DataLoader worker processes, ~50 pairs/s each")
    p.add_argument(
        "--amp",
        choices=["bf16", "fp16"],
        help="mixed precision (autocast) on CUDA or the CPU; on a CPU without native "
        "bf16/fp16 kernels (no AVX512-BF16/AMX) it is much slower than the fp32 default",
    )
    p.add_argument(
        "--init-checkpoint",
        metavar="PATH",
        help="start from these weights, e.g. the published *_final.pth",
    )
    p.add_argument(
        "--no-resume", action="store_true", help="ignore checkpoints already in --output"
    )
    if stage == "gmm":
        p.add_argument(
            "--gic-weight",
            type=float,
            metavar="W",
            help="grid regulariser weight (default: 40 for cpvton_plus, 0 for cpvton)",
        )
    else:
        p.add_argument(
            "--vgg-weights",
            metavar="PATH",
            help="torchvision VGG19 state dict for the perceptual loss; without "
            "it TOM trains without that term (logged and recorded)",
        )
        p.add_argument("--vgg-weight", type=float, default=1.0, help="perceptual loss weight")
        p.add_argument("--mask-weight", type=float, default=1.0, help="mask L1 weight")
        p.add_argument(
            "--warped-from",
            choices=["files", "gmm"],
            default="files",
            help="warps from warp-cloth/ + warp-mask/ files, or a frozen GMM "
            "(default: %(default)s)",
        )
        p.add_argument("--gmm-checkpoint", metavar="PATH", help="GMM weights for --warped-from gmm")


def add_parsers(sub) -> None:
    """Add `train-gmm`, `train-tom` and `evaluate` to an argparse subparsers object."""
    _add_train(sub, "train-gmm", "gmm")
    _add_train(sub, "train-tom", "tom")
    p = sub.add_parser(
        "evaluate",
        help="measure IoU, SSIM, LPIPS, IS, FID/KID (CP-VTON+'s Table 1)",
        description="Warped-mask IoU and try-on SSIM (and LPIPS when configured) on "
        "same-cloth pairs, the Inception Score on different-cloth pairs when a classifier "
        "is configured, FID/KID over all pairs when a feature extractor is configured; "
        "from checkpoints or from saved results. Writes report.json, report.parquet and "
        "pairs.parquet to --output.",
        epilog=EVAL_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(p, train=False)
    p.add_argument("--method", default="model", help="row label in the report")
    p.add_argument("--gmm-checkpoint", metavar="PATH", help="GMM weights to run")
    p.add_argument("--tom-checkpoint", metavar="PATH", help="TOM weights to run (with a GMM)")
    p.add_argument(
        "--warp-mask-dir",
        metavar="URL",
        help="saved warped masks named by person image, instead of a GMM",
    )
    p.add_argument(
        "--tryon-dir", metavar="URL", help="saved try-ons named by person image, instead of a TOM"
    )
    p.add_argument(
        "--same-cloth",
        choices=["auto", "all", "none"],
        default="auto",
        help="which pairs have ground truth (auto: VITON naming)",
    )
    p.add_argument("--lpips-backbone", metavar="PATH", help="torchvision VGG16 state dict")
    p.add_argument("--lpips-weights", metavar="PATH", help="LPIPS v0.1 vgg.pth linear layers")
    p.add_argument(
        "--fid-extractor",
        metavar="PATH",
        help="TorchScript feature extractor for FID/KID: (B, 3, S, S) in 0..255 -> (B, D)",
    )
    p.add_argument(
        "--fid-input-size",
        type=int,
        default=299,
        metavar="S",
        help="side images are resized to for --fid-extractor and --is-classifier "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--is-classifier",
        metavar="PATH",
        help="TorchScript or .pt2 classifier for the Inception Score (different-cloth "
        "pairs): (B, 3, S, S) in 0..255 -> (B, C) logits, e.g. Inception's",
    )
    _add_count(p, "--is-splits", 10, "IS splits, reported as mean and std")


def _settings(model, args: argparse.Namespace, **fields):
    """`model` (`TrainSettings` or `EvalSettings`) from every parsed option named as one of
    its fields (options are named after the fields they set, so a new option needs no list
    here), plus `fields` for what no option gives as is (stage, resume); the model checks
    all."""
    given = {k: v for k, v in vars(args).items() if k in model.model_fields}
    return model(**(given | fields), storage_options=storage_options(args))


def _train_settings(args: argparse.Namespace):
    from vton.train import TrainSettings

    stage = "gmm" if args.command == "train-gmm" else "tom"
    return _settings(TrainSettings, args, stage=stage, resume=not args.no_resume)


def _eval_settings(args: argparse.Namespace):
    from vton.train import EvalSettings

    return _settings(EvalSettings, args)


def _print_train(result) -> None:
    last = result.losses[-1] if result.losses else {}
    print(
        f"{result.stage} ({result.variant}): steps {result.start_step}..{result.steps_done} "
        f"of {result.total_steps}, last loss {last.get('total', float('nan')):.5f}"
    )
    if result.stage == "tom":
        print(f"  perceptual: {result.perceptual}")
    if result.checkpoint_uri:
        print(f"  checkpoint: {result.checkpoint_uri}")
    if result.final_uri:
        print(f"  final weights: {result.final_uri}")


def _print_eval(result) -> None:
    r = result.row
    cols = ("iou", "ssim", "lpips", "is", "fid", "kid")
    print(f"{r['method']}: {r['pairs']} pairs, {r['same_cloth_pairs']} same-cloth")
    print("  " + "  ".join(f"{c:>8}" for c in cols))
    print("  " + "  ".join(f"{r[c]:>8.4f}" if r[c] is not None else f"{'-':>8}" for c in cols))
    if r["notes"]:
        for note in r["notes"].split("; "):
            print(f"  {note}")
    print(f"  report: {result.uris['json']}")


def run(args: argparse.Namespace) -> int:
    """Run the subcommand parsed into `args` (one of `COMMANDS`); returns the exit code."""
    if args.command not in COMMANDS:
        raise ValueError(f"not a training command: {args.command!r}")
    try:
        settings = _eval_settings(args) if args.command == "evaluate" else _train_settings(args)
    except ValueError as exc:
        print(f"vton {args.command}: {exc}", file=sys.stderr)
        return 2
    if args.command != "evaluate" and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        from vton.train import train

        result = train(settings, log=lambda m: print(m, flush=True))
        if int(os.environ.get("RANK", "0")) == 0:
            _print_train(result)
        return 0
    from flows.training import evaluate_flow, train_gmm_flow, train_tom_flow

    flow_fn = {"train-gmm": train_gmm_flow, "train-tom": train_tom_flow}.get(
        args.command, evaluate_flow
    )
    state = flow_fn(settings=settings, return_state=True)
    if state.is_failed():
        try:
            state.result()
        except Exception as exc:
            print(f"vton {args.command}: failed: {exc}", file=sys.stderr)
        return 1
    result = state.result()
    (_print_eval if args.command == "evaluate" else _print_train)(result)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry (for torchrun): the three subcommands only."""
    p = argparse.ArgumentParser(prog="vton", description="Train and evaluate CP-VTON(+).")
    add_parsers(p.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = p.parse_args(argv)
    prefect_defaults()
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
