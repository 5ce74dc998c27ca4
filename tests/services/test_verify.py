"""The verification decision on its own: the engine's findings come in as plain data."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from ijs_vetting.faces.match import TemplateSet
from ijs_vetting.faces.rendering_check import RenderingCheck
from ijs_vetting.faces.results import Face, PhotoAnalysis
from ijs_vetting.imaging.box import Box
from ijs_vetting.imaging.redact import head_region
from ijs_vetting.imaging.render import Rendering
from ijs_vetting.policy import Thresholds
from ijs_vetting.services.posting.verify import (
    FOUND_INSIDE_MASK,
    MASK_NOT_SOLID,
    NOT_A_FACE_FOUND,
    NOT_THESE_BYTES,
    SHOWN_MISMATCH,
    SHOWN_NOT_FOUND,
    ShownFace,
    Verification,
    verify_rendering,
)

RNG = np.random.default_rng(7)
KIT, LOU = 1, 2
PEOPLE = {KIT: RNG.normal(0, 0.1, 128), LOU: RNG.normal(0, 0.1, 128)}  # ~1.6 apart
TEMPLATES = TemplateSet({k: v[None, :] for k, v in PEOPLE.items()})
MASKED = Box(100, 100, 180, 190)  # a face under a mask
ELSEWHERE = Box(400, 100, 480, 190)
SHOWN = Box(700, 100, 780, 190)


def face(box: Box, score: float = 0.9, encoding: np.ndarray | None = None) -> Face:
    return Face(box, score, (), 100.0, encoding is None, encoding)


def near(child: int) -> np.ndarray:
    return PEOPLE[child] + RNG.normal(0, 0.005, 128)


def verify(
    faces: list[Face],
    before: list[float | None] | None = None,
    *,
    solid: bool = True,
    opaque: bool = True,
    shown: tuple[ShownFace, ...] = (),
    not_faces: tuple[Box, ...] = (),
    checked: bytes = b"a rendering",
) -> Verification:
    region = head_region(MASKED)
    rendering = Rendering(b"a rendering", 1000, 600, (MASKED,), (region,))
    check = RenderingCheck(
        hashlib.sha256(checked).hexdigest(),
        PhotoAnalysis(1000, 600, tuple(faces)),
        (solid,) if opaque else (),
        tuple(before if before is not None else [None] * len(faces)),
    )
    return verify_rendering(
        check,
        rendering,
        TEMPLATES,
        allowed={s.child for s in shown},
        thresholds=Thresholds(),
        shown=shown,
        not_faces=not_faces,
        opaque=opaque,
    )


def test_the_verdict_is_about_the_bytes_that_were_checked() -> None:
    """A check of other bytes than the rendering's (a rendering changed after it was handed to
    the worker) proves nothing about what would be queued; the verdict names the bytes."""
    ok = verify([])
    assert ok.passed and ok.sha256 == hashlib.sha256(b"a rendering").hexdigest()
    other = verify([], checked=b"another rendering")
    assert not other.passed and other.problems == (NOT_THESE_BYTES,)


def test_a_detection_in_a_solid_mask_is_the_mask() -> None:
    ellipse = face(MASKED.shifted(0, -20), score=0.61)
    assert verify([ellipse]).passed
    leaky = verify([ellipse], solid=False)
    assert leaky.problems == (MASK_NOT_SOLID,) and leaky.findings == ()
    assert verify([], solid=False).problems == (MASK_NOT_SOLID,)  # pixels fail on their own


def test_a_blur_is_judged_by_the_engine() -> None:
    assert verify([face(MASKED)], opaque=False).problems == (FOUND_INSIDE_MASK,)
    assert verify([], opaque=False).passed


@pytest.mark.parametrize(
    ("score", "before", "encoding", "context"),
    [
        (0.45, 0.02, None, True),  # beside the masks, nothing there without them
        (0.45, 0.29, near(LOU) + 1.0, True),  # an encoding, but nobody's
        (0.45, 0.31, None, False),  # the unmasked picture had a face there too
        (0.65, 0.02, None, False),  # too confident to be an effect of the masks
        (0.45, None, None, False),  # not compared (the original could not be read)
        (0.45, 0.02, near(LOU), False),  # it is Lou
    ],
)
def test_beside_the_masks_the_unmasked_picture_decides(
    score: float, before: float | None, encoding: np.ndarray | None, context: bool
) -> None:
    result = verify([face(ELSEWHERE, score, encoding)], [before])
    assert result.problems == ()
    assert (result.masks_doing, len(result.findings)) == ((1, 0) if context else (0, 1))
    for finding in result.findings:  # added to the photo with what matching found
        assert finding.face.box == ELSEWHERE
        identified = finding.match is not None and finding.match.distance <= 0.45
        assert identified == (encoding is not None)


def test_a_face_found_again_where_a_reviewer_said_not_a_face_fails() -> None:
    result = verify([face(ELSEWHERE)], [0.9], not_faces=(ELSEWHERE,))
    assert result.problems == (NOT_A_FACE_FOUND,) and result.findings == ()


def test_a_shown_face_must_be_found_and_still_match_its_child() -> None:
    kit = (ShownFace(SHOWN, KIT, by_hand=False),)
    assert verify([face(SHOWN, encoding=near(KIT))], shown=kit).passed
    assert SHOWN_MISMATCH in verify([face(SHOWN, encoding=near(LOU))], shown=kit).problems
    assert verify([face(SHOWN)], shown=kit).problems == (SHOWN_MISMATCH,)  # no encoding
    assert verify([], shown=kit).problems == (SHOWN_NOT_FOUND,)
    # A child identified by hand has no templates to match: only "no other child" applies.
    by_hand = (ShownFace(SHOWN, KIT, by_hand=True),)
    assert verify([face(SHOWN)], shown=by_hand).passed
    assert verify([], shown=by_hand).passed
    assert verify([face(SHOWN, encoding=near(LOU))], shown=by_hand).problems != ()
