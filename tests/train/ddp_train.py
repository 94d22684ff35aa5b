"""One rank of tests/train/test_ddp.py, run under ``python -m torch.distributed.run``.

Trains each given stage (CP-VTON+, float32, CPU, gloo) into ``<output>/<stage>`` with
`vton.train.train`, as ``vton train-*`` under torchrun does, and writes what this rank saw
to ``<results>/<stage>_rank<r>.json`` (its losses, which store writes it made) and
``<results>/<stage>_rank<r>.pt`` (its model's final state dict, which the store only has
for rank 0). The trainer's writers and model factory are wrapped to see that.

With ``--nan-step S --nan-rank R`` rank R's loss is NaN from step S on (as a diverging
run's would be); each rank then records the FloatingPointError it raised (under "error")
instead of its losses, so that the test sees every rank stop, not torchrun's teardown.
With ``--read-at-log-steps`` losses are read as on a GPU (at the log and checkpoint steps
only), not every step as on the CPU (`vton.train.trainer.READ_EVERY_STEP_ON`).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch

from vton.train import trainer
from vton.train.config import TrainSettings


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--dataroot", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--results", required=True)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--stages", nargs="+", default=["tom"])
    p.add_argument("--log-every", type=int, default=1)
    p.add_argument("--nan-step", type=int, default=None)
    p.add_argument("--nan-rank", type=int, default=0)
    p.add_argument("--read-at-log-steps", action="store_true")
    args = p.parse_args()
    rank = int(os.environ["RANK"])
    torch.set_num_threads(1)  # two ranks on a shared machine

    models: list[torch.nn.Module] = []
    writes: list[str] = []
    build = trainer.build_model

    def capture(*a, **kw):
        models.append(build(*a, **kw))
        return models[-1]

    trainer.build_model = capture

    def recording(name: str):
        fn = getattr(trainer, name)

        def wrapped(*a, **kw):
            writes.append(name)
            return fn(*a, **kw)

        return wrapped

    for name in ("save_state", "save_final_weights"):
        setattr(trainer, name, recording(name))

    if args.read_at_log_steps:
        trainer.READ_EVERY_STEP_ON = ()
    if args.nan_step is not None and rank == args.nan_rank:
        poison_losses(args.nan_step)  # calls are counted over the process: give one stage

    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    for stage in args.stages:
        models.clear()
        writes.clear()
        settings = TrainSettings(
            stage=stage,
            variant="cpvton_plus",
            dataroot=args.dataroot,
            output=os.path.join(args.output, stage),
            batch_size=1,
            keep_steps=args.steps,
            decay_steps=0,
            save_every=args.steps,
            log_every=args.log_every,
            device="cpu",
            workers=0,
        )
        if args.nan_step is not None:
            try:
                trainer.train(settings)
            except FloatingPointError as e:
                out = {"error": str(e), "writes": list(writes)}
                (results / f"{stage}_rank{rank}.json").write_text(json.dumps(out))
                continue
            raise SystemExit(f"rank {rank}: the NaN loss at step {args.nan_step} did not stop")
        res = trainer.train(settings)
        torch.save(models[0].state_dict(), results / f"{stage}_rank{rank}.pt")
        (results / f"{stage}_rank{rank}.json").write_text(
            json.dumps(
                {
                    "world": int(os.environ["WORLD_SIZE"]),
                    "losses": list(res.losses),
                    "writes": list(writes),
                    "final_uri": res.final_uri,
                }
            )
        )


def poison_losses(step: int) -> None:
    """Make this rank's total loss NaN (still differentiable, so that the update is NaN too)
    from the `step`-th call of the trainer's loss functions on: the training step, in a run
    that starts at step 0."""
    calls = [0]
    gmm_losses, tom_losses = trainer.gmm_losses, trainer.tom_losses

    def poison(losses):
        calls[0] += 1
        return losses._replace(total=losses.total * float("nan")) if calls[0] > step else losses

    def gmm(*a, **kw):
        losses, warped = gmm_losses(*a, **kw)
        return poison(losses), warped

    def tom(*a, **kw):
        return poison(tom_losses(*a, **kw))

    trainer.gmm_losses, trainer.tom_losses = gmm, tom


if __name__ == "__main__":
    main()
