"""Rendering the photos being cleared and checking each rendering with the real engine.

Renderings stay in memory: each is handed to a worker process as bytes (`CheckRequest`), never
written to a temporary file, so a crash while they wait for their check leaves no plaintext
picture behind (the vault gets a rendering only once it is verified and queued). The engine runs
in the worker pool (this process never loads it); the decision is `verify.verify_rendering`.

The original is read once, checked against its vault name, and rendered from those very bytes:
checking the file when the clear was planned and reading it again to render would let a file
replaced in between be rendered unchecked. The worker hashes the bytes it checked, so what is
queued (and later exported) is exactly what passed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ijs_vetting.db.models import Photo, PhotoFace
from ijs_vetting.domain import FaceDecision, FaceOrigin, FaceReason
from ijs_vetting.faces.match import TemplateSet
from ijs_vetting.faces.pool import FacePool, TaskDone
from ijs_vetting.faces.rendering_check import CheckRequest, check_rendering
from ijs_vetting.imaging.box import Box
from ijs_vetting.imaging.decode import ImageDecodeError
from ijs_vetting.imaging.export import ExportError
from ijs_vetting.imaging.redact import Mask, MaskStyle
from ijs_vetting.imaging.render import Rendering, render_for_posting
from ijs_vetting.progress import Progress
from ijs_vetting.services.core.station import Write
from ijs_vetting.services.intake.deciding import decide
from ijs_vetting.services.posting.verify import Finding, ShownFace, Verification, verify_rendering
from ijs_vetting.services.posting.withdrawal import back_to_review
from ijs_vetting.settings import Settings
from ijs_vetting.vault import RESTORE_HINT, Vault, VaultFileAltered, VaultFileMissing


@dataclass(frozen=True)
class Subject:
    """What rendering and checking one photo needs; boxes in upright-original pixels."""

    original: Path
    original_sha256: str  # its vault name: the bytes rendered and compared must hash to it
    masked: tuple[Box, ...]  # faces decided "blur"
    shown: tuple[ShownFace, ...]  # faces decided "show" for an identified child
    not_faces: tuple[Box, ...]  # what a reviewer said is not a face

    @property
    def allowed(self) -> set[int]:
        return {face.child for face in self.shown}


@dataclass(frozen=True)
class Checked:
    rendering: Rendering
    verification: Verification


def render_and_check(
    vault: Vault,
    subjects: Mapping[int, Subject],
    templates: TemplateSet[int],
    mask: Mask,
    config: Settings,
    *,
    workers: int | None,
    progress: Progress | None,
) -> tuple[dict[int, Checked], list[tuple[int, str]]]:
    """Each photo's rendering with its verification, and the photos that could not be rendered
    or checked (with the reason). What was not checked is never reported as checked."""
    renders: dict[int, Rendering] = {}
    failed: list[tuple[int, str]] = []
    for photo_id, subject in subjects.items():
        try:
            original = vault.read_bytes(subject.original_sha256, "its original")
        except (VaultFileAltered, VaultFileMissing) as exc:
            failed.append((photo_id, f"cannot be cleared: {exc}; {RESTORE_HINT}"))
            continue
        try:
            renders[photo_id] = render_for_posting(original, subject.masked, mask)
        except (ImageDecodeError, ExportError, OSError) as exc:
            failed.append((photo_id, f"cannot be rendered: {exc}"))
    if not renders:
        return {}, failed
    opaque = mask.style is MaskStyle.OPAQUE
    tasks = [
        (photo_id, partial(check_rendering, _request(subjects[photo_id], r, mask, opaque, config)))
        for photo_id, r in renders.items()
    ]
    checked: dict[int, Checked] = {}
    with FacePool(workers or min(len(tasks), os.cpu_count() or 1)) as pool:
        for outcome in pool.run(tasks, progress=progress, label="Checking the pictures"):
            rendering = renders[outcome.key]
            if not isinstance(outcome, TaskDone):
                failed.append(
                    (
                        outcome.key,
                        f"the picture could not be checked ({outcome.message}); try clearing "
                        "it again",
                    )
                )
                continue
            subject = subjects[outcome.key]
            verification = verify_rendering(
                outcome.value,
                rendering,
                templates,
                allowed=subject.allowed,
                thresholds=config.thresholds,
                shown=[_scaled(face, rendering.scale) for face in subject.shown],
                not_faces=[box.scaled(rendering.scale) for box in subject.not_faces],
                opaque=opaque,
            )
            checked[outcome.key] = Checked(rendering, verification)
    return checked, failed


def _request(
    subject: Subject, rendering: Rendering, mask: Mask, opaque: bool, config: Settings
) -> CheckRequest:
    judged = (*(face.box for face in subject.shown), *subject.not_faces)
    return CheckRequest(
        rendering=rendering.data,
        original=str(subject.original),
        original_sha256=subject.original_sha256,
        opaque=rendering.regions if opaque else (),
        colour=mask.colour,
        decided=tuple(box.scaled(rendering.scale) for box in (*subject.masked, *judged)),
        judged=tuple(box.scaled(rendering.scale) for box in judged),
        # A reduced rendering shows faces smaller than vetting saw them: identify them at the
        # same size relative to the photo.
        min_identify_width=config.min_identify_width * rendering.scale,
    )


def _scaled(face: ShownFace, scale: float) -> ShownFace:
    return ShownFace(face.box.scaled(scale), face.child, face.by_hand)


def to_review(w: Write, photo: Photo, checked: Checked, account: str) -> str:
    """Add the faces the check found (masked, for a reviewer to look at) and send the photo to
    review; other problems also hold it there until SLT accept it. The refusal, in words."""
    verification, scale = checked.verification, checked.rendering.scale
    for finding in verification.findings:
        photo.faces.append(_found_face(finding, scale, photo))
    w.session.flush()
    words = list(verification.problems)
    if verification.problems:
        back_to_review(w.session, (photo, "not cleared: " + "; ".join(words)))
    else:
        decide(w.session, photo)
    if verification.findings:
        found = len(verification.findings)
        words.append(
            f"the check found {found} face{'s' if found > 1 else ''} that vetting had not marked "
            "(shown as 'found at check' in review): mark each 'blur', or 'not a face' if it is "
            "none, then clear the photo again"
        )
    w.audit(
        f"{photo.filename} failed the check before clearing and went back to review",
        target_type="photo",
        target_id=str(photo.id),
        details={
            "refused": True,
            "problems": list(verification.problems),
            "found_faces": [
                list(f.face.box.scaled(1 / scale).as_ints()) for f in verification.findings
            ],
            "detections_from_masks": verification.masks_doing,
            "account": account,
        },
    )
    return "not cleared: " + "; ".join(words)


def _found_face(finding: Finding, scale: float, photo: Photo) -> PhotoFace:
    """A face of the photo for what the check found (upright-original pixels, match results
    only: never the encoding)."""
    left, top, right, bottom = finding.face.box.scaled(1 / scale).as_ints()
    width, height = photo.width or right, photo.height or bottom
    match = finding.match
    return PhotoFace(
        left=max(0, left),
        top=max(0, top),
        right=min(width, right),
        bottom=min(height, bottom),
        score=finding.face.score,
        too_small=finding.face.too_small,
        candidate_child_id=match.key if match else None,
        distance=match.distance if match else None,
        runner_up_distance=match.runner_up_distance if match else None,
        decision=FaceDecision.BLUR,
        reason=FaceReason.FOUND_AT_CHECK,
        origin=FaceOrigin.VERIFICATION,
    )
