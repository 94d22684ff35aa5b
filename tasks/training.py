"""Training and evaluation as Prefect tasks: the library calls with Prefect's logger."""

from __future__ import annotations

import logging
from collections.abc import Callable

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError

from vton.train import EvalResult, EvalSettings, TrainResult, TrainSettings, evaluate, train

__all__ = ["task_train", "task_evaluate"]


def _log() -> Callable[[str], None]:
    """Prefect's run logger inside a run; the library's logger when called as `.fn()`."""
    try:
        return get_run_logger().info
    except MissingContextError:
        return logging.getLogger("vton.train").info


@task(name="train", cache_policy=NO_CACHE)
def task_train(settings: TrainSettings, stop_after: int | None = None) -> TrainResult:
    """`vton.train.train`; resumes from the output's newest checkpoint on a retry."""
    return train(settings, stop_after=stop_after, log=_log())


@task(name="evaluate", cache_policy=NO_CACHE)
def task_evaluate(settings: EvalSettings) -> EvalResult:
    """`vton.train.evaluate`."""
    return evaluate(settings, log=_log())
