"""A tiny ONNX model written by hand (`tests.onnx_builder`), for testing the rembg masker
without the `onnx` package and without downloading a real network.

The model is one 1x1 convolution that sums the three normalised input channels with
weight -1: dark pixels score high, so after rembg's min-max scaling a dark garment on a
white backdrop comes out as foreground, like a (very) small salient-object network.
Input ``input.1`` (1, 3, 320, 320) float32 (u2net's), output (1, 1, 320, 320).
"""

from __future__ import annotations

import numpy as np

from tests.onnx_builder import conv1x1_model

__all__ = ["tiny_u2net_like_model"]


def tiny_u2net_like_model(size: int = 320) -> bytes:
    """Serialized ModelProto (opset 13) of the darkness detector described above."""
    weight, bias = np.full((1, 3), -1.0, np.float32), np.zeros(1, np.float32)
    return conv1x1_model(weight, bias, (size, size), input_name="input.1", output_name="out")
