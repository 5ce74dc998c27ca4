"""Vetting: the face engine's findings on photos waiting for it, turned into stored decisions.

`vet_pending` runs the face engine (in worker processes) on pending photos, matches each face
against the children's templates in this process, and stores boxes, match results and
decisions (services.intake.deciding) — never an encoding. Each photo is committed on its own,
so an interrupted run loses at most the photos in flight, which are still `pending` and are
vetted by the next run. A change of consent needs no pixels and does not come here: it
re-decides from the stored match results (`deciding.redecide`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ijs_vetting.crypto import SealBroken
from ijs_vetting.db.models import FaceTemplate, Photo, PhotoFace
from ijs_vetting.db.state import biometric_states
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import (
    FaceDecision,
    FaceOrigin,
    FaceReason,
    PhotoStatus,
    Role,
)
from ijs_vetting.faces.likeness import likeness_order
from ijs_vetting.faces.match import TemplateSet
from ijs_vetting.faces.pool import FacePool, PhotoDone, PhotoFailed
from ijs_vetting.faces.results import Encoding, PhotoAnalysis
from ijs_vetting.policy import PhotoVerdict
from ijs_vetting.progress import Progress
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.core.station_settings import settings_of
from ijs_vetting.services.intake.deciding import decide, identified
from ijs_vetting.vault import RESTORE_HINT, VaultFileAltered, VaultFileMissing

_ENCODING_DTYPE = np.float64
# Who may have photos vetted: everyone who may import them.
VET_ROLES = (Role.ADMIN, Role.SLT, Role.STAFF)


TEMPLATE = b"template"  # what a sealed template is, bound into its encryption


def seal_encoding(station: Station, encoding: np.ndarray[Any, Any]) -> bytes:
    """A template as stored: the encoding's bytes, encrypted with the station's key."""
    plain = np.asarray(encoding, dtype=_ENCODING_DTYPE).tobytes()
    return station.sealer.seal(plain, TEMPLATE)


def open_encoding(station: Station, data: bytes) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.frombuffer(station.sealer.open(data, TEMPLATE), dtype=_ENCODING_DTYPE)


@dataclass
class VetReport:
    vetted: int = 0
    retried: int = 0  # failed photos sent back for vetting first (`retry_failed`)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    statuses: dict[str, int] = field(default_factory=dict)
    # The unidentified faces vetted, arranged by likeness (face ids), when the school enabled
    # it (`faces.order_unknown_by_likeness`, DPIA section 7a); else empty. Kept in memory for
    # the "Who is this?" view that follows the import, never stored.
    likeness: list[int] = field(default_factory=list)


def load_templates(station: Station, session: Session) -> TemplateSet[int]:
    """Every child's templates, for children whose biometric consent still allows them."""
    allowed = {cid for cid, state in biometric_states(session).items() if state.templates_allowed}
    grouped: dict[int, list[np.ndarray[Any, Any]]] = {}
    rows = select(FaceTemplate.id, FaceTemplate.child_id, FaceTemplate.encoding)
    for template_id, child_id, data in session.execute(rows):
        if child_id not in allowed:
            continue
        try:
            grouped.setdefault(child_id, []).append(open_encoding(station, data))
        except SealBroken as exc:  # fail closed: no vetting on a template set with a hole
            raise SealBroken(
                f"Face template {template_id} cannot be used ({exc}), so nothing can be vetted "
                "or cleared; an admin should enrol that child's reference photos again."
            ) from exc
    return TemplateSet({cid: np.vstack(rows) for cid, rows in grouped.items()})


def template_version(session: Session) -> tuple[int, int]:
    """Changes whenever a template is added or deleted (count and newest id)."""
    count, newest = session.execute(
        select(func.count(FaceTemplate.id), func.max(FaceTemplate.id))
    ).one()
    return int(count or 0), int(newest or 0)


def _store_analysis(
    session: Session,
    photo: Photo,
    analysis: PhotoAnalysis,
    templates: TemplateSet[int],
    unknown: list[tuple[int, Encoding]] | None = None,
) -> PhotoVerdict:
    """Replace the photo's detected faces with this analysis, keeping what reviewers did:
    drawn faces stay, and a reviewer's identification or mask moves to the re-detected face
    that overlaps it most (re-vetting after new templates must not undo a person's work).
    `unknown` (when given) gets each face left unidentified, by id, with its encoding."""
    previous = [f for f in photo.faces if f.origin is FaceOrigin.DETECTED]
    reviewed = [f for f in previous if f.manual_child_id is not None or f.override is not None]
    for stale in previous:
        photo.faces.remove(stale)
    session.flush()
    photo.width, photo.height = analysis.width, analysis.height
    encoded: list[tuple[PhotoFace, Encoding]] = []
    for face in analysis.faces:
        match = templates.match(face.encoding) if face.encoding is not None else None
        left, top, right, bottom = face.box.as_ints()
        row = PhotoFace(
            left=left,
            top=top,
            right=right,
            bottom=bottom,
            score=face.score,
            too_small=face.too_small,
            candidate_child_id=match.key if match else None,
            distance=match.distance if match else None,
            runner_up_distance=match.runner_up_distance if match else None,
            decision=FaceDecision.BLUR,
            reason=FaceReason.UNKNOWN,
            origin=FaceOrigin.DETECTED,
        )
        old = max(reviewed, key=lambda f: f.box.iou(face.box), default=None)
        if old is not None and old.box.iou(face.box) >= 0.5:
            reviewed.remove(old)
            row.manual_child_id, row.override = old.manual_child_id, old.override
            row.reviewed_by, row.reviewed_at = old.reviewed_by, old.reviewed_at
        photo.faces.append(row)
        if face.encoding is not None:
            encoded.append((row, face.encoding))
    session.flush()
    verdict = decide(session, photo)
    if unknown is not None:
        unknown.extend((row.id, encoding) for row, encoding in encoded if not identified(row))
    return verdict


def vet_pending(
    station: Station,
    actor: Actor,
    *,
    progress: Progress | None = None,
    workers: int | None = None,
    pool: FacePool | None = None,
) -> VetReport:
    """Vet every pending photo for `actor`; each photo is committed as soon as it is decided.

    Not audited here: the service that sent the photos to vetting audits the user's action
    (an import, a reference photo, `revet_pending`), and each decision is the register's
    consequence of it, re-made the same way from the same register at any time.

    `pool` is a (possibly already started) pool to use, left open; without one, a pool of
    `workers` processes (None: as many as the PC holds) is started and closed here, and
    `workers` is not used when a pool is given."""
    station.require(actor, "photos.vet", *VET_ROLES)
    station.require_vault()  # a vault that is gone is not every photo's failure
    if pool is None:
        with FacePool(workers) as own:
            return vet_pending(station, actor, progress=progress, pool=own)
    report = VetReport()
    with station.read() as session:
        by_likeness = settings_of(session).order_unknown_by_likeness
    unknown: list[tuple[int, Encoding]] | None = [] if by_likeness else None
    while _vet_pass(station, pool, progress, report, unknown):
        pass  # the identification size changed meanwhile: vet again what is pending, on it
    if unknown:
        report.likeness = likeness_order(unknown)
    return report


def _vet_pass(
    station: Station,
    pool: FacePool,
    progress: Progress | None,
    report: VetReport,
    unknown: list[tuple[int, Encoding]] | None,
) -> bool:
    """Vet the photos pending now, adding to `report` (and to `unknown`, when given, the
    unidentified faces' encodings); True when `faces.min_identify_width`
    changed while they were analysed. Such a result is not stored (the faces it found
    identifiable were judged on the old size) and the photo stays pending, as does every photo
    the change sent back (`configure.set_setting`), for the next pass."""
    with station.read() as session:
        pending = [
            (p.id, p.sha256, p.filename)
            for p in session.scalars(
                select(Photo).where(Photo.status == PhotoStatus.PENDING).order_by(Photo.id)
            )
        ]
        templates = load_templates(station, session)
        version = template_version(session)
        width = settings_of(session).min_identify_width
    names = {pid: name for pid, _sha, name in pending}
    intact, broken = _originals(station, pending)
    resized = False
    for result in chain(broken, pool.analyse(intact, progress=progress, min_identify_width=width)):
        with station.transaction() as session:
            photo = session.get(Photo, result.key, populate_existing=True)
            if photo is None or photo.status is not PhotoStatus.PENDING:
                continue  # deleted or already handled by another station meanwhile
            if settings_of(session).min_identify_width != width:
                resized = True
                continue
            now = template_version(session)
            if now != version:
                # templates were enrolled, replaced or deleted while this run went on: the
                # encodings are still in hand, so match them against the templates of now
                templates, version = load_templates(station, session), now
            if isinstance(result, PhotoDone):
                verdict = _store_analysis(session, photo, result.analysis, templates, unknown)
                status = verdict.status
            else:
                photo.faces.clear()
                photo.status, photo.status_note = PhotoStatus.FAILED, result.message
                photo.vetted_at = utcnow()
                report.failed.append((names[result.key], result.message))
                status = PhotoStatus.FAILED
        report.vetted += 1
        report.statuses[status.value] = report.statuses.get(status.value, 0) + 1
    with station.read() as session:
        return resized or settings_of(session).min_identify_width != width


def _originals(
    station: Station, pending: list[tuple[int, str, str]]
) -> tuple[list[tuple[int, Path]], list[PhotoFailed[int]]]:
    """The vault paths of the originals still intact, for the workers, and a failure for each
    one missing or altered: a photo is only ever vetted on the bytes that were imported."""
    intact: list[tuple[int, Path]] = []
    broken: list[PhotoFailed[int]] = []
    for photo_id, sha, _name in pending:
        try:
            intact.append((photo_id, station.vault.check(sha, "its original")))
        except (VaultFileMissing, VaultFileAltered) as exc:
            broken.append(PhotoFailed(photo_id, True, f"{exc}; {RESTORE_HINT}"))
    return intact, broken


def revet_pending(
    station: Station,
    actor: Actor,
    *,
    progress: Progress | None = None,
    workers: int | None = None,
) -> VetReport:
    """Vet what is waiting (after new templates, or photos left pending by a crash); audited."""
    report = vet_pending(station, actor, progress=progress, workers=workers)
    with station.write(actor, "photos.vet", *VET_ROLES) as w:
        w.audit(
            f"vetted {report.vetted} waiting photos",
            target_type="photos",
            details={
                "vetted": report.vetted,
                "statuses": report.statuses,
                "failed": len(report.failed),
            },
        )
    return report


def retry_failed(
    station: Station,
    actor: Actor,
    *,
    progress: Progress | None = None,
    workers: int | None = None,
) -> VetReport:
    """Vet the failed photos again, with whatever else is waiting; audited.

    A photo fails when its file cannot be read or its analysis crashed. The original stays in
    the vault, and importing the same file again only finds a duplicate, so this is how the
    office tries again after the cause is fixed (an update, more memory). A damaged file simply
    fails again, with its reason.
    """
    station.require_vault()
    with station.write(actor, "photos.retry", *VET_ROLES) as w:
        failed = [
            photo
            for photo in w.session.scalars(select(Photo).where(Photo.status == PhotoStatus.FAILED))
            if station.vault.contains(photo.sha256)
        ]
        for photo in failed:
            photo.status, photo.status_note = PhotoStatus.PENDING, None
        w.audit(
            f"sent {len(failed)} failed photos back for vetting",
            target_type="photos",
            details={"photos": [photo.id for photo in failed]},
        )
    report = revet_pending(station, actor, progress=progress, workers=workers)
    report.retried = len(failed)
    return report
