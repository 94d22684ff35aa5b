"""A tiny ONNX model written by hand (protobuf wire format), for testing the rembg masker
without the `onnx` package and without downloading a real network.

The model is one 1x1 convolution that sums the three normalised input channels with
weight -1: dark pixels score high, so after rembg's min-max scaling a dark garment on a
white backdrop comes out as foreground, like a (very) small salient-object network.
Input ``input.1`` (1, 3, 320, 320) float32 (u2net's), output (1, 1, 320, 320).
"""

from __future__ import annotations

import struct


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint((field << 3) | wire)


def _int(field: int, value: int) -> bytes:
    return _key(field, 0) + _varint(value)


def _bytes(field: int, value: bytes | str) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return _key(field, 2) + _varint(len(raw)) + raw


def _tensor(name: str, dims: list[int], values: list[float]) -> bytes:
    out = b"".join(_int(1, d) for d in dims)  # dims
    out += _int(2, 1)  # data_type FLOAT
    out += _bytes(8, name)
    out += _bytes(9, struct.pack(f"<{len(values)}f", *values))  # raw_data
    return out


def _value_info(name: str, dims: list[int]) -> bytes:
    shape = b"".join(_bytes(1, _int(1, d)) for d in dims)  # TensorShapeProto.dim
    tensor_type = _int(1, 1) + _bytes(2, shape)  # elem_type FLOAT, shape
    return _bytes(1, name) + _bytes(2, _bytes(1, tensor_type))  # name, TypeProto.tensor_type


def tiny_u2net_like_model(size: int = 320) -> bytes:
    """Serialized ModelProto (opset 13) of the darkness detector described above."""
    node = _bytes(1, "input.1") + _bytes(1, "W") + _bytes(1, "B")
    node += _bytes(2, "out") + _bytes(3, "conv") + _bytes(4, "Conv")
    graph = _bytes(1, node) + _bytes(2, "tiny")
    graph += _bytes(5, _tensor("W", [1, 3, 1, 1], [-1.0, -1.0, -1.0]))
    graph += _bytes(5, _tensor("B", [1], [0.0]))
    graph += _bytes(11, _value_info("input.1", [1, 3, size, size]))
    graph += _bytes(12, _value_info("out", [1, 1, size, size]))
    opset = _bytes(1, "") + _int(2, 13)
    return _int(1, 7) + _bytes(2, "vton-tests") + _bytes(7, graph) + _bytes(8, opset)
