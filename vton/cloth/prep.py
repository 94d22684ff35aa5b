"""Prepare one garment: decode, mask, classify, normalise, find landmarks, store as an asset.

The asset directory is keyed by a digest of the photo's bytes, the masker, the classifier
and this stage's version, and `meta.json` is written last: its presence means the asset is
complete, so a re-run that finds it skips the work, and a run killed half-way re-does it.

Asset layout (`assets/cloth/<product_id>/<digest>/`): `cloth.png` and `cloth-mask.png` at
256x192 (as VITON's `cloth/` and `cloth-mask/`), `cloth-hires.png` and
`cloth-hires-mask.png` at 1024x768, and `meta.json`: source, masker and its confidence, the
predicted category and sleeve (with source and confidence), the landmarks.

Catalog metadata wins over the prediction, and is applied each time an item is prepared
(not frozen into the asset), so correcting a catalog's category takes effect on the next
run without re-masking. Items the cloth stage cannot use get a clear reason; uncertain
ones are kept and noted (``low-confidence-mask``, ``low-confidence-category``) so the index
says so rather than passing them on silently.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from vton.catalog import read_input_bytes
from vton.cloth.classify import (
    Classification,
    GarmentClassifier,
    make_classifier,
    resolve_classification,
)
from vton.cloth.landmarks import GarmentLandmarks, garment_landmarks
from vton.cloth.masking import LOW_CONFIDENCE, Masker, segment
from vton.cloth.normalise import CP_VTON_SIZE, HIRES_SIZE, normalise_garment
from vton.digest import digest_parts
from vton.errors import InvalidInputError, one_line
from vton.failures import failure_status
from vton.imageio import decode_image, decode_mask, encode_image
from vton.paths import cloth_asset_dir
from vton.plan import RENDERABLE_CATEGORIES
from vton.schemas import PreparedItem, ProductRow
from vton.storage import Store

__all__ = [
    "CLOTH_PREP_VERSION",
    "LOW_CATEGORY_CONFIDENCE",
    "MAX_ASPECT",
    "ClothAsset",
    "load_cloth_asset",
    "prepare_cloth",
]

#: Bump when this stage's output changes for the same input: it re-keys every asset.
CLOTH_PREP_VERSION = "3"
#: A product photo is never narrower than this (long side / short side): 1:20 is a banner.
MAX_ASPECT = 8.0
#: Predicted categories below this confidence get a ``low-confidence-category`` note.
LOW_CATEGORY_CONFIDENCE = 0.6


@dataclass(frozen=True)
class ClothAsset:
    """A prepared garment, loaded for rendering.

    image, mask: (1024, 768, 3) uint8 RGB on white and (1024, 768) uint8 {0, 255}.
    landmarks: measured on that high-resolution canvas.
    """

    image: np.ndarray
    mask: np.ndarray
    landmarks: GarmentLandmarks
    meta: dict


def prepare_cloth(
    store: Store,
    product: ProductRow,
    masker: Masker,
    *,
    max_pixels: int,
    storage_options: Mapping[str, Any] | None = None,
    classifier: GarmentClassifier | None = None,
    min_category_confidence: float = LOW_CATEGORY_CONFIDENCE,
) -> PreparedItem:
    """Prepare `product` into the store; never raises for a bad input, returns its status.

    `classifier` predicts category and sleeve where the catalog has none (default:
    ``make_classifier(None)``, the CNN shipped with the package, or the silhouette rules
    when a source tree lacks its weights). The returned item carries the catalog's
    category and sleeve where given, else the prediction, and notes for an uncertain mask
    or category.
    """
    item = f"product {product.product_id}"
    classifier = classifier or make_classifier(None)  # cached per process
    try:
        data = read_input_bytes(product.image, storage_options)
    except Exception as exc:
        return PreparedItem(
            "cloth",
            product.product_id,
            failure_status(exc),  # vton.failures: permanent or not
            error=f"{item}: cannot read {product.image}: {one_line(exc)}",
        )
    digest = digest_parts("cloth", CLOTH_PREP_VERSION, masker.id, classifier.id, data)
    key = cloth_asset_dir(product.product_id, digest)
    try:
        if store.exists(f"{key}/meta.json"):
            meta = json.loads(store.read_text(f"{key}/meta.json"))
        else:
            meta = _prepare(store, key, product, data, masker, classifier, item, max_pixels)
        resolved = _resolve(meta, product)
        if (
            resolved is not None
            and resolved.category in RENDERABLE_CATEGORIES
            and meta.get("landmarks_hires") is None
        ):
            raise InvalidInputError(item, meta.get("landmarks_error") or "no garment landmarks")
    except Exception as exc:
        return PreparedItem(
            "cloth",
            product.product_id,
            failure_status(exc),
            digest=digest,
            error=one_line(exc),
        )
    notes = []
    if meta.get("mask_confidence", 1.0) < LOW_CONFIDENCE:
        notes.append("low-confidence-mask")
    if (
        resolved is not None
        and resolved.source != "catalog"
        and resolved.category_confidence < min_category_confidence
    ):
        notes.append("low-confidence-category")
    return PreparedItem(
        "cloth",
        product.product_id,
        "ok",
        digest=digest,
        key=key,
        category=resolved.category if resolved else None,
        sleeve=resolved.sleeve if resolved else None,
        notes=tuple(notes),
    )


def _resolve(meta: dict, product: ProductRow) -> Classification | None:
    p = meta.get("predicted")
    predicted = Classification(**p) if p else None
    return resolve_classification(predicted, product.category, product.sleeve)


def _prepare(
    store: Store,
    key: str,
    product: ProductRow,
    data: bytes,
    masker: Masker,
    classifier: GarmentClassifier,
    item: str,
    max_pixels: int,
) -> dict:
    decoded = decode_image(data, item, max_pixels=max_pixels)
    h, w = decoded.rgb.shape[:2]
    if max(h, w) > MAX_ASPECT * min(h, w):
        raise InvalidInputError(
            item,
            f"image is {w}x{h} (aspect ratio 1:{max(h, w) / min(h, w):.0f}); a product photo "
            f"is at most 1:{MAX_ASPECT:.0f}",
        )
    result = segment(masker, decoded.rgb, decoded.alpha, item)
    cloth, cloth_mask = normalise_garment(decoded.rgb, result.mask, CP_VTON_SIZE)
    hires, hires_mask = normalise_garment(decoded.rgb, result.mask, HIRES_SIZE)
    # The photo itself: the shipped CNN was trained on whole photos (the silhouette rules
    # normalise the garment themselves).
    predicted = classifier.classify(decoded.rgb, result.mask)
    resolved = resolve_classification(predicted, product.category, product.sleeve)
    landmarks, landmarks_error = None, None
    try:
        landmarks = garment_landmarks(hires_mask, item).to_dict()
    except InvalidInputError as exc:  # fine for trousers: only tops are rendered
        landmarks_error = exc.reason
    store.write_bytes(f"{key}/cloth.png", encode_image(cloth))
    store.write_bytes(f"{key}/cloth-mask.png", encode_image(cloth_mask))
    store.write_bytes(f"{key}/cloth-hires.png", encode_image(hires))
    store.write_bytes(f"{key}/cloth-hires-mask.png", encode_image(hires_mask))
    meta = {
        "product_id": product.product_id,
        "source": product.image,
        "source_size": [h, w],
        "prep_version": CLOTH_PREP_VERSION,
        "masker": masker.id,
        "mask_confidence": round(result.confidence, 4),
        "mask_notes": list(result.notes),
        "mask_fraction": float(np.count_nonzero(result.mask)) / result.mask.size,
        "classifier": classifier.id,
        "predicted": predicted.to_dict(),
        # As resolved with the catalog row of the run that prepared the asset; later runs
        # resolve again with their own row (see `prepare_cloth`).
        "category": resolved.category,
        "sleeve": resolved.sleeve,
        "category_source": resolved.source,
        "category_confidence": round(resolved.category_confidence, 4),
        "sleeve_confidence": resolved.sleeve_confidence,
        "landmarks_hires": landmarks,
        "landmarks_error": landmarks_error,
    }
    store.write_text(f"{key}/meta.json", json.dumps(meta, indent=1))
    return meta


def load_cloth_asset(store: Store, key: str) -> ClothAsset:
    """Load a prepared garment's high-resolution image, mask and landmarks."""
    meta = json.loads(store.read_text(f"{key}/meta.json"))
    if meta.get("landmarks_hires") is None:
        raise InvalidInputError(
            f"garment {meta.get('product_id', key)}",
            meta.get("landmarks_error") or "no garment landmarks",
        )
    image = decode_image(store.read_bytes(f"{key}/cloth-hires.png"), key).rgb
    mask = decode_mask(store.read_bytes(f"{key}/cloth-hires-mask.png"), key)
    return ClothAsset(image, mask, GarmentLandmarks.from_dict(meta["landmarks_hires"]), meta)
