"""Checking a rendering with the real engine's findings before it may be queued.

The rendering is judged by what can still be recovered from it, not by how it was made:
- an opaque mask is judged by its pixels (`imaging.mask_check`): every pixel of the head's
  ellipse must be the fill colour. A detection whose centre lies in a mask verified that way is
  the mask itself (CenterFace scores a grey ellipse on shoulders at 0.3-0.6), not a face. A
  blurred head has no such proof, so for the blur style any face found inside a mask means the
  blur did not do its job;
- a face decided "show" must be found again and, when a match identified it, still match the
  child it shows (a face pasted into that child's place is someone else), and match no child
  who may not be shown;
- something marked "not a face" that the engine still finds as a face fails, as vetting would;
- any other face is one vetting did not decide: it becomes a face of the photo (`Finding`), to
  be masked or dismissed by a reviewer, and the photo waits in review. Except where the masks
  made it: masks change the detector's context, and a detection beside them where the unmasked
  picture, at the same place, scored under the detection threshold (vetting's own verdict: no
  face there) is the masks' doing, provided it is not a confident face (a real face of 40 px or
  more scores 0.6 and above at the fine scale, faces/detect.py) and matches no child. Without
  this, every mask added for a finding could cause the next one, and a crowd would never clear.
- the check must be of these very bytes: the worker's hash of what it checked must be the
  rendering's (`Verification.sha256` is then what may be stored, queued and exported).
Pure: the engine's results come in as plain data, so the decision is testable on its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence, Set
from dataclasses import dataclass

from ijs_vetting.faces.detect import DEFAULT_THRESHOLD
from ijs_vetting.faces.match import Match, TemplateSet
from ijs_vetting.faces.rendering_check import RenderingCheck, same_face
from ijs_vetting.faces.results import Face
from ijs_vetting.imaging.box import Box
from ijs_vetting.imaging.redact import in_mask
from ijs_vetting.imaging.render import Rendering
from ijs_vetting.policy import Thresholds

# A detection at a place the unmasked picture judged empty is the masks' doing below this score.
CONTEXT_MAX_SCORE = 0.6

MASK_NOT_SOLID = (
    "a mask did not come out as solid colour (a fault of the station, not of the photo): "
    "clear it again, and tell the administrator if this happens twice"
)
FOUND_INSIDE_MASK = (
    "a face can still be found inside a masked area: the blur is too weak; clear it with "
    "the opaque mask"
)
NOT_A_FACE_FOUND = (
    "something marked 'not a face' still looks like a face to the check: mark it 'blur' "
    "instead, then accept the photo"
)
SHOWN_NOT_FOUND = (
    "a face marked to be shown could not be recognised again in the finished picture: check "
    "who it is, then accept the photo"
)
SHOWN_MISMATCH = (
    "a face marked to be shown no longer looks like the child it is marked as: check who it "
    "is (the original may have been changed), then accept the photo"
)
NOT_THESE_BYTES = (
    "the picture the check looked at is not the picture made for posting (a fault of the "
    "station, not of the photo): clear it again, and tell the administrator if this happens twice"
)
MATCHES_OTHER = (
    "a face in the finished picture looks like a child who may not be shown: mask that face, "
    "then accept the photo"
)


@dataclass(frozen=True)
class ShownFace:
    box: Box  # rendering pixels
    child: int
    by_hand: bool  # identified by a reviewer (no templates to match against)


@dataclass(frozen=True)
class Finding:
    """A face the check found that vetting did not decide, in the rendering's pixels."""

    face: Face
    match: Match[int] | None


@dataclass(frozen=True)
class Verification:
    sha256: str  # of the rendering's bytes: the only bytes this verdict is about
    problems: tuple[str, ...]  # for a person to resolve (the photo is held in review)
    findings: tuple[Finding, ...]  # faces to add to the photo
    masks_doing: int  # detections judged to be the effect of the masks (for the audit)

    @property
    def passed(self) -> bool:
        return not self.problems and not self.findings


def verify_rendering(
    check: RenderingCheck,
    rendering: Rendering,
    templates: TemplateSet[int],
    *,
    allowed: Set[int],
    thresholds: Thresholds,
    shown: Sequence[ShownFace] = (),
    not_faces: Sequence[Box] = (),
    opaque: bool = True,
) -> Verification:
    """What stops the rendering from being queued; `passed` when it is safe.

    `opaque`: the masks are opaque and `check.solid` holds their pixel verdicts (in
    `rendering.regions` order); otherwise they are blurs, which only the engine can judge.

    One function on purpose: each detection in the rendering meets the rules in the order they
    apply (a shown face, a mask, a box marked not a face, the unmasked picture's verdict), so
    whoever checks this last safety check sees every path a face can take out of it.
    """
    problems: list[str] = []
    findings: list[Finding] = []
    context = 0
    sha = hashlib.sha256(rendering.data).hexdigest()
    if check.sha256 != sha:
        problems.append(NOT_THESE_BYTES)
    if opaque and not all(check.solid):
        problems.append(MASK_NOT_SOLID)
    found_shown = [False] * len(shown)
    for face, before in zip(check.analysis.faces, check.before, strict=True):
        match = templates.match(face.encoding) if face.encoding is not None else None
        matched = match if match is not None and match.distance <= thresholds.match else None
        on_shown = [i for i, s in enumerate(shown) if same_face(face.box, s.box)]
        if on_shown:
            if matched is not None and matched.key not in allowed:
                problems.append(MATCHES_OTHER)
            for i in on_shown:
                found_shown[i] = True
                if not shown[i].by_hand and not _still_matches(
                    face, shown[i], templates, thresholds
                ):
                    problems.append(SHOWN_MISMATCH)
            continue
        if any(in_mask(region, *face.box.centre) for region in rendering.regions):
            # Opaque: a solid mask is the mask itself (its pixels prove nothing of the head is
            # left), and one that is not solid is a problem already. A blur has no such proof.
            if not opaque:
                problems.append(FOUND_INSIDE_MASK)
            continue
        if not opaque and any(same_face(face.box, masked) for masked in rendering.masked_faces):
            problems.append(FOUND_INSIDE_MASK)
            continue
        if any(same_face(face.box, box) for box in not_faces):
            problems.append(NOT_A_FACE_FOUND)
            continue
        # What is left (a detection on a solidly masked face's box but centred outside its
        # ellipse is the mask's outline with what is around it) is judged by what the unmasked
        # picture had at that place; a face there becomes a finding, to be masked on review.
        if (
            before is not None
            and before < DEFAULT_THRESHOLD
            and face.score < CONTEXT_MAX_SCORE
            and matched is None
        ):
            context += 1
            continue
        findings.append(Finding(face, match))
    for seen, wanted in zip(found_shown, shown, strict=True):
        if not seen and not wanted.by_hand:
            problems.append(SHOWN_NOT_FOUND)
    return Verification(sha, tuple(dict.fromkeys(problems)), tuple(findings), context)


def _still_matches(
    face: Face, shown: ShownFace, templates: TemplateSet[int], thresholds: Thresholds
) -> bool:
    if face.encoding is None:
        return False
    distance = templates.distance_to(shown.child, face.encoding)
    return distance is not None and distance <= thresholds.match
