"""Enrolling children's reference photos as face templates, and deleting them.

Templates are biometric data (Protection of Freedoms Act 2012 ss.26-28): they are created only
for children whose parent consented in writing and who do not object, and they are deleted in
the same transaction that records a withdrawal or an objection. Children without that consent
are never analysed at all; their faces stay "unknown" and are blurred unless a reviewer
identifies them by hand.
"""

from __future__ import annotations

import dataclasses
import enum
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ijs_vetting.db.models import Child, FaceTemplate
from ijs_vetting.db.state import biometric_states
from ijs_vetting.domain import NO_BIOMETRIC_CONSENT, InvalidInput, NotFound, Role
from ijs_vetting.faces.pool import FacePool, PhotoDone
from ijs_vetting.faces.reference import (
    REFERENCE_MIN_SHARPNESS,
    REFERENCE_MIN_WIDTH,
    judge_reference,
)
from ijs_vetting.faces.results import Encoding, ReferenceCheck, Refusal
from ijs_vetting.imaging.decode import decode_image
from ijs_vetting.json_report import JsonFields
from ijs_vetting.progress import Progress
from ijs_vetting.scratch import scratch_dir
from ijs_vetting.services.core.lookup import find_child
from ijs_vetting.services.core.station import Actor, Station, Write
from ijs_vetting.services.intake.deciding import mark_for_revetting
from ijs_vetting.services.intake.importing import PHOTO_TYPES
from ijs_vetting.services.intake.vetting import seal_encoding, vet_pending
from ijs_vetting.services.posting.withdrawal import withdraw_photo_items
from ijs_vetting.services.register.look_alike import REASON as LOOK_ALIKE
from ijs_vetting.services.register.look_alike import look_alikes

ACTION = "faces.enrol"
REFERENCE = b"reference"  # sealed reference photos in the vault


class ReferenceStatus(enum.StrEnum):
    """What became of one reference photo offered for a child."""

    ENROLLED = "enrolled"  # a template was made and stored (sealed)
    REFUSED = "refused"  # the photo cannot serve (no face, several, too small, blurred, ...)
    NOT_ENROLLED = "not_enrolled"  # no biometric consent: nothing was processed


@dataclass(frozen=True)
class ReferenceOutcome(JsonFields):
    child_id: str
    file: str
    status: ReferenceStatus
    reason: str | None  # machine-readable: no_face, several_faces, too_small, blurred, ...
    message: str


@dataclass
class EnrolReport:
    outcomes: list[ReferenceOutcome] = field(default_factory=list)
    replaced: int = 0  # templates removed by --replace
    photos_to_revet: int = 0
    revetted: int = 0  # of those, vetted again before enrolment returned
    withdrawn: list[int] = field(default_factory=list)  # queue items sent back to review

    def count(self, status: ReferenceStatus) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def counts_in_words(self) -> str:
        return (
            f"{self.count(ReferenceStatus.ENROLLED)} enrolled, "
            f"{self.count(ReferenceStatus.REFUSED)} refused, "
            f"{self.count(ReferenceStatus.NOT_ENROLLED)} without biometric consent"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            **{status.value: self.count(status) for status in ReferenceStatus},
            "replaced": self.replaced,
            "photos_to_revet": self.photos_to_revet,
            "revetted": self.revetted,
            "withdrawn": self.withdrawn,
            "references": [o.as_json() for o in self.outcomes],
        }


def reference_files(folder: Path) -> Iterator[tuple[str, Path]]:
    """(child id, file) pairs: `<id>.<ext>` files and `<id>/<any>.<ext>` folders."""
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            for inner in sorted(entry.iterdir()):
                if inner.is_file() and inner.suffix.lower() in PHOTO_TYPES:
                    yield entry.name, inner
        elif entry.suffix.lower() in PHOTO_TYPES:
            yield entry.stem, entry


def enrol_references(
    station: Station,
    actor: Actor,
    folder: Path,
    *,
    replace: bool = False,
    progress: Progress | None = None,
    workers: int | None = None,
    source: str | None = None,
) -> EnrolReport:
    """Check each reference photo and store a template for each accepted one (admins only).

    With `replace`, a child's old templates go once at least one new reference is accepted.
    Undecided photos are matched again against the new templates before this returns, so no
    caller can leave them waiting. `source` names where the photos came from in the audit
    entry (the folder's name when not given).
    """
    station.require(actor, ACTION, Role.ADMIN)
    station.require_vault()
    if not folder.is_dir():
        raise InvalidInput(f"The folder '{folder}' does not exist.")
    report = EnrolReport()
    with station.read() as session:
        children = {c.mis_id: c.id for c in session.scalars(select(Child))}
        states = biometric_states(session)
    eligible: list[tuple[tuple[str, Path], Path]] = []
    for child_id, path in reference_files(folder):
        pk = children.get(child_id)
        if pk is None:
            report.outcomes.append(
                ReferenceOutcome(
                    child_id,
                    path.name,
                    ReferenceStatus.REFUSED,
                    "unknown_child",
                    f"No child has the id '{child_id}'.",
                )
            )
        elif not states.get(pk, NO_BIOMETRIC_CONSENT).templates_allowed:
            report.outcomes.append(
                _not_enrolled(
                    child_id, path, "not enrolled: no biometric consent (or the child objects)"
                )
            )
        else:
            eligible.append(((child_id, path), path))

    # One pool for checking the references and for re-vetting the photos they send back.
    with FacePool(workers) as pool:
        accepted = _checked(pool, eligible, progress, report)
        where = source or folder.name
        _store_templates(station, actor, where, accepted, children, replace, report)
        if report.photos_to_revet:
            report.revetted = vet_pending(station, actor, progress=progress, pool=pool).vetted
    return report


_Accepted = tuple[str, Path, ReferenceCheck]  # child id, file, its check


def _checked(
    pool: FacePool,
    eligible: list[tuple[tuple[str, Path], Path]],
    progress: Progress | None,
    report: EnrolReport,
) -> list[_Accepted]:
    """The references the engine accepts; each refusal goes into `report` with its reason."""
    accepted: list[_Accepted] = []
    for result in pool.analyse(eligible, progress=progress, min_identify_width=REFERENCE_MIN_WIDTH):
        child_id, path = result.key
        if isinstance(result, PhotoDone):
            check = judge_reference(result.analysis)
        else:
            check = ReferenceCheck(
                None, Refusal.UNREADABLE, f"The picture cannot be read ({result.message})."
            )
        if not check.accepted:
            reason = check.refusal.value if check.refusal else "unreadable"
            report.outcomes.append(
                ReferenceOutcome(
                    child_id, path.name, ReferenceStatus.REFUSED, reason, check.message
                )
            )
        else:
            accepted.append((child_id, path, check))
    return accepted


def _store_templates(
    station: Station,
    actor: Actor,
    source: str,
    accepted: list[_Accepted],
    children: dict[str, int],
    replace: bool,
    report: EnrolReport,
) -> None:
    """Store the accepted references' templates in one audited transaction (naming `source`),
    and send the photos they may now identify back for vetting."""
    with station.write(actor, ACTION, Role.ADMIN) as w:
        replaced_children: set[str] = set()
        stored: list[tuple[int, int, Encoding]] = []  # outcome's index, child, template
        # Read again: an objection or withdrawal may have been recorded while the photos were
        # being analysed, and then no template may be stored.
        allowed_now = biometric_states(w.session)
        for child_id, path, check in accepted:
            pk = children[child_id]
            if not allowed_now.get(pk, NO_BIOMETRIC_CONSENT).templates_allowed:
                report.outcomes.append(
                    _not_enrolled(
                        child_id,
                        path,
                        "not enrolled: biometric consent was withdrawn (or the child objected) "
                        "while the photo was being checked",
                    )
                )
                continue
            if replace and child_id not in replaced_children:
                report.replaced += _delete_templates(w.session, [pk])
                replaced_children.add(child_id)
            _store_template(station, w, pk, path, check)
            assert check.encoding is not None
            stored.append((len(report.outcomes), pk, check.encoding))
            report.outcomes.append(
                ReferenceOutcome(child_id, path.name, ReferenceStatus.ENROLLED, None, "enrolled")
            )
        alike = look_alikes(station, w.session, [(pk, enc) for _, pk, enc in stored])
        for number, words in alike.items():
            at = stored[number][0]
            report.outcomes[at] = dataclasses.replace(
                report.outcomes[at], reason=LOOK_ALIKE, message=words
            )
        if accepted or report.replaced:
            report.photos_to_revet = mark_for_revetting(w.session)
            # A cleared item was verified against the templates of its day: a new child's
            # template could match a face it shows. Back to review to be cleared again.
            report.withdrawn = withdraw_photo_items(w.session, "new reference photos were enrolled")
        report.outcomes.sort(key=lambda o: (o.child_id, o.file))
        w.audit(
            f"reference photos from {source}: {report.counts_in_words()}",
            target_type="faces",
            target_id=source[:64],  # the column's width
            details={k: v for k, v in report.as_json().items() if k != "references"}
            | {
                "children": sorted(
                    {o.child_id for o in report.outcomes if o.status == ReferenceStatus.ENROLLED}
                )
            },
        )


def _store_template(station: Station, w: Write, pk: int, path: Path, check: ReferenceCheck) -> None:
    """The reference sealed into the vault and its template stored, once per child and file
    (enrolling the same photo again changes nothing)."""
    sha = station.vault.put_sealed(path.read_bytes(), REFERENCE)
    known = w.session.scalar(
        select(FaceTemplate.id).where(
            FaceTemplate.child_id == pk, FaceTemplate.reference_sha256 == sha
        )
    )
    if known is not None:
        return
    assert check.face is not None and check.encoding is not None
    w.session.add(
        FaceTemplate(
            child_id=pk,
            encoding=seal_encoding(station, check.encoding),
            reference_sha256=sha,
            reference_name=path.name,
            face_width=check.face.width,
            sharpness=check.face.sharpness,
            created_by=w.actor.username,
        )
    )


def _not_enrolled(child_id: str, path: Path, message: str) -> ReferenceOutcome:
    return ReferenceOutcome(
        child_id, path.name, ReferenceStatus.NOT_ENROLLED, "no_biometric_consent", message
    )


def _delete_templates(session: Session, child_ids: list[int]) -> int:
    result = session.execute(delete(FaceTemplate).where(FaceTemplate.child_id.in_(child_ids)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def delete_templates(session: Session, child_id: int) -> int:
    """Remove a child's templates (inside the caller's transaction, e.g. a withdrawal)."""
    return _delete_templates(session, [child_id])


@dataclass(frozen=True)
class TemplateInfo:
    """A stored template as the admin sees it: which reference photo and how good it was."""

    id: int
    reference_name: str
    face_width: float
    sharpness: float
    created_at: datetime
    created_by: str

    @property
    def quality(self) -> str:
        """'good', 'too small' or 'blurred', by the limits a new reference must meet."""
        if self.face_width < REFERENCE_MIN_WIDTH:
            return "too small"
        if self.sharpness < REFERENCE_MIN_SHARPNESS:
            return "blurred"
        return "good"

    @property
    def verdict(self) -> str:
        """The quality in words for the admin, never a raw sharpness score."""
        sharp = "sharp" if self.sharpness >= 2 * REFERENCE_MIN_SHARPNESS else "a little soft"
        return f"{self.quality}: face {self.face_width:.0f} px wide, {sharp}"


def child_templates(station: Station, actor: Actor, mis_id: str) -> list[TemplateInfo]:
    """A child's templates, newest first (admins only: this is biometric data)."""
    station.require(actor, "faces.read", Role.ADMIN)
    with station.read() as session:
        child = find_child(session, mis_id)
        rows = session.scalars(
            select(FaceTemplate)
            .where(FaceTemplate.child_id == child.id)
            .order_by(FaceTemplate.id.desc())
        )
        return [
            TemplateInfo(
                t.id, t.reference_name, t.face_width, t.sharpness, t.created_at, t.created_by
            )
            for t in rows
        ]


def reference_picture(
    station: Station, actor: Actor, template_id: int, max_side: int = 240
) -> NDArray[np.uint8]:
    """The reference photo behind a template, decrypted, for the admin's screen."""
    station.require(actor, "faces.read", Role.ADMIN)
    with station.read() as session:
        template = session.get(FaceTemplate, template_id)
        if template is None:
            raise NotFound(f"There is no template {template_id}.")
        sha = template.reference_sha256
    return decode_image(station.vault.read_sealed(sha, REFERENCE), max_side=max_side).pixels


REMOVE_ACTION = "faces.remove"


def remove_template(station: Station, actor: Actor, template_id: int) -> int:
    """Delete one reference photo's template (a poor or outdated picture; admins only). Photos
    not yet decided are matched again without it (returns how many wait to be vetted again)."""
    with station.write(actor, REMOVE_ACTION, Role.ADMIN) as w:
        template = w.session.get(FaceTemplate, template_id)
        if template is None:
            raise NotFound(f"There is no reference photo {template_id}.")
        child = w.session.get(Child, template.child_id)
        assert child is not None
        name = template.reference_name
        w.session.delete(template)
        w.session.flush()
        revet = mark_for_revetting(w.session)
        w.audit(
            f"reference photo {name} of {child.mis_id} removed",
            target_type="child",
            target_id=child.mis_id,
            details={"reference": name, "photos_to_revet": revet},
        )
        return revet


def enrol_files(
    station: Station,
    actor: Actor,
    mis_id: str,
    files: list[Path],
    *,
    progress: Progress | None = None,
) -> EnrolReport:
    """Enrol photos dropped on a child's page: the same checks as a folder enrolment."""
    with scratch_dir(station.paths, "enrol") as tmp:
        folder = tmp / mis_id
        folder.mkdir()
        for number, source in enumerate(files):
            if source.suffix.lower() in PHOTO_TYPES:
                shutil.copyfile(source, folder / f"{number:03d}-{source.name}")
        named = ", ".join(f.name for f in files)
        return enrol_references(station, actor, tmp, progress=progress, source=named)
