"""DistributedDataParallel under torchrun (2 CPU ranks, gloo): the TOM at batch 1 x 2 ranks
trains as one process at batch 2 does, rank 0 alone writes, and the ranks stay in step.

Tolerances, measured (torch 2.13, AVX2 CPU, 3 steps): the logged losses (means over the
ranks) agree with the one-process run to 7e-7 relative (asserted: 1e-5). The weights'
updates (final - initial) differ by 1.4e-3 of their norm (asserted: 1e-2), and 0.3% of the
parameters by more than 1e-6 (asserted: 1%): gradients equal up to rounding, but Adam's
first steps move every parameter by about lr whatever its gradient's size, so those
whose gradient is rounding noise (conv biases before an InstanceNorm, the innermost 2x1
maps) move by as much as the rest, in a direction the rounding picks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from vton.models import read_state_dict
from vton.train.config import TrainSettings
from vton.train.dataset import StepBatchSampler, batch_indices
from vton.train.trainer import build_model, train

SCRIPT = Path(__file__).with_name("ddp_train.py")
ROOT = SCRIPT.parents[2]
STEPS = 3


def _rank_results(results: Path, stage: str) -> tuple[list[dict], list[dict]]:
    info = [json.loads((results / f"{stage}_rank{r}.json").read_text()) for r in (0, 1)]
    weights = [torch.load(results / f"{stage}_rank{r}.pt", weights_only=True) for r in (0, 1)]
    return info, weights


def _torchrun(viton_root: str, out: Path, results: Path, *args: str) -> None:
    """`ddp_train.py` on 2 CPU ranks under torchrun, writing to `out` and `results`."""
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        str(SCRIPT), "--dataroot", viton_root, "--output", str(out), "--results", str(results),
        *args,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_rank_slices_make_up_the_global_batch():
    n = 4  # the synthetic training set
    ranks = [
        list(StepBatchSampler(n, 1, start_step=0, stop_step=6, rank=r, world_size=2))
        for r in (0, 1)
    ]
    for step in range(6):
        assert ranks[0][step] + ranks[1][step] == batch_indices(step, n, 2)


@pytest.mark.slow
def test_torchrun_tom_matches_one_process_and_gmm_ranks_agree(viton_root, tmp_path):
    out, results = tmp_path / "ddp", tmp_path / "ranks"
    _torchrun(
        viton_root, out, results, "--steps", str(STEPS),
        "--stages", "tom", "gmm",  # two trainings in one process: the process group is reused
        # losses read as on a GPU: steps 0-1 in one all-reduce, step 2 in the next
        "--read-at-log-steps", "--log-every", "2",
    )  # fmt: skip

    for stage in ("tom", "gmm"):
        info, weights = _rank_results(results, stage)
        assert [i["world"] for i in info] == [2, 2]
        # rank 0 alone writes: one checkpoint, one final weights file
        assert info[0]["writes"] == ["save_state", "save_final_weights"]
        assert info[1]["writes"] == [] and info[1]["final_uri"] is None
        assert sorted(p.name for p in (out / stage).glob("*.pth")) == [f"{stage}_final.pth"]
        final = read_state_dict(out / stage / f"{stage}_final.pth")
        assert final.keys() == weights[0].keys()
        assert all(torch.equal(final[k], weights[0][k]) for k in final)
        # every rank logs the global batch's losses and ends with the same parameters
        assert info[0]["losses"] == info[1]["losses"]
        assert [r["step"] for r in info[0]["losses"]] == list(range(STEPS))
        params = [n for n, _ in build_model(stage, "cpvton_plus").named_parameters()]
        assert all(torch.equal(weights[0][n], weights[1][n]) for n in params)
    # the TOM has no buffers (InstanceNorm without running statistics): identical ranks;
    # the GMM's BatchNorm running statistics are each rank's own (rank 0's are saved)
    tom_info, tom_weights = _rank_results(results, "tom")
    tom_params = {n for n, _ in build_model("tom", "cpvton_plus").named_parameters()}
    assert set(tom_weights[0]) == tom_params
    assert all(torch.equal(tom_weights[0][k], tom_weights[1][k]) for k in tom_weights[0])

    # one process at batch 2 sees the same pairs, and so the same losses and updates
    single = train(
        TrainSettings(
            stage="tom",
            variant="cpvton_plus",
            dataroot=viton_root,
            output=str(tmp_path / "single"),
            batch_size=2,
            keep_steps=STEPS,
            decay_steps=0,
            save_every=STEPS,
            log_every=1,
            device="cpu",
            workers=0,
        )
    )
    for one, two in zip(single.losses, tom_info[0]["losses"], strict=True):
        for key in ("total", "l1", "mask"):
            assert two[key] == pytest.approx(one[key], rel=1e-5), (one, two)
    torch.manual_seed(0)  # TrainSettings' default seed: the initial weights of both runs
    init = build_model("tom", "cpvton_plus").state_dict()
    ref = read_state_dict(tmp_path / "single" / "tom_final.pth")
    ddp = tom_weights[0]
    diff = sum(((ddp[k] - ref[k]).double() ** 2).sum() for k in ref).sqrt()
    moved = sum(((ref[k] - init[k]).double() ** 2).sum() for k in ref).sqrt()
    assert moved > 0 and diff / moved < 1e-2, (diff / moved).item()
    off = sum(((ddp[k] - ref[k]).abs() > 1e-6).sum().item() for k in ref)
    assert off < 0.01 * sum(v.numel() for v in ref.values()), off


@pytest.mark.slow
@pytest.mark.parametrize("read_at_log_steps", [False, True], ids=["cpu-reads", "gpu-reads"])
def test_torchrun_a_nan_loss_on_one_rank_stops_every_rank_before_anything_is_saved(
    viton_root, tmp_path, read_at_log_steps
):
    """Rank 1's loss turns NaN at step 1 (0-based). Read every step (the CPU's way), both
    ranks stop at step 1, before its backward; read at the log steps only (a GPU's way;
    here every 2 steps, checkpoint after step 3), both stop at the read after step 1,
    before the checkpoint. Either way together, with the same error, nothing saved."""
    out, results = tmp_path / "ddp", tmp_path / "ranks"
    _torchrun(
        viton_root, out, results, "--steps", "3", "--log-every", "2", "--stages", "gmm",
        "--nan-step", "1", "--nan-rank", "1",
        *(["--read-at-log-steps"] if read_at_log_steps else []),
    )  # fmt: skip
    errors = [json.loads((results / f"gmm_rank{r}.json").read_text()) for r in (0, 1)]
    assert errors[0] == errors[1], errors
    assert errors[0]["error"].startswith("gmm step 1: loss is nan"), errors
    assert "read at step 1," in errors[0]["error"] and errors[0]["writes"] == []
    assert not any(out.rglob("*.pt")) and not any(out.rglob("*.pth"))
