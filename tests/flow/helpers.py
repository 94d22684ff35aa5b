"""Test renderers and run helpers for the flow tests."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Sequence

import pyarrow.compute as pc

from vton.config import RunSettings
from vton.imageio import decode_image
from vton.index import count_statuses, read_index
from vton.render.base import RenderOutput, RenderRequest
from vton.render.basic import BasicRenderer
from vton.render.registry import register_renderer
from vton.storage import Store

DAY = dt.date(2026, 11, 24)


class SlowRenderer(BasicRenderer):
    """The basic renderer, slowed down so a test can kill a run in the middle of a shard."""

    name = "slow"

    def render_batch(self, requests: Sequence[RenderRequest]) -> list[RenderOutput | Exception]:
        time.sleep(float(os.environ.get("VTON_TEST_RENDER_DELAY", "0.4")))
        return super().render_batch(requests)


register_renderer("slow", lambda options: SlowRenderer())


def settings_for(catalog: dict, store: str, **kw) -> RunSettings:
    return RunSettings(
        catalog=str(catalog["products"]),
        persons=str(catalog["persons"]),
        store=store,
        run_date=DAY,
        **kw,
    )


def check_run(store: Store, run_id: str, planned: int) -> dict[str, int]:
    """Assert the index of `run_id` reconciles and its published images decode."""
    table = read_index(store, run_id=run_id)
    counts = count_statuses(table)
    assert table.num_rows == planned == sum(counts.values())
    assert len(set(table["pair_id"].to_pylist())) == planned  # each pair exactly once
    for row in table.filter(pc.equal(table["status"], "ok")).to_pylist():
        key = store.key_of(row["output_uri"].removeprefix("file://"))
        img = decode_image(store.read_bytes(key), key).rgb
        assert img.shape[:2] == (row["height"], row["width"])
    return counts


def make_bucket(s3_options, name):
    import boto3

    boto3.client(
        "s3",
        endpoint_url=s3_options["client_kwargs"]["endpoint_url"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ).create_bucket(Bucket=name)
