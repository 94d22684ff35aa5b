"""Command-line pieces every `vton` command shares: the S3 endpoint option and Prefect's
environment defaults. A module of its own because `flows.cli` imports the training and
classifier commands, which need them too."""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["add_s3_endpoint", "storage_options", "prefect_defaults"]


def add_s3_endpoint(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--s3-endpoint",
        metavar="URL",
        help="S3-compatible endpoint (or set AWS_ENDPOINT_URL); credentials come "
        "from the usual AWS_* variables",
    )


def storage_options(args: argparse.Namespace) -> dict:
    """fsspec options for `--s3-endpoint` ({} without it)."""
    if getattr(args, "s3_endpoint", None):
        return {"client_kwargs": {"endpoint_url": args.s3_endpoint}}
    return {}


def prefect_defaults() -> None:
    """Environment defaults for running Prefect flows from a command (a user's own
    settings win)."""
    # Telemetry cannot reach its server offline and holds SQLite locks while it tries.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # The ephemeral server's 20 s start-up limit is too short on a busy machine.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    if sys.stdout.isatty():
        # Progress bars show the work; keep Prefect's per-task lines for warnings.
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
