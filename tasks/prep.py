"""Garment and person preparation tasks: one task per chunk of items, never per item
(thousands of tiny tasks cost Prefect more than the work)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tasks import progress
from vton.cloth.classify import make_classifier
from vton.cloth.masking import make_masker
from vton.cloth.prep import prepare_cloth
from vton.person.parsing import make_parser
from vton.person.pose import MediaPipePoseEstimator
from vton.person.prep import prepare_person
from vton.schemas import PersonRow, PreparedItem, ProductRow
from vton.storage import Store

__all__ = [
    "prepare_cloth_items",
    "prepare_person_items",
    "task_prepare_cloth",
    "task_prepare_person",
]

_estimator = MediaPipePoseEstimator()  # holds one graph per thread; cheap until first use


def _log_problems(items: Sequence[PreparedItem], shown: int = 10) -> None:
    """Log the first problems of a chunk; the index and report hold all of them."""
    logger = get_run_logger()
    bad = [item for item in items if item.status != "ok"]
    for item in bad[:shown]:
        logger.warning("%s %s %s: %s", item.kind, item.item_id, item.status, item.error)
    if len(bad) > shown:
        logger.warning("... and %d more %s items not prepared", len(bad) - shown, bad[0].kind)


def prepare_cloth_items(
    store: Store,
    products: Sequence[ProductRow],
    masker: str,
    max_pixels: int,
    storage_options: Mapping[str, Any],
    classifier: str | None = None,
) -> list[PreparedItem]:
    m = make_masker(masker)  # models load once per chunk, not per garment
    c = make_classifier(classifier)
    out = []
    for p in products:
        out.append(
            prepare_cloth(
                store, p, m, max_pixels=max_pixels, storage_options=storage_options, classifier=c
            )
        )
        progress.advance("garments")
    _log_problems(out)
    return out


def prepare_person_items(
    store: Store,
    persons: Sequence[PersonRow],
    max_side: int,
    max_pixels: int,
    storage_options: Mapping[str, Any],
    human_parser: str | None = None,
) -> list[PreparedItem]:
    parser = make_parser(human_parser)  # an ONNX model loads once per chunk, not per person
    out = []
    for p in persons:
        out.append(
            prepare_person(
                store,
                p,
                _estimator,
                max_side=max_side,
                max_pixels=max_pixels,
                storage_options=storage_options,
                parser=parser,
            )
        )
        progress.advance("persons")
    _log_problems(out)
    return out


# The wrapped functions keep their own names so that Dask can pickle them by reference.
task_prepare_cloth = task(
    prepare_cloth_items, name="prepare-cloth", retries=1, retry_delay_seconds=5,
    cache_policy=NO_CACHE,
)  # fmt: skip
task_prepare_person = task(
    prepare_person_items, name="prepare-person", retries=1, retry_delay_seconds=5,
    cache_policy=NO_CACHE,
)  # fmt: skip
