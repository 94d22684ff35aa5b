"""One rank of tests/train/test_ddp.py, run under ``python -m torch.distributed.run``.

Trains each given stage (CP-VTON+, float32, CPU, gloo) into ``<output>/<stage>`` with
`vton.train.train`, as ``vton train-*`` under torchrun does, and writes what this rank saw
to ``<results>/<stage>_rank<r>.json`` (its losses, which store writes it made) and
``<results>/<stage>_rank<r>.pt`` (its model's final state dict, which the store only has
for rank 0). The trainer's writers and model factory are wrapped to see that.
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
            log_every=1,
            device="cpu",
            workers=0,
        )
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


if __name__ == "__main__":
    main()
