"""Run settings: one frozen, validated object that a flow takes as its parameter.

A typo in a setting fails at the start of a run rather than being ignored (`extra="forbid"`),
and the settings are recorded whole in each run's manifest so a re-run of failed shards uses
exactly what the original run used. Nothing here reads the environment: credentials for
object stores come from the usual AWS variables or `storage_options`, read by s3fs when the
store is opened.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_STORE", "RunSettings"]

DEFAULT_STORE = "./vton-store"


class RunSettings(BaseModel):
    """Everything one nightly run depends on."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    catalog: str | None = None
    """Products table (CSV, Parquet or JSON Lines; path or fsspec URL). None renders the
    bundled sample catalog, written into the store under `sample/`."""

    persons: str | None = None
    """Persons table, same formats. None uses the bundled sample persons."""

    pairs: str | None = None
    """Optional table of wanted (product_id, person_id) pairs; default every combination."""

    store: str = DEFAULT_STORE
    """Root of all outputs: a local path, file://, s3://bucket/prefix, or memory://."""

    storage_options: dict[str, Any] = Field(default_factory=dict)
    """fsspec options for the store and for input URLs (for S3: endpoint_url, key, secret,
    client_kwargs...). Prefer environment variables for secrets; never commit them."""

    shard_size: int = Field(default=64, ge=1, le=100_000)
    """Pairs per shard: the unit of retry, of GPU scheduling and of index files."""

    prep_chunk_size: int = Field(default=32, ge=1, le=10_000)
    """Garments or persons prepared per prep task (one task per item costs too much)."""

    renderer: str = "auto"
    """Renderer name (`vton run --help` lists them); `auto` picks the best one configured."""

    masker: str = "classical"
    """Cloth masker: ``classical`` (no weights), or rembg with a model file the user
    provides: ``rembg:<path/model.onnx>`` or ``rembg:<architecture>:<path/model.onnx>``.
    The back-end and the model's digest are recorded in the manifest and the index."""

    classifier: str | None = None
    """Garment classifier for products whose catalog row has no category: None uses the
    classifier shipped with the package, ``silhouette`` the weight-free silhouette rules, a
    path the weights saved by `vton train-classifier`. Catalog metadata always wins."""

    gmm_checkpoint: str | None = None
    """CP-VTON or CP-VTON+ GMM state dict (`gmm_final.pth`). With `tom_checkpoint`, `auto`
    renders with the networks; loaded weights-only, never downloaded."""

    tom_checkpoint: str | None = None
    """CP-VTON or CP-VTON+ TOM state dict (`tom_final.pth`), the same variant as the GMM."""

    device: str | None = None
    """Torch device of neural renderers (cuda, cuda:1, cpu); None: CUDA when available."""

    amp: Literal["bf16", "fp16"] | None = None
    """Mixed precision of neural renderers on CUDA; None is fp32 (the reference's numbers)."""

    render_batch_size: int = Field(default=16, ge=1, le=4096)
    """Pairs per batch through a neural renderer."""

    human_parser: str | None = None
    """Path of a LIP/ATR human parser exported to ONNX; None uses the estimate from
    MediaPipe's bundled models (see `vton.person.parsing`)."""

    output_format: Literal["jpg", "png", "webp"] = "jpg"
    """Encoding of published try-on images."""

    run_date: dt.date | None = None
    """Logical date of the run (index partition); None is today's date in UTC."""

    force: bool = False
    """Render every pair even when an up-to-date output exists."""

    max_workers: int = Field(default=2, ge=1, le=256)
    """Parallel tasks: threads of the local runner, or workers of a Dask cluster that the run
    starts itself."""

    task_runner: Literal["threads", "dask"] = "threads"
    """Where tasks run: threads of this process, or a Dask cluster (`dask_address`)."""

    dask_address: str | None = None
    """Scheduler address of an existing Dask cluster (tcp://host:8786). None with
    `task_runner="dask"` starts a local cluster of `max_workers` worker processes."""

    gpu_resource: bool = False
    """Render tasks ask Dask for `resources={"GPU": 1}`, so each GPU renders one shard at a
    time. Start GPU workers with `--resources GPU=<gpus>`; a local cluster started by the
    run declares one GPU per worker."""

    gpu_slots: int = Field(default=0, ge=0, le=64)
    """Shards rendered at once per process when the renderer uses a GPU (0: one per visible
    GPU). Keeps threads of one host from oversubscribing its GPUs."""

    max_image_pixels: int = Field(default=64_000_000, ge=1)
    """Input images with more pixels are refused (decompression-bomb guard)."""

    max_person_side: int = Field(default=1024, ge=64, le=8192)
    """Person photos are reduced to at most this many pixels on the long side; try-on
    images are rendered at that resolution."""

    contact_sheet_rows: int = Field(default=36, ge=1, le=500)
    """Pairs shown in each run's contact sheet."""
