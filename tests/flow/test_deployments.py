"""deployments/prefect.yaml: valid for Prefect, and its parameters fit the flows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from prefect.cli.deploy._models import PrefectYamlModel

from deployments.serve import DEFAULT_FILE, build_deployments, load_flow


def test_prefect_yaml_is_valid_for_prefect():
    raw = yaml.safe_load(DEFAULT_FILE.read_text())
    model = PrefectYamlModel.model_validate(raw)
    assert {d.name for d in model.deployments} == {"nightly", "backfill", "rerun-failed"}


def test_deployments_build_with_schedule_and_concurrency_limit():
    deps = {d.name: d for d in build_deployments()}
    nightly = deps["nightly"]
    assert (nightly.entrypoint, nightly.flow_name) == ("flows/nightly.py:nightly", "vton-nightly")
    assert deps["rerun-failed"].entrypoint == "flows/rerun.py:rerun_failed"
    (schedule,) = nightly.schedules
    assert schedule.schedule.cron == "0 2 * * *"
    assert schedule.schedule.timezone == "Europe/Berlin"
    assert nightly.concurrency_limit == 1
    assert nightly.concurrency_options.collision_strategy.value == "ENQUEUE"
    assert nightly.parameters["settings"]["shard_size"] == 256
    assert deps["backfill"].schedules == []
    assert deps["rerun-failed"].parameters == {"store": "s3://shop-tryon/prod"}


def test_backfill_date_parameter_is_accepted():
    flow = load_flow("flows/nightly.py:nightly")
    params = flow.validate_parameters({"run_date": "2026-11-20"})
    assert params["run_date"] == dt.date(2026, 11, 20)


def test_a_typo_in_the_yaml_fails_when_building(tmp_path: Path):
    raw = yaml.safe_load(DEFAULT_FILE.read_text())
    raw["deployments"][0]["parameters"]["settings"]["shard_sise"] = 10
    bad = tmp_path / "prefect.yaml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(ValueError, match="shard_sise"):
        build_deployments(bad)
    raw["deployments"][0]["parameters"] = {"setings": {}}
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(ValueError, match="unknown parameter 'setings'"):
        build_deployments(bad)
