"""Bad product photos through the whole cloth stage (`prepare_cloth`).

Each case is one test: the stage never raises, and returns either a usable asset (the right
garment, in the right colours) or status ``invalid`` with a reason a person can act on.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from tests.conftest import garment_spec
from vton.cloth.masking import ClassicalMasker
from vton.cloth.prep import prepare_cloth
from vton.imageio import decode_image, decode_mask
from vton.schemas import ProductRow
from vton.storage import Store
from vton.synthetic_garments import render_garment

MAX_PIXELS = 4_000_000


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _tee(colour=(30, 60, 140)):
    """A navy tee on white (360x480) and its exact mask."""
    return render_garment(garment_spec("g", "tee", "plain", colour))


@pytest.fixture
def run(tmp_path):
    """Write `data` as a product photo and prepare it into a fresh in-memory store."""
    counter = iter(range(1000))

    def _run(data: bytes, suffix: str = "jpg"):
        i = next(counter)
        path = tmp_path / f"p{i}.{suffix}"
        path.write_bytes(data)
        store = Store(f"memory://bad-input-{id(tmp_path)}-{i}")
        row = ProductRow(f"p{i}", str(path), category="top", sleeve="short")
        item = prepare_cloth(store, row, ClassicalMasker(), max_pixels=MAX_PIXELS)
        return item, store

    return _run


def _asset(store: Store, item) -> tuple[np.ndarray, np.ndarray, dict]:
    rgb = decode_image(store.read_bytes(f"{item.key}/cloth.png"), "cloth").rgb
    mask = decode_mask(store.read_bytes(f"{item.key}/cloth-mask.png"), "mask")
    return rgb, mask, json.loads(store.read_text(f"{item.key}/meta.json"))


def _invalid(item, reason: str) -> None:
    assert item.status == "invalid", item
    assert item.key is None and reason in item.error, item.error
    assert item.error.startswith(f"product {item.item_id}")


def test_zero_byte_file(run):
    item, _ = run(b"")
    _invalid(item, "empty (0 bytes)")


def test_truncated_jpeg(run):
    data = _save(Image.fromarray(_tee().image), "JPEG", quality=90)
    item, _ = run(data[: len(data) // 2])
    _invalid(item, "corrupt or truncated")


def test_not_an_image(run):
    item, _ = run(b"product_id,image\ntee-1,tee.jpg\n", "jpg")
    _invalid(item, "not an image")


def test_decompression_bomb(run):
    # 5000x5000 of a single colour compresses to a few KB but would be 75 MB decoded.
    item, _ = run(_save(Image.new("L", (5000, 5000), 255), "PNG"), "png")
    _invalid(item, "over the limit")


def test_cmyk_jpeg_is_prepared_in_the_right_colours(run):
    g = _tee((200, 30, 30))
    cmyk = Image.fromarray(g.image).convert("CMYK")
    item, store = run(_save(cmyk, "JPEG", quality=95))
    assert item.status == "ok", item.error
    rgb, mask, _ = _asset(store, item)
    inside = rgb[mask > 0].astype(float).mean(0)
    assert inside[0] > 150 and inside[1] < 80 and inside[2] < 80  # red stays red


def test_16_bit_png_is_prepared(run):
    g = _tee()
    grey16 = (g.image.mean(axis=2) * 257).astype(np.uint16)  # 0..65535
    item, store = run(_save(Image.fromarray(grey16), "PNG"), "png")
    assert item.status == "ok", item.error
    _, _, meta = _asset(store, item)
    assert meta["mask_fraction"] == pytest.approx((g.mask > 0).mean(), rel=0.05)


def test_palette_png_with_transparency_uses_its_alpha(run):
    g = _tee()
    pal = Image.fromarray(g.image).quantize(colors=16)
    alpha = np.where(g.mask > 0, 255, 0).astype(np.uint8)
    # Make the backdrop's palette entry the transparent one: a cut-out on a *black* backdrop,
    # which the colour rules alone would read differently.
    idx = np.asarray(pal).copy()
    idx[alpha == 0] = 15
    palette = pal.getpalette()[: 16 * 3]
    palette[45:48] = [0, 0, 0]
    img = Image.fromarray(idx.astype(np.uint8), mode="P")
    img.putpalette(palette)
    item, store = run(_save(img, "PNG", transparency=15), "png")
    assert item.status == "ok", item.error
    _, _, meta = _asset(store, item)
    assert "alpha" in meta["mask_notes"] and meta["mask_confidence"] == 1.0
    assert meta["mask_fraction"] == pytest.approx((g.mask > 0).mean(), rel=0.02)


def test_animated_gif_uses_the_first_frame(run):
    g = _tee((30, 60, 140))
    blank = Image.new("RGB", (g.image.shape[1], g.image.shape[0]), (255, 255, 255))
    buf = io.BytesIO()
    Image.fromarray(g.image).save(buf, format="GIF", save_all=True, append_images=[blank])
    item, store = run(buf.getvalue(), "gif")
    assert item.status == "ok", item.error
    _, _, meta = _asset(store, item)
    assert meta["mask_fraction"] == pytest.approx((g.mask > 0).mean(), rel=0.05)


def test_one_pixel_image(run):
    item, _ = run(_save(Image.new("RGB", (1, 1), (20, 20, 20)), "PNG"), "png")
    _invalid(item, "smaller than")


def test_extreme_aspect_ratio(run):
    banner = np.full((40, 800, 3), 255, np.uint8)
    banner[10:30, 100:700] = (30, 60, 140)
    item, _ = run(_save(Image.fromarray(banner), "PNG"), "png")
    _invalid(item, "aspect ratio 1:20")


def test_all_background(run):
    rng = np.random.default_rng(0)
    flat = (np.full((480, 360, 3), 246.0) + rng.normal(0, 2, (480, 360, 3))).clip(0, 255)
    item, _ = run(_save(Image.fromarray(flat.astype(np.uint8)), "JPEG", quality=85))
    _invalid(item, "all background")


def test_a_good_photo_after_bad_ones_still_works(run):
    # The run goes on: bad items do not poison the stage for the next one.
    run(b"")
    run(b"garbage")
    item, store = run(_save(Image.fromarray(_tee().image), "JPEG", quality=92))
    assert item.status == "ok", item.error
    _, mask, meta = _asset(store, item)
    assert mask.shape == (256, 192) and meta["mask_confidence"] >= 0.5


def test_directory_is_invalid_not_failed(tmp_path):
    """A directory can never be read as a file: `invalid`, so rerun-failed leaves it."""
    (tmp_path / "folder.jpg").mkdir()
    row = ProductRow("dir", str(tmp_path / "folder.jpg"), category="top", sleeve="short")
    item = prepare_cloth(
        Store("memory://bad-input-dir"), row, ClassicalMasker(), max_pixels=MAX_PIXELS
    )
    _invalid(item, "IsADirectoryError")


def test_missing_file_is_failed_so_a_rerun_retries_it(tmp_path):
    row = ProductRow("gone", str(tmp_path / "later.jpg"), category="top", sleeve="short")
    item = prepare_cloth(
        Store("memory://bad-input-gone"), row, ClassicalMasker(), max_pixels=MAX_PIXELS
    )
    assert item.status == "failed" and "FileNotFoundError" in item.error
