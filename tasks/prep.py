"""Garment and person preparation tasks: one task per chunk of items, never per item
(thousands of tiny tasks cost Prefect more than the work).

The masker, classifier and human parser a run configures are built once per process and
shared by its chunks (`cloth_masker`, `garment_classifier`, `person_parser`): a rembg
masker hashes its model file and opens an ONNX session, a trained classifier or parser
loads its weights, which per chunk would cost seconds each, thousands of times a night.
They are keyed by the setting and by the size and mtime of every file it names, so a
model file replaced between runs of a long-lived worker is loaded afresh (and its new
digest recorded), never served from the old one. All three are safe to share between
threads: inference keeps no per-call state (rembg opens its session under a lock).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tasks import progress
from vton.cloth.classify import GarmentClassifier, make_classifier
from vton.cloth.masking import Masker, make_masker
from vton.cloth.prep import prepare_cloth
from vton.person.parsing import HumanParser, make_parser
from vton.person.pose import MediaPipePoseEstimator
from vton.person.prep import prepare_person
from vton.schemas import PersonRow, PreparedItem, ProductRow
from vton.storage import Store

__all__ = [
    "cloth_masker",
    "garment_classifier",
    "person_parser",
    "prepare_cloth_items",
    "prepare_person_items",
    "task_prepare_cloth",
    "task_prepare_person",
]

_estimator = MediaPipePoseEstimator()  # holds one graph per thread; cheap until first use


def _files_named(spec: str | None) -> tuple:
    """(path, size, mtime) of every existing file `spec` may name: the whole setting and
    each part after a ':' (``rembg:u2net:/models/x.onnx`` names ``/models/x.onnx``)."""
    if not spec:
        return ()
    candidates = [spec] + [spec[i + 1 :] for i, ch in enumerate(spec) if ch == ":"]
    stamps = []
    for path in candidates:
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            continue
        stamps.append((path, st.st_size, st.st_mtime_ns))
    return tuple(stamps)


@functools.lru_cache(maxsize=12)
def _built(make: Callable[[Any], Any], spec: str | None, files: tuple) -> Any:
    """`make(spec)`, once per (factory, setting, state of the files it names)."""
    return make(spec)


def cloth_masker(spec: str) -> Masker:
    """`make_masker(spec)`, built once per process while the files it names are unchanged."""
    return _built(make_masker, spec, _files_named(spec))


def garment_classifier(spec: str | None) -> GarmentClassifier:
    """`make_classifier(spec)`, built once per process while its file is unchanged."""
    return _built(make_classifier, spec, _files_named(spec))


def person_parser(spec: str | None) -> HumanParser:
    """`make_parser(spec)`, built once per process while its file is unchanged."""
    return _built(make_parser, spec, _files_named(spec))


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
    m, c = cloth_masker(masker), garment_classifier(classifier)  # once per process
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
    parser = person_parser(human_parser)  # once per process
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
