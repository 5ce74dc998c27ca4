"""An axis-aligned rectangle in pixel coordinates, shared by detection, encoding and redaction.

Boxes are floats so that mapping between a reduced working copy and the original photo loses
nothing; callers round only when they cut pixels.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    """Left/top/right/bottom edges in pixels of an upright image (right and bottom exclusive)."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.left + self.right) / 2, (self.top + self.bottom) / 2)

    def scaled(self, factor: float) -> Box:
        """The same region in an image resized by `factor` (e.g. working copy -> original)."""
        return Box(self.left * factor, self.top * factor, self.right * factor, self.bottom * factor)

    def shifted(self, dx: float, dy: float) -> Box:
        return Box(self.left + dx, self.top + dy, self.right + dx, self.bottom + dy)

    def grown(self, fraction: float) -> Box:
        """Grow each side by `fraction` of the width/height (a margin around a face)."""
        mx, my = self.width * fraction, self.height * fraction
        return Box(self.left - mx, self.top - my, self.right + mx, self.bottom + my)

    def clipped(self, width: int, height: int) -> Box:
        """Clip to an image of the given size so that cutting pixels never goes out of range."""
        return Box(
            min(max(self.left, 0.0), float(width)),
            min(max(self.top, 0.0), float(height)),
            min(max(self.right, 0.0), float(width)),
            min(max(self.bottom, 0.0), float(height)),
        )

    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)

    def intersection(self, other: Box) -> float:
        """Area the two boxes share."""
        iw = min(self.right, other.right) - max(self.left, other.left)
        ih = min(self.bottom, other.bottom) - max(self.top, other.top)
        return iw * ih if iw > 0 and ih > 0 else 0.0

    def iou(self, other: Box) -> float:
        """Intersection over union: how far two boxes describe the same object."""
        inter = self.intersection(other)
        return inter / (self.area() + other.area() - inter) if inter else 0.0

    def as_ints(self) -> tuple[int, int, int, int]:
        """Whole-pixel edges covering the box (floor the start, ceil the end), for slicing."""
        return (
            int(self.left // 1),
            int(self.top // 1),
            int(-(-self.right // 1)),
            int(-(-self.bottom // 1)),
        )
