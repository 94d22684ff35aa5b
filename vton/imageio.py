"""Decoding and encoding images at the edges of the pipeline.

Files and numpy arrays are HWC uint8 RGB, 0..255; masks are HW uint8 {0, 255}.
`vton.tensors` converts to and from torch.

Decoding is defensive because catalogs are not clean: EXIF orientation is applied, every
mode (CMYK, 16-bit, palette with transparency, LA, RGBA) becomes RGB, transparency is kept
as an alpha plane for the masker, animated files give their first frame, and Pillow's
decompression-bomb guard is an error rather than a warning.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from vton.errors import InvalidInputError

__all__ = [
    "DecodedImage",
    "decode_image",
    "encode_image",
    "decode_mask",
    "resize_image",
    "resize_mask",
]

#: Pillow's own default is ~89 Mpx with an error at twice that. 64 Mpx is an 8000x8000 photo:
#: larger than any product shot needs, small enough that one decode stays under ~200 MB.
DEFAULT_MAX_PIXELS = 64_000_000
MIN_SIDE = 8


@dataclass(frozen=True)
class DecodedImage:
    """A decoded photo.

    rgb: (H, W, 3) uint8 RGB, transparency composited onto white.
    alpha: (H, W) uint8 0..255 when the file had real transparency, else None.
    """

    rgb: np.ndarray
    alpha: np.ndarray | None


def _to_8bit(img: Image.Image) -> Image.Image:
    """16-bit and float modes to 8-bit L, scaling by the actual value range of the format."""
    arr = np.asarray(img)
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        scaled = (arr.astype(np.float32) / 257.0).round()
    elif img.mode == "I":
        top = 65535.0 if arr.max() > 255 else 255.0
        scaled = (arr.astype(np.float32) * (255.0 / top)).round()
    else:  # "F"
        lo, hi = float(arr.min()), float(arr.max())
        scaled = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
    return Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8), mode="L")


def decode_image(data: bytes, item: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> DecodedImage:
    """Decode image bytes into RGB (+ alpha), or raise `InvalidInputError` naming `item`.

    Parameters
    ----------
    data : bytes
        The file's content.
    item : str
        Names the input in error messages (``product tee-1``).
    max_pixels : int
        Images with more pixels are refused before their pixels are decoded.
    """
    if not data:
        raise InvalidInputError(item, "image file is empty (0 bytes)")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > max_pixels:
                raise InvalidInputError(
                    item, f"image is {w}x{h} = {w * h} pixels, over the limit of {max_pixels}"
                )
            img.seek(0)  # animated GIF/WebP/APNG: the first frame
            img.load()
        except InvalidInputError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise InvalidInputError(item, f"image refused as a decompression bomb: {exc}") from exc
        except UnidentifiedImageError as exc:
            raise InvalidInputError(item, "not an image (unrecognised file format)") from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise InvalidInputError(item, f"corrupt or truncated image: {exc}") from exc
    if min(w, h) < MIN_SIDE:
        raise InvalidInputError(item, f"image is {w}x{h}, smaller than {MIN_SIDE} px on a side")
    # A broken EXIF block must not lose an otherwise good image.
    with contextlib.suppress(Exception):
        img = ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        img = _to_8bit(img)
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("LA", "La", "PA"):
        img = img.convert("RGBA")
    if img.mode == "RGBa":
        img = img.convert("RGBA")
    alpha = None
    if img.mode == "RGBA":
        a = np.asarray(img.getchannel("A"))
        if int(a.min()) < 255:
            alpha = a.copy()
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img)
    # CMYK (Pillow inverts Adobe CMYK JPEGs on load), YCbCr, L, 1, HSV, LAB...
    rgb = np.asarray(img.convert("RGB")).copy()
    return DecodedImage(rgb=rgb, alpha=alpha)


def decode_mask(data: bytes, item: str) -> np.ndarray:
    """Decode a stored mask PNG into (H, W) uint8 {0, 255}."""
    try:
        arr = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
    except (OSError, UnidentifiedImageError) as exc:
        raise InvalidInputError(item, f"corrupt mask: {exc}") from exc
    return np.where(arr >= 128, 255, 0).astype(np.uint8)


#: zlib level for PNG. Level 1 encodes a 512x512 photo in ~22 ms against ~70 ms at PIL's
#: default 6, for files ~8 % larger; at 6, a pair's warped-cloth PNG cost the renderer's
#: 2-core machine as much CPU as a third of the network (benchmarks/bench_shard.py).
PNG_COMPRESS_LEVEL = 1


def encode_image(arr: np.ndarray, fmt: str = "png", quality: int = 92) -> bytes:
    """Encode (H, W, 3) or (H, W) uint8 to bytes. `fmt` is png, jpg/jpeg or webp."""
    if arr.dtype != np.uint8:
        raise TypeError(f"encode_image expects uint8, got {arr.dtype}")
    if arr.ndim not in (2, 3):
        raise ValueError(f"encode_image expects (H, W) or (H, W, 3), got {arr.shape}")
    img = Image.fromarray(arr)
    buf = io.BytesIO()
    fmt = fmt.lower()
    if fmt in ("jpg", "jpeg"):
        # No `optimize`: it doubles encode time for ~3 % smaller files.
        img.save(buf, format="JPEG", quality=quality, subsampling=0)
    elif fmt == "webp":
        img.save(buf, format="WEBP", quality=quality, method=4)
    elif fmt == "png":
        img.save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    else:
        raise ValueError(f"unknown image format {fmt!r}; expected png, jpg or webp")
    return buf.getvalue()


def resize_image(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize (H, W, 3) uint8 to `size` = (height, width) with PIL's antialiased bicubic."""
    h, w = size
    return np.asarray(Image.fromarray(arr).resize((w, h), Image.Resampling.BICUBIC))


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize (H, W) uint8 {0, 255} to `size` = (height, width), staying binary."""
    h, w = size
    soft = np.asarray(Image.fromarray(mask).resize((w, h), Image.Resampling.BILINEAR))
    return np.where(soft >= 128, 255, 0).astype(np.uint8)
