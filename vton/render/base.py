"""The renderer interface every try-on method plugs into.

A renderer is pure compute: it gets loaded assets (numpy arrays) and returns arrays. The
shard runner (`vton.render.shard`) does the I/O around it, batching, skip checks and the
index, so a new method (physical, CP-VTON, CP-VTON+) only implements `render_batch`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vton.cloth.prep import ClothAsset
from vton.person.prep import PersonAsset

__all__ = ["RenderRequest", "RenderOutput", "Renderer", "PairwiseRenderer"]


@dataclass(frozen=True)
class RenderRequest:
    """One pair to render. `cloth_key` / `person_key` name the assets (their store keys):
    a renderer may keep per-asset work (network features) under them, since a shard meets
    each garment and person in many pairs; None means "do not cache"."""

    pair_id: str
    cloth: ClothAsset
    person: PersonAsset
    cloth_key: str | None = None
    person_key: str | None = None


@dataclass(frozen=True)
class RenderOutput:
    """tryon: (H, W, 3) uint8 RGB at the person image's size; warped_cloth: (H, W, 3)
    uint8, the garment warped onto the body; composition_mask: (H, W) uint8 0..255, where
    the warped garment was blended in (None when a method has no such intermediate: then
    nothing is published for it and its URI in the index is null). `notes` are non-fatal
    observations for the index."""

    tryon: np.ndarray
    warped_cloth: np.ndarray | None
    composition_mask: np.ndarray | None
    notes: tuple[str, ...] = ()


class Renderer(ABC):
    """A try-on method. Subclasses set `name` and implement `render_batch`."""

    #: Stable name: part of output paths and of every index row.
    name: str = ""
    #: Pairs per `render_batch` call (networks batch; weight-free methods need not).
    batch_size: int = 1
    #: Whether rendering occupies a GPU (the orchestration then limits shards per GPU).
    uses_gpu: bool = False

    @property
    @abstractmethod
    def model_digest(self) -> str:
        """Digest of everything that makes this renderer's output what it is (weights,
        code version, parameters); part of each pair's input digest."""

    @abstractmethod
    def render_batch(self, requests: Sequence[RenderRequest]) -> list[RenderOutput | Exception]:
        """Render each request; a pair that cannot be rendered gets its exception in place
        of an output, and the others are still returned."""


class PairwiseRenderer(Renderer):
    """A method that renders one pair at a time (no batching to gain): implement
    `render_one`, which raises for a pair it cannot render; the others still render."""

    @abstractmethod
    def render_one(self, req: RenderRequest) -> RenderOutput:
        """Render one pair; raise (e.g. `InvalidInputError`) when it cannot be rendered."""

    def render_batch(self, requests: Sequence[RenderRequest]) -> list[RenderOutput | Exception]:
        out: list[RenderOutput | Exception] = []
        for req in requests:
            try:
                out.append(self.render_one(req))
            except Exception as exc:
                out.append(exc)
        return out
