"""The nightly flow against a real S3-compatible server (moto) on 127.0.0.1."""

from __future__ import annotations

import boto3
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pytest
import s3fs

from flows.nightly import nightly
from flows.rerun import rerun_failed
from tests.flow.helpers import check_run, make_bucket
from vton.config import RunSettings
from vton.storage import Store

pytestmark = pytest.mark.s3


def test_nightly_on_s3_with_catalog_on_s3(small_catalog, s3_options):
    boto3.client(
        "s3",
        endpoint_url=s3_options["client_kwargs"]["endpoint_url"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ).create_bucket(Bucket="shop")
    fs = s3fs.S3FileSystem(**s3_options)
    fs.put(str(small_catalog["dir"]), "shop/catalog", recursive=True)
    settings = RunSettings(
        catalog="s3://shop/catalog/products.csv", persons="s3://shop/catalog/persons.csv",
        store="s3://shop/tryon", storage_options=s3_options, shard_size=2,
    )  # fmt: skip
    m = nightly(settings)
    assert m["counts"]["ok"] == 3
    store = Store("s3://shop/tryon", s3_options)
    check_run(store, m["run_id"], 3)
    assert m["report_uri"].startswith("s3://shop/tryon/runs/")
    uris = [r for r in fs.find("shop/tryon/tryon") if r.endswith(".jpg")]
    assert len(uris) == 3

    # The index reads back through s3fs with plain pyarrow.
    fs.invalidate_cache()
    table = ds.dataset(
        "shop/tryon/index/tryon",
        filesystem=pafs.PyFileSystem(pafs.FSSpecHandler(fs)),
        partitioning="hive",
    ).to_table()
    assert table.num_rows == 3 and set(table["status"].to_pylist()) == {"ok"}
    assert all(
        u.startswith("s3://shop/tryon/tryon/physical/") for u in table["output_uri"].to_pylist()
    )

    m2 = nightly(settings)
    assert m2["counts"]["skipped"] == 3
    assert rerun_failed(m2["run_id"], "s3://shop/tryon", s3_options)["counts"]["skipped"] == 3
    # The first run's shards now belong to the second: re-running it would mix them up.
    with pytest.raises(RuntimeError, match="replaced by a later run"):
        rerun_failed(m["run_id"], "s3://shop/tryon", s3_options)


@pytest.mark.slow
def test_nightly_on_a_local_dask_cluster_with_gpu_resources(small_catalog, s3_options):
    """Two worker processes, render tasks asking for a GPU resource, store on S3."""
    make_bucket(s3_options, "dask")
    settings = RunSettings(
        catalog=str(small_catalog["products"]), persons=str(small_catalog["persons"]),
        store="s3://dask/tryon", storage_options=s3_options, shard_size=1,
        task_runner="dask", max_workers=2, gpu_resource=True,
    )  # fmt: skip
    m = nightly(settings)
    assert m["counts"]["ok"] == 3 and len(m["shards"]) == 3
    check_run(Store("s3://dask/tryon", s3_options), m["run_id"], 3)
