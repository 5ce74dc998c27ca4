"""dlib's face-recognition ResNet, with dlib's own weights, as an ONNX graph for onnxruntime.

Why: `dlib-bin` computes this network in 55 ms a face (no BLAS); onnxruntime runs the identical
network in about 2.6 ms, and a class photo has dozens of faces. Matching depends on the numbers, not
on who computes them: the encodings agree with `dlib.face_recognition_model_v1` to within 1e-6
(tests/faces/test_encode.py compares the two on real faces), far below the 0.45 threshold's
resolution, so templates enrolled with dlib's encoder still match.

The graph is built in memory from the weights in `face_recognition_models` (read by `dlib_file`),
once per process that starts the pool (`networks`, which hands it to the workers in a file of
its own); nothing is downloaded, and nothing is kept from one run to the next.
`encode.ResNetEncoder` runs it. The architecture is dlib's ResNet-29 from
dnn_face_recognition_ex.cpp: a 7x7 stem, then residual units (two 3x3 convolutions each) where a
down-sampling unit adds a 2x2 average pool of its input instead of the input itself. dlib adds two
tensors of different shapes as if both were zero-padded to the larger one (at the end of each
axis); `Pad` before `Add` does exactly that.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import helper, numpy_helper

from ijs_vetting.faces.dlib_file import (
    AddPrev,
    Affine,
    Conv,
    DlibFileError,
    FullyConnected,
    Layer,
    Pool,
    Relu,
    ResNetFile,
    read_resnet,
)

_L = TypeVar("_L", Conv, Affine, Pool, FullyConnected)

_INPUT = "chips"
_OUTPUT = "descriptors"
_OPSET = 17
# dlib's input layer scales (pixel - mean) by 1/256.
_PIXEL_SCALE = 1.0 / 256.0
# The two kinds of residual unit, as dlib serialises them from the input up.
_UNIT = (Conv, Affine, Relu, Conv, Affine, AddPrev, Relu)
_DOWN_UNIT = (Conv, Affine, Relu, Conv, Affine, Pool, AddPrev, Relu)


def encoder_graph(model_file: Path) -> tuple[bytes, int]:
    """The serialised graph of dlib's model file, and the side of the chips it takes."""
    network = read_resnet(model_file)
    graph = bytes(build_graph(network).SerializeToString())
    _return_freed_memory()
    return graph, network.input_size


class _Builder:
    """Collects ONNX nodes and weights; each op returns the name of its output."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.weights: list[onnx.TensorProto] = []
        self._count = 0

    def _name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def constant(self, values: NDArray[np.generic]) -> str:
        name = self._name("w")
        self.weights.append(numpy_helper.from_array(np.ascontiguousarray(values), name))
        return name

    def op(self, kind: str, inputs: Sequence[str], output: str | None = None, **attrs: Any) -> str:
        name = output or self._name(kind.lower())
        self.nodes.append(helper.make_node(kind, list(inputs), [name], **attrs))
        return name


def build_graph(network: ResNetFile) -> onnx.ModelProto:
    """The ONNX model of the network; onnxruntime validates it as it loads it."""
    build = _Builder()
    size = network.input_size
    # uint8 NHWC chips in, dlib's normalisation, NCHW float for the convolutions.
    mean = np.array(network.mean_rgb, dtype=np.float32).reshape(1, 1, 1, 3)
    x = build.op("Cast", [_INPUT], to=onnx.TensorProto.FLOAT)
    x = build.op("Sub", [x, build.constant(mean)])
    x = build.op("Mul", [x, build.constant(np.array(_PIXEL_SCALE, dtype=np.float32))])
    x = build.op("Transpose", [x], perm=[0, 3, 1, 2])
    shape = (3, size)  # (channels, side) of the tensor named x

    layers = list(network.layers)
    stem, layers = layers[:4], layers[4:]
    _expect(stem, (Conv, Affine, Relu, Pool))
    x, shape = _conv(build, x, shape, _as(stem[0], Conv))
    x = _relu(build, _affine(build, x, _as(stem[1], Affine)))
    x, shape = _pool(build, x, shape, _as(stem[3], Pool))

    while layers and isinstance(layers[0], Conv):
        down = len(layers) > 5 and isinstance(layers[5], Pool)
        unit, layers = (layers[:8], layers[8:]) if down else (layers[:7], layers[7:])
        _expect(unit, _DOWN_UNIT if down else _UNIT)
        x, shape = _residual(build, x, shape, unit)

    _expect(layers, (Pool, FullyConnected))
    if _as(layers[0], Pool).size != 0:
        raise DlibFileError("expected a global average pool before the descriptor layer")
    x = build.op("Flatten", [build.op("GlobalAveragePool", [x])])
    build.op("MatMul", [x, build.constant(_as(layers[1], FullyConnected).weights)], _OUTPUT)

    graph = helper.make_graph(
        build.nodes,
        "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info(_INPUT, onnx.TensorProto.UINT8, ["n", size, size, 3])],
        [helper.make_tensor_value_info(_OUTPUT, onnx.TensorProto.FLOAT, ["n", 128])],
        build.weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _OPSET)])
    model.ir_version = 8  # understood by every onnxruntime we support
    return model


def _return_freed_memory() -> None:
    """Building the graph passes the 22 MB of weights through several protobuf copies. Python
    frees them, but glibc keeps the pages (about 90 MB, measured); hand them
    back to the system. Other C libraries return large blocks by themselves."""
    if sys.platform != "linux":
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (e.g. musl)
        return
    libc.malloc_trim(0)


def _residual(
    build: _Builder, x: str, shape: tuple[int, int], unit: Sequence[Layer]
) -> tuple[str, tuple[int, int]]:
    """relu(block(x) + shortcut(x)), the shortcut being x or a 2x2 average pool of it."""
    y, y_shape = _conv(build, x, shape, _as(unit[0], Conv))
    y = _relu(build, _affine(build, y, _as(unit[1], Affine)))
    y, y_shape = _conv(build, y, y_shape, _as(unit[3], Conv))
    y = _affine(build, y, _as(unit[4], Affine))
    shortcut, s_shape = x, shape
    if isinstance(unit[5], Pool):
        shortcut, s_shape = _pool(build, x, shape, unit[5])
    out = (max(y_shape[0], s_shape[0]), max(y_shape[1], s_shape[1]))
    added = build.op(
        "Add", [_zero_padded(build, y, y_shape, out), _zero_padded(build, shortcut, s_shape, out)]
    )
    return _relu(build, added), out


def _conv(
    build: _Builder, x: str, shape: tuple[int, int], conv: Conv
) -> tuple[str, tuple[int, int]]:
    out_channels, in_channels, kernel, _ = conv.weights.shape
    if in_channels != shape[0]:
        raise DlibFileError(f"convolution expects {in_channels} channels, gets {shape[0]}")
    y = build.op(
        "Conv",
        [x, build.constant(conv.weights), build.constant(conv.bias)],
        kernel_shape=[kernel, kernel],
        strides=[conv.stride, conv.stride],
        pads=[conv.padding] * 4,
    )
    return y, (out_channels, (shape[1] + 2 * conv.padding - kernel) // conv.stride + 1)


def _affine(build: _Builder, x: str, affine: Affine) -> str:
    gamma = build.constant(affine.gamma.reshape(-1, 1, 1))
    return build.op(
        "Add", [build.op("Mul", [x, gamma]), build.constant(affine.beta.reshape(-1, 1, 1))]
    )


def _relu(build: _Builder, x: str) -> str:
    return build.op("Relu", [x])


def _pool(
    build: _Builder, x: str, shape: tuple[int, int], pool: Pool
) -> tuple[str, tuple[int, int]]:
    kind = "MaxPool" if pool.kind == "max" else "AveragePool"
    y = build.op(
        kind,
        [x],
        kernel_shape=[pool.size, pool.size],
        strides=[pool.stride, pool.stride],
        pads=[pool.padding] * 4,
    )
    return y, (shape[0], (shape[1] + 2 * pool.padding - pool.size) // pool.stride + 1)


def _zero_padded(build: _Builder, x: str, shape: tuple[int, int], target: tuple[int, int]) -> str:
    if shape == target:
        return x
    grow_channels, grow_side = target[0] - shape[0], target[1] - shape[1]
    pads = np.array([0, 0, 0, 0, 0, grow_channels, grow_side, grow_side], dtype=np.int64)
    return build.op("Pad", [x, build.constant(pads)], mode="constant")


def _expect(layers: Sequence[Layer], kinds: tuple[type, ...]) -> None:
    found = tuple(type(layer) for layer in layers)
    if found != kinds:
        names = ", ".join(kind.__name__ for kind in found)
        raise DlibFileError(f"unexpected layer sequence: {names}")


def _as(layer: Layer, kind: type[_L]) -> _L:
    if not isinstance(layer, kind):
        raise DlibFileError(f"expected {kind.__name__}, found {type(layer).__name__}")
    return layer
