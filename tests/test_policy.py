"""The show/blur policy on its own: default deny, one identity per photo, safeguarding rejects."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from ijs_vetting.domain import FaceDecision, FaceOverride, FaceReason, PhotoStatus
from ijs_vetting.policy import FaceEvidence, Standing, Thresholds, decide_photo, identify

T = Thresholds(match=0.45, margin=0.1)
OK = Standing(on_roll=True, consent=True, templates_allowed=True, never_publish=False)


def seen(
    child: int | None,
    distance: float | None,
    runner_up: float | None = None,
    too_small: bool = False,
) -> FaceEvidence:
    return FaceEvidence(
        too_small=too_small, candidate=child, distance=distance, runner_up=runner_up
    )


def test_a_confident_match_with_consent_is_shown() -> None:
    verdict = decide_photo([seen(1, 0.30, 0.80)], {1: OK}, T)
    assert verdict.status is PhotoStatus.READY
    assert verdict.faces[0].decision is FaceDecision.SHOW
    assert verdict.faces[0].reason is FaceReason.CONSENT and verdict.faces[0].child == 1


@pytest.mark.parametrize(
    ("evidence", "reason"),
    [
        (seen(None, None, too_small=True), FaceReason.TOO_SMALL),
        (seen(None, None), FaceReason.UNKNOWN),
        (seen(1, 0.46, 0.9), FaceReason.UNKNOWN),  # just over the threshold
        (seen(1, 0.40, 0.45), FaceReason.AMBIGUOUS),  # another child almost as near
    ],
)
def test_unidentified_faces_are_blurred(evidence: FaceEvidence, reason: FaceReason) -> None:
    verdict = decide_photo([evidence], {1: OK}, T)
    assert verdict.faces[0].decision is FaceDecision.BLUR
    assert verdict.faces[0].reason is reason
    assert verdict.faces[0].child is None


def test_exactly_at_the_threshold_and_margin_still_identifies() -> None:
    assert identify(seen(1, 0.45, 0.55), T) == (1, FaceReason.CONSENT)


@pytest.mark.parametrize(
    ("standing", "reason"),
    [
        (Standing(True, False, True, False), FaceReason.NO_CONSENT),
        (Standing(False, True, True, False), FaceReason.NO_CONSENT),  # has left the school
        (Standing(True, True, False, False), FaceReason.NO_BIOMETRIC_CONSENT),
    ],
)
def test_identified_children_without_standing_are_blurred(
    standing: Standing, reason: FaceReason
) -> None:
    verdict = decide_photo([seen(1, 0.2)], {1: standing}, T)
    assert verdict.faces[0].decision is FaceDecision.BLUR
    assert verdict.faces[0].reason is reason
    assert verdict.status is PhotoStatus.READY_WITH_BLUR


def test_a_match_to_a_child_no_longer_registered_is_unknown() -> None:
    verdict = decide_photo([seen(7, 0.2)], {}, T)
    assert verdict.faces[0].reason is FaceReason.UNKNOWN
    assert verdict.faces[0].decision is FaceDecision.BLUR


def test_safeguarding_rejects_the_whole_photo() -> None:
    flagged = Standing(True, True, True, never_publish=True)
    verdict = decide_photo([seen(1, 0.2), seen(2, 0.25)], {1: OK, 2: flagged}, T)
    assert verdict.status is PhotoStatus.REJECTED
    assert [f.reason for f in verdict.faces] == [FaceReason.CONSENT, FaceReason.SAFEGUARDING]
    assert verdict.faces[1].decision is FaceDecision.BLUR


def test_one_identity_per_photo() -> None:
    verdict = decide_photo([seen(1, 0.2), seen(1, 0.3), seen(2, 0.2)], {1: OK, 2: OK}, T)
    assert [f.reason for f in verdict.faces] == [
        FaceReason.AMBIGUOUS,
        FaceReason.AMBIGUOUS,
        FaceReason.CONSENT,
    ]
    assert verdict.status is PhotoStatus.REVIEW
    assert verdict.notes


def test_an_unregistered_camera_sends_a_clear_photo_to_review() -> None:
    verdict = decide_photo([seen(1, 0.2)], {1: OK}, T, camera_note="not a school device")
    assert verdict.status is PhotoStatus.REVIEW
    assert verdict.notes == ("not a school device",)
    assert verdict.faces[0].decision is FaceDecision.SHOW  # the face itself is still fine


def test_a_photo_without_faces_is_ready() -> None:
    assert decide_photo([], {}, T).status is PhotoStatus.READY


def test_no_combination_shows_a_face_that_fails_any_condition() -> None:
    """Exhaustive over standing flags and match situations: show implies every condition."""
    distances = [None, 0.2, 0.45, 0.5]
    runner_ups = [None, 0.25, 0.9]
    for on_roll, consent, allowed, never, distance, runner, small, twin in itertools.product(
        [True, False],
        [True, False],
        [True, False],
        [True, False],
        distances,
        runner_ups,
        [True, False],
        [True, False],
    ):
        standing = Standing(on_roll, consent, allowed, never)
        face = seen(None if distance is None else 1, distance, runner, too_small=small)
        faces = [face, face] if twin else [face]
        verdict = decide_photo(faces, {1: standing}, T)
        for v in verdict.faces:
            if v.decision is FaceDecision.SHOW:
                assert on_roll and consent and allowed and not never and not small and not twin
                assert distance is not None and distance <= T.match
                assert runner is None or runner - distance >= T.margin
        if never and any(v.child == 1 for v in verdict.faces):
            assert verdict.status is PhotoStatus.REJECTED


def reviewed(face: FaceEvidence, **changes: object) -> FaceEvidence:
    return replace(face, **changes)  # type: ignore[arg-type]  # test shorthand


def test_a_reviewer_identification_is_still_subject_to_consent() -> None:
    unknown = seen(None, None)
    shown = decide_photo([reviewed(unknown, manual_child=1)], {1: OK}, T)
    assert (shown.faces[0].decision, shown.faces[0].child) == (FaceDecision.SHOW, 1)
    no_consent = Standing(True, False, True, False)
    refused = decide_photo([reviewed(unknown, manual_child=1)], {1: no_consent}, T)
    assert refused.faces[0].reason is FaceReason.NO_CONSENT


def test_a_reviewer_identification_resolves_ambiguity_and_outranks_a_match() -> None:
    ambiguous = seen(1, 0.40, 0.45)
    verdict = decide_photo([reviewed(ambiguous, manual_child=1), seen(1, 0.3)], {1: OK}, T)
    assert [f.reason for f in verdict.faces] == [FaceReason.CONSENT, FaceReason.AMBIGUOUS]
    two_by_hand = [reviewed(seen(None, None), manual_child=1)] * 2
    assert {f.reason for f in decide_photo(two_by_hand, {1: OK}, T).faces} == {FaceReason.AMBIGUOUS}


def test_marked_blur_drawn_and_not_a_face() -> None:
    faces = [
        reviewed(seen(1, 0.2), override=FaceOverride.BLUR),
        reviewed(seen(None, None), drawn=True),
        reviewed(seen(None, None), override=FaceOverride.NOT_A_FACE),
    ]
    verdict = decide_photo(faces, {1: OK}, T)
    assert [(f.decision, f.reason) for f in verdict.faces] == [
        (FaceDecision.BLUR, FaceReason.MARKED_BLUR),
        (FaceDecision.BLUR, FaceReason.DRAWN),
        (FaceDecision.SHOW, FaceReason.NOT_A_FACE),
    ]
    assert verdict.status is PhotoStatus.READY_WITH_BLUR


def test_a_drawn_face_identified_as_a_flagged_child_rejects_the_photo() -> None:
    flagged = Standing(True, True, True, never_publish=True)
    drawn = reviewed(seen(None, None), drawn=True, manual_child=2)
    assert decide_photo([drawn], {2: flagged}, T).status is PhotoStatus.REJECTED


def test_head_count_above_the_marked_faces_needs_review() -> None:
    faces = [seen(1, 0.2), reviewed(seen(None, None), override=FaceOverride.NOT_A_FACE)]
    verdict = decide_photo(faces, {1: OK}, T, head_count=2)
    assert verdict.status is PhotoStatus.REVIEW
    assert "counted 2 people but only 1" in verdict.notes[0]
    assert decide_photo(faces, {1: OK}, T, head_count=1).status is PhotoStatus.READY


def test_not_a_face_cannot_hide_a_safeguarding_flag() -> None:
    flagged = Standing(True, True, True, never_publish=True)
    hidden = reviewed(seen(2, 0.3, 0.9), override=FaceOverride.NOT_A_FACE)
    assert decide_photo([hidden], {2: flagged}, T).status is PhotoStatus.REJECTED
    ambiguous = seen(2, 0.40, 0.45)  # within the threshold, but not clearly them
    assert decide_photo([ambiguous], {2: flagged}, T).status is PhotoStatus.REJECTED
    far = seen(2, 0.55, 0.9)  # not them
    assert decide_photo([far], {2: flagged}, T).status is PhotoStatus.READY_WITH_BLUR


def test_a_face_found_at_the_check_is_masked_and_waits_for_a_reviewer() -> None:
    """Even when it matches a child who may be shown: nobody has looked at it yet."""
    found = replace(seen(1, 0.2, 0.9), found_at_check=True)
    verdict = decide_photo([found], {1: OK}, T)
    assert (verdict.faces[0].decision, verdict.faces[0].reason) == (
        FaceDecision.BLUR,
        FaceReason.FOUND_AT_CHECK,
    )
    assert verdict.status is PhotoStatus.REVIEW and "mark it 'blur'" in verdict.notes[0]
    # Once a reviewer has looked (the flag is gone), their word or the policy decides.
    looked = replace(found, found_at_check=False, override=FaceOverride.BLUR)
    assert decide_photo([looked], {1: OK}, T).status is PhotoStatus.READY_WITH_BLUR
    flagged = Standing(True, True, True, never_publish=True)
    assert decide_photo([found], {1: flagged}, T).status is PhotoStatus.REJECTED
