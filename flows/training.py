"""Flows that train the GMM and the TOM and evaluate them (one task each: training is one
long GPU job that checkpoints itself, so a retry of the task resumes where it stopped)."""

from __future__ import annotations

from prefect import flow

from tasks.training import task_evaluate, task_train
from vton.train import EvalResult, EvalSettings, TrainResult, TrainSettings

__all__ = ["train_gmm_flow", "train_tom_flow", "evaluate_flow"]


def _check_stage(settings: TrainSettings, stage: str) -> None:
    if settings.stage != stage:
        raise ValueError(f"this flow trains the {stage.upper()}, settings say {settings.stage!r}")


@flow(name="vton-train-gmm", log_prints=True)
def train_gmm_flow(settings: TrainSettings, stop_after: int | None = None) -> TrainResult:
    """Train (or resume) the GMM; returns what the training task did."""
    _check_stage(settings, "gmm")
    return task_train(settings, stop_after)


@flow(name="vton-train-tom", log_prints=True)
def train_tom_flow(settings: TrainSettings, stop_after: int | None = None) -> TrainResult:
    """Train (or resume) the TOM; returns what the training task did."""
    _check_stage(settings, "tom")
    return task_train(settings, stop_after)


@flow(name="vton-evaluate", log_prints=True)
def evaluate_flow(settings: EvalSettings) -> EvalResult:
    """Measure a GMM/TOM pair (or saved results) and write the Table 1 report."""
    return task_evaluate(settings)
