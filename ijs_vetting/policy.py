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

No database, no pixels, no Qt: this module is tested exhaustively on its own, and re-deciding a
photo after a consent change needs only the stored match results, never the face again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ijs_vetting.domain import FaceDecision, FaceReason, PhotoStatus


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


def _verdict_for(child: int, standing: Standing | None) -> FaceVerdict:
    if standing is None:
        return FaceVerdict(FaceDecision.BLUR, FaceReason.UNKNOWN, None)
    if standing.never_publish:
        return FaceVerdict(FaceDecision.BLUR, FaceReason.SAFEGUARDING, child)
    if not standing.templates_allowed:
        return FaceVerdict(FaceDecision.BLUR, FaceReason.NO_BIOMETRIC_CONSENT, child)
    if not (standing.on_roll and standing.consent):
        return FaceVerdict(FaceDecision.BLUR, FaceReason.NO_CONSENT, child)
    return FaceVerdict(FaceDecision.SHOW, FaceReason.CONSENT, child)


def decide_photo(
    faces: Sequence[FaceEvidence],
    standings: Mapping[int, Standing],
    thresholds: Thresholds,
    *,
    camera_note: str | None = None,
) -> PhotoVerdict:
    """Decide every face and the photo's status. `camera_note` (e.g. an unregistered camera)
    sends an otherwise clear photo to review."""
    identified = [identify(face, thresholds) for face in faces]
    claims = Counter(child for child, _ in identified if child is not None)
    verdicts: list[FaceVerdict] = []
    for child, reason in identified:
        if child is None:
            verdicts.append(FaceVerdict(FaceDecision.BLUR, reason, None))
        elif claims[child] > 1:
            verdicts.append(FaceVerdict(FaceDecision.BLUR, FaceReason.AMBIGUOUS, None))
        else:
            verdicts.append(_verdict_for(child, standings.get(child)))

    notes: list[str] = []
    reasons = {v.reason for v in verdicts}
    if FaceReason.SAFEGUARDING in reasons:
        notes.append("a child who must never be published is in the photo")
        return PhotoVerdict(PhotoStatus.REJECTED, tuple(verdicts), tuple(notes))
    if FaceReason.AMBIGUOUS in reasons:
        notes.append("a face could not be told apart from another child's")
    if camera_note:
        notes.append(camera_note)
    if notes:
        status = PhotoStatus.REVIEW
    elif any(v.decision is FaceDecision.BLUR for v in verdicts):
        status = PhotoStatus.READY_WITH_BLUR
    else:
        status = PhotoStatus.READY
    return PhotoVerdict(status, tuple(verdicts), tuple(notes))
