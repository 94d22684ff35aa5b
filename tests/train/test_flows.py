"""The training tasks, flows and commands (one network step each: the library is tested in
the other files)."""

from __future__ import annotations

import functools
import json

import pytest

from flows.train_cli import main
from flows.training import evaluate_flow, train_gmm_flow
from tasks.training import task_evaluate, task_train
from tests.train.conftest import tiny_train_settings
from vton.train.config import EvalSettings

_settings = functools.partial(tiny_train_settings, variant="cpvton")


@pytest.mark.slow
def test_tasks_run_as_plain_functions(viton_root, tmp_path):
    res = task_train.fn(_settings(viton_root, str(tmp_path / "gmm")))
    assert res.steps_done == 1 and res.final_uri.endswith("gmm_final.pth")
    ev = task_evaluate.fn(
        EvalSettings(
            dataroot=viton_root,
            variant="cpvton",
            output=str(tmp_path / "ev"),
            gmm_checkpoint=str(tmp_path / "gmm" / "gmm_final.pth"),
        )
    )
    assert ev.row["iou"] is not None and ev.row["ssim"] is None


def test_help_describes_the_commands(capsys):
    for command, words in (
        ("train-gmm", ["--gic-weight", "--save-every", "--no-resume"]),
        ("train-tom", ["--vgg-weights", "--warped-from", "perceptual"]),
        ("evaluate", ["--fid-extractor", "--lpips-backbone", "--tryon-dir", "--is-classifier"]),
    ):
        with pytest.raises(SystemExit) as exc:
            main([command, "--help"])
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert all(w in out for w in words), (command, out)


def test_bad_settings_exit_2(viton_root, tmp_path, capsys):
    code = main(
        ["train-tom", "--dataroot", viton_root, "--output", str(tmp_path), "--warped-from", "gmm"]
    )
    assert code == 2 and "gmm_checkpoint" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_flow_and_commands_train_then_evaluate(viton_root, tmp_path, capsys):
    res = train_gmm_flow(_settings(viton_root, str(tmp_path / "flow")))
    assert res.steps_done == 1
    with pytest.raises(ValueError, match="trains the GMM"):
        train_gmm_flow(_settings(viton_root, "x").model_copy(update={"stage": "tom"}))
    ev = evaluate_flow(
        EvalSettings(
            dataroot=viton_root,
            variant="cpvton",
            output=str(tmp_path / "ev"),
            gmm_checkpoint=res.final_uri.removeprefix("file://"),
        )
    )
    assert ev.row["pairs"] == 3
    gmm = tmp_path / "flow" / "gmm_final.pth"
    code = main(
        [
            "evaluate",
            "--dataroot",
            viton_root,
            "--variant",
            "cpvton",
            "--gmm-checkpoint",
            str(gmm),
            "--output",
            str(tmp_path / "cli"),
            "--method",
            "cli-run",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "cli-run: 3 pairs, 3 same-cloth" in out and "LPIPS: not configured" in out
    assert json.loads((tmp_path / "cli" / "report.json").read_text())["table1"]["method"] == (
        "cli-run"
    )
