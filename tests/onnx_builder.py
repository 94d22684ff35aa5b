"""A minimal ONNX model writer for tests: the protobuf wire format by hand.

Neither `onnx` nor a working `torch.onnx.export` is installed here (the exporter needs the
`onnx` package), so test models are serialised directly: a few ONNX message types (field
numbers from onnx/onnx.proto) written with protobuf's varint and length-delimited
encodings. Only what a one-convolution network (optionally followed by an ArgMax) needs is
covered: the rembg masker's and the human parser's test models.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FLOAT", "INT64", "conv1x1_model"]

FLOAT, INT64 = 1, 7  # TensorProto.DataType
ATTR_INT = 2  # AttributeProto.AttributeType


def _varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(num: int, data: bytes) -> bytes:
    """Length-delimited field (strings, bytes, sub-messages)."""
    return _varint(num << 3 | 2) + _varint(len(data)) + data


def _int(num: int, value: int) -> bytes:
    return _varint(num << 3) + _varint(value)


def _tensor(name: str, arr: np.ndarray) -> bytes:
    arr = np.ascontiguousarray(arr, dtype="<f4")
    dims = b"".join(_int(1, d) for d in arr.shape)
    return dims + _int(2, FLOAT) + _field(8, name.encode()) + _field(9, arr.tobytes())


def _value_info(name: str, elem_type: int, shape: tuple[int | str, ...] | None) -> bytes:
    tensor_type = _int(1, elem_type)
    if shape is not None:
        dims = b"".join(
            _field(1, _field(2, d.encode()) if isinstance(d, str) else _int(1, d)) for d in shape
        )
        tensor_type += _field(2, dims)
    return _field(1, name.encode()) + _field(2, _field(1, tensor_type))


def _node(op: str, inputs: list[str], outputs: list[str], attrs: bytes = b"") -> bytes:
    body = b"".join(_field(1, i.encode()) for i in inputs)
    body += b"".join(_field(2, o.encode()) for o in outputs)
    return body + _field(4, op.encode()) + attrs


def _int_attr(name: str, value: int) -> bytes:
    return _field(5, _field(1, name.encode()) + _int(3, value) + _int(20, ATTR_INT))


def conv1x1_model(
    weight: np.ndarray,
    bias: np.ndarray,
    input_hw: tuple[int | str, int | str],
    argmax: bool = False,
    *,
    input_name: str = "input",
    output_name: str = "logits",
) -> bytes:
    """Serialised ONNX model (opset 13): input (1, 3, H, W) float -> 1x1 Conv -> logits
    (1, C, H, W), or with `argmax` ids (1, H, W) int64 (named ``ids``). `weight` is (C, 3),
    `bias` (C,); H and W may be symbolic (str)."""
    c = weight.shape[0]
    nodes = _field(1, _node("Conv", [input_name, "W", "B"], [output_name]))
    out_name, out_type, out_shape = output_name, FLOAT, (1, c, *input_hw)
    if argmax:
        attrs = _int_attr("axis", 1) + _int_attr("keepdims", 0)
        nodes += _field(1, _node("ArgMax", [output_name], ["ids"], attrs))
        out_name, out_type, out_shape = "ids", INT64, (1, *input_hw)
    graph = (
        nodes
        + _field(2, b"parser")
        + _field(5, _tensor("W", weight.reshape(c, 3, 1, 1)))
        + _field(5, _tensor("B", bias.reshape(c)))
        + _field(11, _value_info(input_name, FLOAT, (1, 3, *input_hw)))
        + _field(12, _value_info(out_name, out_type, out_shape))
    )
    opset = _field(1, b"") + _int(2, 13)
    return _int(1, 8) + _field(2, b"vton-test") + _field(7, graph) + _field(8, opset)
