"""Decoding real-world files: each bad case gives a result or a clear InvalidInputError."""

import io

import numpy as np
import pytest
from PIL import Image

from vton.errors import InvalidInputError
from vton.imageio import decode_image, encode_image


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _rgb(h=64, w=48):
    arr = np.zeros((h, w, 3), np.uint8)
    arr[..., 0] = 200
    return Image.fromarray(arr)


def test_zero_bytes():
    with pytest.raises(InvalidInputError, match="p1: image file is empty"):
        decode_image(b"", "p1")


def test_truncated_jpeg():
    data = _save(_rgb(200, 200), "JPEG")
    with pytest.raises(InvalidInputError, match="corrupt or truncated"):
        decode_image(data[: len(data) // 2], "p1")


def test_not_an_image():
    with pytest.raises(InvalidInputError, match="not an image"):
        decode_image(b"product_id,image\n", "p1")


def test_decompression_bomb_refused_before_decoding():
    data = _save(Image.new("L", (3000, 3000)), "PNG")
    with pytest.raises(InvalidInputError, match="over the limit"):
        decode_image(data, "p1", max_pixels=1_000_000)


def test_cmyk_jpeg_becomes_rgb():
    data = _save(Image.new("CMYK", (40, 30), (0, 255, 255, 0)), "JPEG")
    out = decode_image(data, "p1")
    assert out.rgb.shape == (30, 40, 3) and out.rgb.dtype == np.uint8
    assert out.rgb[..., 0].mean() > 200 and out.rgb[..., 1].mean() < 60  # red stays red


def test_16_bit_png_is_scaled_not_clipped():
    arr = np.full((20, 20), 32768, np.uint16)
    data = _save(Image.fromarray(arr), "PNG")
    out = decode_image(data, "p1")
    assert abs(int(out.rgb[0, 0, 0]) - 128) <= 1


def test_palette_png_with_transparency_keeps_alpha():
    img = Image.new("P", (20, 20), 0)
    img.putpalette([255, 0, 0] + [0, 0, 255] * 255)
    img.paste(1, (5, 5, 15, 15))
    data = _save(img, "PNG", transparency=0)
    out = decode_image(data, "p1")
    assert out.alpha is not None
    assert out.alpha[0, 0] == 0 and out.alpha[10, 10] == 255
    assert tuple(out.rgb[0, 0]) == (255, 255, 255)  # transparent -> white
    assert tuple(out.rgb[10, 10]) == (0, 0, 255)


def test_animated_gif_gives_first_frame():
    frames = [Image.new("RGB", (16, 16), c) for c in ((255, 0, 0), (0, 255, 0))]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    out = decode_image(buf.getvalue(), "p1")
    assert out.rgb[8, 8, 0] > 200 and out.rgb[8, 8, 1] < 50


def test_one_pixel_image_refused():
    with pytest.raises(InvalidInputError, match="smaller than"):
        decode_image(_save(Image.new("RGB", (1, 1)), "PNG"), "p1")


def test_exif_orientation_applied():
    img = _rgb(20, 40)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    out = decode_image(_save(img, "JPEG", exif=exif), "p1")
    assert out.rgb.shape == (40, 20, 3)


def test_encode_round_trip_png():
    arr = np.random.default_rng(0).integers(0, 255, (10, 12, 3), dtype=np.uint8)
    assert np.array_equal(decode_image(encode_image(arr, "png"), "x").rgb, arr)
