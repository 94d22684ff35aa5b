"""The cloth stage end to end: normalised canvases, and doubtful masks noted in the index."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from vton.cloth.masking import ClassicalMasker
from vton.cloth.normalise import CP_VTON_SIZE, HIRES_SIZE, normalise_garment
from vton.cloth.prep import prepare_cloth
from vton.cloth.synthetic_hard import render_hard
from vton.imageio import decode_image, decode_mask, encode_image
from vton.schemas import ProductRow
from vton.storage import Store


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 0, b > 0
    return float((a & b).sum()) / max(float((a | b).sum()), 1.0)


def test_normalised_canvases_agree_and_centre_the_garment():
    s = render_hard(26, long_side=600)
    lo_img, lo_mask = normalise_garment(s.image, s.mask, CP_VTON_SIZE)
    hi_img, hi_mask = normalise_garment(s.image, s.mask, HIRES_SIZE)
    assert lo_img.shape == (256, 192, 3) and hi_img.shape == (1024, 768, 3)
    assert lo_mask.dtype == np.uint8 and set(np.unique(lo_mask)) <= {0, 255}
    # The high-resolution copy is the same layout, 4x: shrunk, it matches the small one.
    shrunk = cv2.resize(hi_mask, (192, 256), interpolation=cv2.INTER_AREA)
    assert _iou(np.where(shrunk >= 128, 255, 0), lo_mask) > 0.95
    for img, mask in ((lo_img, lo_mask), (hi_img, hi_mask)):
        h, w = mask.shape
        ys, xs = np.nonzero(mask)
        assert abs((ys.min() + ys.max()) / 2 - h / 2) <= 0.01 * h + 1  # centred
        assert abs((xs.min() + xs.max()) / 2 - w / 2) <= 0.01 * w + 1
        fill = max((ys.max() - ys.min() + 1) / h, (xs.max() - xs.min() + 1) / w)
        assert fill == pytest.approx(0.9, abs=0.02)  # scaled to fill 90 %
        assert (img[mask == 0] == 255).all()  # white canvas around the garment
    # The garment keeps its colours (the photo's own pixels inside the mask).
    inside = s.image[s.mask > 0].astype(float).mean(0)
    assert np.abs(lo_img[lo_mask > 0].astype(float).mean(0) - inside).max() < 12


def test_normalise_refuses_mismatched_or_empty_masks():
    img = np.full((40, 30, 3), 255, np.uint8)
    with pytest.raises(ValueError, match="differ in size"):
        normalise_garment(img, np.zeros((40, 31), np.uint8))
    with pytest.raises(ValueError, match="empty mask"):
        normalise_garment(img, np.zeros((40, 30), np.uint8))


def _prepare(tmp_path, seed: int, scene: str):
    s = render_hard(seed, long_side=400, scene=scene)
    path = tmp_path / f"{seed}.jpg"
    path.write_bytes(encode_image(s.image, "jpg", quality=95))
    store = Store(f"memory://prep-{id(tmp_path)}-{seed}")
    row = ProductRow(f"p{seed}", str(path), category=s.category, sleeve=s.sleeve)
    item = prepare_cloth(store, row, ClassicalMasker(), max_pixels=4_000_000)
    return s, item, store


def test_a_good_flat_lay_is_prepared_without_a_note(tmp_path):
    s, item, store = _prepare(tmp_path, 7017, "flatlay")  # a jacket on wooden planks
    assert item.status == "ok" and "low-confidence-mask" not in item.notes, item
    meta = json.loads(store.read_text(f"{item.key}/meta.json"))
    assert meta["masker"] == "classical-v5" and "flat-lay" in meta["mask_notes"]
    mask = decode_mask(store.read_bytes(f"{item.key}/cloth-mask.png"), "m")
    expected = normalise_garment(s.image, s.mask, CP_VTON_SIZE)[1]
    assert _iou(mask, expected) > 0.9
    rgb = decode_image(store.read_bytes(f"{item.key}/cloth-hires.png"), "c").rgb
    assert rgb.shape == (1024, 768, 3)


def test_a_doubtful_mask_is_kept_and_noted_low_confidence(tmp_path):
    # Shorts on a printed bedspread of the same colours: the masker cannot tell, says so,
    # and the index carries the note instead of a silently bad garment.
    _, item, store = _prepare(tmp_path, 7001, "flatlay")
    assert item.status == "ok", item
    assert "low-confidence-mask" in item.notes
    meta = json.loads(store.read_text(f"{item.key}/meta.json"))
    assert meta["mask_confidence"] < 0.5
