"""Prepare one garment: decode, mask, normalise, find landmarks, store as an asset.

The asset directory is keyed by a digest of the photo's bytes, the masker and this stage's
version, and `meta.json` is written last: its presence means the asset is complete, so a
re-run that finds it skips the work, and a run killed half-way re-does it.

Asset layout (`assets/cloth/<product_id>/<digest>/`): `cloth.png` and `cloth-mask.png` at
256x192 (as VITON's `cloth/` and `cloth-mask/`), `cloth-hires.png` and
`cloth-hires-mask.png` at 1024x768, and `meta.json` (landmarks, category, masker, source).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from vton.catalog import read_input_bytes
from vton.cloth.landmarks import GarmentLandmarks, garment_landmarks
from vton.cloth.masking import Masker
from vton.cloth.normalise import CP_VTON_SIZE, HIRES_SIZE, normalise_garment
from vton.digest import digest_parts
from vton.errors import one_line, status_for_exception
from vton.imageio import decode_image, decode_mask, encode_image
from vton.paths import cloth_asset_dir
from vton.schemas import PreparedItem, ProductRow
from vton.storage import Store

__all__ = ["CLOTH_PREP_VERSION", "ClothAsset", "prepare_cloth", "load_cloth_asset"]

#: Bump when this stage's output changes for the same input: it re-keys every asset.
CLOTH_PREP_VERSION = "1"


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
) -> PreparedItem:
    """Prepare `product` into the store; never raises for a bad input, returns its status."""
    item = f"product {product.product_id}"
    try:
        data = read_input_bytes(product.image, storage_options)
    except Exception as exc:  # unreachable file or URL: may be transient, so "failed"
        return PreparedItem(
            "cloth",
            product.product_id,
            "failed",
            error=f"{item}: cannot read {product.image}: {one_line(exc)}",
        )
    digest = digest_parts("cloth", CLOTH_PREP_VERSION, masker.id, data)
    key = cloth_asset_dir(product.product_id, digest)
    try:
        if store.exists(f"{key}/meta.json"):
            meta = json.loads(store.read_text(f"{key}/meta.json"))
        else:
            meta = _prepare(store, key, product, data, masker, item, max_pixels)
    except Exception as exc:
        return PreparedItem(
            "cloth",
            product.product_id,
            status_for_exception(exc),
            digest=digest,
            error=one_line(exc),
        )
    return PreparedItem(
        "cloth",
        product.product_id,
        "ok",
        digest=digest,
        key=key,
        category=meta.get("category"),
        sleeve=meta.get("sleeve"),
    )


def _prepare(
    store: Store,
    key: str,
    product: ProductRow,
    data: bytes,
    masker: Masker,
    item: str,
    max_pixels: int,
) -> dict:
    decoded = decode_image(data, item, max_pixels=max_pixels)
    mask = masker.mask(decoded.rgb, decoded.alpha, item)
    cloth, cloth_mask = normalise_garment(decoded.rgb, mask, CP_VTON_SIZE)
    hires, hires_mask = normalise_garment(decoded.rgb, mask, HIRES_SIZE)
    landmarks = garment_landmarks(hires_mask, item)
    store.write_bytes(f"{key}/cloth.png", encode_image(cloth))
    store.write_bytes(f"{key}/cloth-mask.png", encode_image(cloth_mask))
    store.write_bytes(f"{key}/cloth-hires.png", encode_image(hires))
    store.write_bytes(f"{key}/cloth-hires-mask.png", encode_image(hires_mask))
    meta = {
        "product_id": product.product_id,
        "source": product.image,
        "source_size": list(decoded.rgb.shape[:2]),
        "masker": masker.id,
        "prep_version": CLOTH_PREP_VERSION,
        "category": product.category,
        "sleeve": product.sleeve,
        "category_source": "catalog" if product.category else None,
        "landmarks_hires": landmarks.to_dict(),
        "mask_fraction": float(np.count_nonzero(mask)) / mask.size,
    }
    store.write_text(f"{key}/meta.json", json.dumps(meta, indent=1))
    return meta


def load_cloth_asset(store: Store, key: str) -> ClothAsset:
    """Load a prepared garment's high-resolution image, mask and landmarks."""
    meta = json.loads(store.read_text(f"{key}/meta.json"))
    image = decode_image(store.read_bytes(f"{key}/cloth-hires.png"), key).rgb
    mask = decode_mask(store.read_bytes(f"{key}/cloth-hires-mask.png"), key)
    return ClothAsset(image, mask, GarmentLandmarks.from_dict(meta["landmarks_hires"]), meta)
