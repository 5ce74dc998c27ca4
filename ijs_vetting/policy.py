"""The show/blur decision: a pure function of what matching found and what consent says.

Default deny. A face is shown only when all of these hold:
- it was big enough to identify and its best distance to one child's templates is within the
  threshold;
- that child is clearly nearer than any other child (the margin), else the face is ambiguous;
- no other face in the same photo matched the same child (one identity per photo), else every
  face claiming that child is ambiguous;
- the child is on roll, has biometric consent (templates may exist), current consent for the
  channel, and no safeguarding flag.
A safeguarding-flagged child anywhere in the photo rejects the whole photo: context identifies a
child even when their face is masked. Ambiguity sends the photo to a person (`review`).

A reviewer may identify a face by hand (the route for children without biometric consent), mask
it, say it is not a face, or draw a face the detector missed (always masked). A face the check
before posting found is masked and holds the photo in review until a reviewer has looked at it.
A hand identification is still subject to consent: it replaces matching, never the rules above.

No database, no pixels, no Qt: this module is tested exhaustively on its own, and re-deciding a
photo after a consent change needs only the stored match results, never the face again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ijs_vetting.domain import FaceDecision, FaceOverride, FaceReason, PhotoStatus


@dataclass(frozen=True)
class Thresholds:
    """Matching limits (settings; defaults set by measurement, see resources/defaults.toml)."""

    match: float = 0.45
    margin: float = 0.1


@dataclass(frozen=True)
class FaceEvidence:
    """What matching found for one face: the nearest child and how near, never the encoding."""

    too_small: bool
    candidate: int | None  # the nearest child's id, None without templates or encoding
    distance: float | None
    runner_up: float | None  # the next-nearest other child's distance
    manual_child: int | None = None  # identified by a reviewer
    override: FaceOverride | None = None
    drawn: bool = False  # drawn by a reviewer where the detector found nothing
    found_at_check: bool = False  # found by the check before posting, no reviewer has looked yet


@dataclass(frozen=True)
class Standing:
    """A child's position for one channel at the moment of deciding."""

    on_roll: bool
    consent: bool  # current consent for the channel
    templates_allowed: bool  # biometric consent and no objection
    never_publish: bool


@dataclass(frozen=True)
class FaceVerdict:
    decision: FaceDecision
    reason: FaceReason
    child: int | None  # the identified child, None for unknown/ambiguous/too small faces


@dataclass(frozen=True)
class PhotoVerdict:
    status: PhotoStatus
    faces: tuple[FaceVerdict, ...]
    notes: tuple[str, ...]  # why the photo needs review or was rejected, in words


def identify(evidence: FaceEvidence, thresholds: Thresholds) -> tuple[int | None, FaceReason]:
    """The child a face is confidently matched to, or the reason it is not."""
    if evidence.too_small:
        return None, FaceReason.TOO_SMALL
    if evidence.candidate is None or evidence.distance is None:
        return None, FaceReason.UNKNOWN
    if evidence.distance > thresholds.match:
        return None, FaceReason.UNKNOWN
    if (
        evidence.runner_up is not None
        and evidence.runner_up - evidence.distance < thresholds.margin
    ):
        return None, FaceReason.AMBIGUOUS
    return evidence.candidate, FaceReason.CONSENT


def _verdict_for(child: int, standing: Standing | None, by_hand: bool) -> FaceVerdict:
    """Consent decides for an identified child. Biometric consent matters only for a match (it
    rests on templates); a reviewer's identification uses no biometric data."""
    if standing is None:
        return FaceVerdict(FaceDecision.BLUR, FaceReason.UNKNOWN, None)
    if standing.never_publish:
        return FaceVerdict(FaceDecision.BLUR, FaceReason.SAFEGUARDING, child)
    if not by_hand and not standing.templates_allowed:
        return FaceVerdict(FaceDecision.BLUR, FaceReason.NO_BIOMETRIC_CONSENT, child)
    if not (standing.on_roll and standing.consent):
        return FaceVerdict(FaceDecision.BLUR, FaceReason.NO_CONSENT, child)
    return FaceVerdict(FaceDecision.SHOW, FaceReason.CONSENT, child)


def _identity(face: FaceEvidence, thresholds: Thresholds) -> tuple[int | None, FaceReason, bool]:
    """(child, reason, by hand) before the one-identity rule and consent are applied."""
    if face.override is FaceOverride.NOT_A_FACE:
        return None, FaceReason.NOT_A_FACE, True
    if face.manual_child is not None:
        return face.manual_child, FaceReason.CONSENT, True
    if face.drawn:
        return None, FaceReason.DRAWN, True
    child, reason = identify(face, thresholds)
    return child, reason, False


def _with_reviewer_mask(face: FaceEvidence, verdict: FaceVerdict) -> FaceVerdict:
    """Drawn faces and faces a reviewer masked stay masked whatever consent says (a safeguarding
    verdict stands as it is: it rejects the whole photo)."""
    if verdict.reason in (FaceReason.SAFEGUARDING, FaceReason.NOT_A_FACE):
        return verdict
    if face.drawn:
        return FaceVerdict(FaceDecision.BLUR, FaceReason.DRAWN, verdict.child)
    if face.found_at_check:
        return FaceVerdict(FaceDecision.BLUR, FaceReason.FOUND_AT_CHECK, verdict.child)
    if face.override is FaceOverride.BLUR:
        return FaceVerdict(FaceDecision.BLUR, FaceReason.MARKED_BLUR, verdict.child)
    return verdict


def _flagged_child(
    face: FaceEvidence, standings: Mapping[int, Standing], thresholds: Thresholds
) -> int | None:
    """A never-publish child this face may be (named by hand or matched within the threshold)."""
    named = [face.manual_child]
    if not face.too_small and face.distance is not None and face.distance <= thresholds.match:
        named.append(face.candidate)
    for child in named:
        standing = standings.get(child) if child is not None else None
        if standing is not None and standing.never_publish:
            return child
    return None


def decide_photo(
    faces: Sequence[FaceEvidence],
    standings: Mapping[int, Standing],
    thresholds: Thresholds,
    *,
    camera_note: str | None = None,
    head_count: int | None = None,
) -> PhotoVerdict:
    """Decide every face and the photo's status.

    `camera_note` (an unregistered camera nobody has confirmed) sends an otherwise clear photo to
    review, and so does a reviewer's `head_count` above the number of faces marked.

    Longer than most functions on purpose: this is the rule that decides whether a child is
    shown, and it reads top to bottom in the order it applies, every path in one place.
    """
    identities = [_identity(face, thresholds) for face in faces]
    by_hand = Counter(child for child, _, manual in identities if child is not None and manual)
    by_match = Counter(child for child, _, manual in identities if child is not None and not manual)
    verdicts: list[FaceVerdict] = []
    for face, (child, reason, manual) in zip(faces, identities, strict=True):
        if child is None:
            decision = FaceDecision.SHOW if reason is FaceReason.NOT_A_FACE else FaceDecision.BLUR
            verdict = FaceVerdict(decision, reason, None)
        elif (manual and by_hand[child] > 1) or (
            not manual and (by_hand[child] > 0 or by_match[child] > 1)
        ):
            # One identity per photo: a reviewer's identification outranks a match; two of a
            # kind (two matches, or two hand identifications) make each such face ambiguous.
            verdict = FaceVerdict(FaceDecision.BLUR, FaceReason.AMBIGUOUS, None)
        else:
            verdict = _verdict_for(child, standings.get(child), manual)
        verdicts.append(_with_reviewer_mask(face, verdict))

    # Safeguarding looks past every override: a flagged child named by hand, or matched within
    # the threshold (even ambiguously, even under "not a face"), rejects the photo.
    verdicts = [
        FaceVerdict(FaceDecision.BLUR, FaceReason.SAFEGUARDING, flagged)
        if (flagged := _flagged_child(face, standings, thresholds)) is not None
        else verdict
        for face, verdict in zip(faces, verdicts, strict=True)
    ]
    notes: list[str] = []
    reasons = {v.reason for v in verdicts}
    if FaceReason.SAFEGUARDING in reasons:
        notes.append("a child who must never be published is in the photo")
        return PhotoVerdict(PhotoStatus.REJECTED, tuple(verdicts), tuple(notes))
    if FaceReason.AMBIGUOUS in reasons:
        notes.append("a face could not be told apart from another child's")
    if FaceReason.FOUND_AT_CHECK in reasons:
        notes.append(
            "the check before posting found a face that vetting had not marked: mark it 'blur' "
            "(or 'not a face' if it is none), then clear the photo again"
        )
    marked = sum(1 for v in verdicts if v.reason is not FaceReason.NOT_A_FACE)
    if head_count is not None and head_count > marked:
        notes.append(
            f"the reviewer counted {head_count} people but only {marked} faces are marked: "
            "draw the missing faces"
        )
    if camera_note:
        notes.append(camera_note)
    if notes:
        status = PhotoStatus.REVIEW
    elif any(v.decision is FaceDecision.BLUR for v in verdicts):
        status = PhotoStatus.READY_WITH_BLUR
    else:
        status = PhotoStatus.READY
    return PhotoVerdict(status, tuple(verdicts), tuple(notes))
