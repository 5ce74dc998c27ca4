"""Checking a rendering with the real engine's findings before it may be queued.

The rendering is judged by what a machine can still get out of it, not by how it was made:
- a face found with its centre inside a masked head, or on top of a face that was to be masked,
  means the mask did not do its job (too weak a blur, or a face beside the one masked);
- a face that matches a child who may not be shown in this photo (anyone but the children the
  clearance shows) means a child would be published without consent, wherever that face is;
- any face the engine can find that is not one of the faces decided "show" (a face marked "not a
  face", a child without templates, a face missed at vetting) has nobody's consent: fail closed.
Pure: the engine's results come in as plain data, so the decision is testable on its own.
"""

from __future__ import annotations

from collections.abc import Sequence, Set

from ijs_vetting.faces.match import TemplateSet
from ijs_vetting.faces.results import PhotoAnalysis
from ijs_vetting.imaging.box import Box
from ijs_vetting.imaging.redact import in_mask
from ijs_vetting.imaging.render import Rendering
from ijs_vetting.policy import Thresholds

# A detection overlapping a masked face box this much is that face, found again.
SAME_FACE_IOU = 0.3


def verify_rendering(
    analysis: PhotoAnalysis,
    rendering: Rendering,
    templates: TemplateSet[int],
    *,
    allowed: Set[int],
    thresholds: Thresholds,
    shown: Sequence[Box] = (),
) -> list[str]:
    """The problems found in the rendering, in words for the reviewer; empty when it is safe."""
    problems: list[str] = []
    for face in analysis.faces:
        cx, cy = face.box.centre
        inside = any(in_mask(region, cx, cy) for region in rendering.regions) or any(
            face.box.iou(masked) >= SAME_FACE_IOU for masked in rendering.masked_faces
        )
        if inside:
            problems.append("a face can still be found inside a masked area")
        elif not any(face.box.iou(box) >= SAME_FACE_IOU for box in shown):
            problems.append("a face that nobody decided to show can be found in the rendering")
        if face.encoding is None:
            continue
        match = templates.match(face.encoding)
        if match is not None and match.distance <= thresholds.match and match.key not in allowed:
            problems.append("a face in the rendering matches a child who may not be shown")
    return list(dict.fromkeys(problems))
