"""Serve the deployments of `deployments/prefect.yaml` from this one host (no work pool).

    python deployments/serve.py [--prefect-file deployments/prefect.yaml]

The YAML stays the single source of truth: every deployment in it becomes a
`flow.to_deployment(...)` with the same entrypoint, parameters, schedules and concurrency
limit, served by this process (`prefect.serve`) against `PREFECT_API_URL`.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
import typing
from pathlib import Path
from typing import Any

import pydantic
import yaml
from prefect import Flow, serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.client.schemas.schedules import CronSchedule

__all__ = [
    "build_deployments",
    "load_deployment_specs",
    "load_flow",
    "main",
    "validate_parameters",
]

DEFAULT_FILE = Path(__file__).with_name("prefect.yaml")
REPO_ROOT = Path(__file__).resolve().parent.parent


def load_flow(entrypoint: str) -> Flow:
    """`flows/nightly.py:nightly` -> the flow object (imported as a module of this repo)."""
    path, name = entrypoint.split(":")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    return getattr(module, name)


def load_deployment_specs(prefect_file: Path = DEFAULT_FILE) -> list[dict[str, Any]]:
    """The `deployments:` entries of a prefect.yaml, YAML aliases resolved."""
    return yaml.safe_load(Path(prefect_file).read_text())["deployments"]


def validate_parameters(flow: Flow, params: dict[str, Any]) -> None:
    """Check the parameters a deployment sets against the flow's signature.

    Parameters the deployment leaves out are given at run time (`--param run_id=...`), so
    only the ones present are checked, each against its type (settings included, whose
    model forbids unknown fields).
    """
    hints = typing.get_type_hints(flow.fn)
    known = inspect.signature(flow.fn).parameters
    for name, value in params.items():
        if name not in known:
            raise ValueError(f"{flow.name}: unknown parameter {name!r}; known: {', '.join(known)}")
        try:
            pydantic.TypeAdapter(hints[name]).validate_python(value)
        except pydantic.ValidationError as exc:
            raise ValueError(f"{flow.name}: parameter {name!r}: {exc}") from None


def _concurrency(spec: dict[str, Any] | int | None) -> ConcurrencyLimitConfig | int | None:
    if isinstance(spec, dict):
        return ConcurrencyLimitConfig(
            limit=spec["limit"],
            collision_strategy=ConcurrencyLimitStrategy(spec.get("collision_strategy", "ENQUEUE")),
        )
    return spec


def build_deployments(prefect_file: Path = DEFAULT_FILE) -> list:
    """RunnerDeployments for every entry of `prefect_file`; parameters validated against
    each flow's signature, so a typo in the YAML fails here rather than at 2 a.m."""
    out = []
    for spec in load_deployment_specs(prefect_file):
        flow = load_flow(spec["entrypoint"])
        params = spec.get("parameters") or {}
        validate_parameters(flow, params)
        schedules = [
            CronSchedule(cron=s["cron"], timezone=s.get("timezone"))
            for s in spec.get("schedules") or []
            if s.get("active", True)
        ]
        out.append(
            flow.to_deployment(
                name=spec["name"],
                description=spec.get("description"),
                parameters=params,
                schedules=schedules or None,
                concurrency_limit=_concurrency(spec.get("concurrency_limit")),
                tags=spec.get("tags"),
            )
        )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prefect-file", type=Path, default=DEFAULT_FILE)
    args = parser.parse_args(argv)
    serve(*build_deployments(args.prefect_file))


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    main()
