"""Shared data for the training tests: a tiny synthetic VITON-layout dataset, written once,
and settings for runs short enough to test."""

from __future__ import annotations

import pytest

from vton.train.config import TrainSettings
from vton.train.synthetic import write_synthetic_viton


def tiny_train_settings(dataroot: str, output: str, **kw) -> TrainSettings:
    """A GMM run of one step, one pair a step, on the CPU in this process (no DataLoader
    workers), every step logged: seconds on `viton_root`. `kw` overrides any field."""
    base = dict(
        stage="gmm",
        variant="cpvton_plus",
        dataroot=dataroot,
        output=output,
        batch_size=1,
        keep_steps=1,
        decay_steps=0,
        log_every=1,
        device="cpu",
        workers=0,
    )
    return TrainSettings(**{**base, **kw})


@pytest.fixture(scope="session")
def viton_root(tmp_path_factory) -> str:
    """4 persons with their garments (train/ and test/), 256x192, in the VITON layout."""
    root = tmp_path_factory.mktemp("viton")
    write_synthetic_viton(root, 4, datamode="train", seed=0)
    write_synthetic_viton(root, 3, datamode="test", seed=1)
    return str(root)


@pytest.fixture(scope="session")
def prefect_api():
    """The session's Prefect test server: tests/flow's, when those tests ran first in this
    session (its autouse fixture has it running), else one started here. One server per
    session either way, as long as tests/flow do not run after these (pytest's default
    order runs them first)."""
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        yield PREFECT_API_URL.value()
        return
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()
