"""Vetting: turning the face engine's findings into stored decisions, and re-deciding them.

Two paths, on purpose:
- `vet_pending` runs the face engine (in worker processes) on photos waiting for it, matches
  each face against the children's templates in this process, and stores boxes, match results
  and decisions — never an encoding. Each photo is committed on its own, so an interrupted run
  loses at most the photos in flight, which are still `pending` and are vetted by the next run.
- `redecide` re-applies the policy to stored match results after a consent, safeguarding,
  biometric or roster change. No pixels are needed: who a face matched does not change when
  consent does. Only new templates need the pixels again (`mark_for_revetting`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import flag_modified

from ijs_vetting.crypto import SealBroken
from ijs_vetting.db.models import Child, Device, FaceTemplate, Photo, PhotoFace
from ijs_vetting.db.record_seals import checked_children
from ijs_vetting.db.state import biometric_states, current_consents, safeguarding_flags
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import (
    NO_BIOMETRIC_CONSENT,
    FaceDecision,
    FaceOrigin,
    FaceOverride,
    FaceReason,
    PhotoStatus,
    Role,
)
from ijs_vetting.faces.likeness import likeness_order
from ijs_vetting.faces.match import TemplateSet
from ijs_vetting.faces.pool import FacePool, PhotoDone, PhotoFailed
from ijs_vetting.faces.results import Encoding, PhotoAnalysis
from ijs_vetting.policy import FaceEvidence, PhotoVerdict, Standing, decide_photo
from ijs_vetting.progress import Progress
from ijs_vetting.services.core.changes import write_counter
from ijs_vetting.services.core.standing import counts_today
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.core.station_settings import settings_of
from ijs_vetting.vault import RESTORE_HINT, VaultFileAltered, VaultFileMissing

# Photos whose decisions may still change: nothing has been cleared from them yet.
UNDECIDED = (
    PhotoStatus.READY,
    PhotoStatus.READY_WITH_BLUR,
    PhotoStatus.REVIEW,
    PhotoStatus.REJECTED,
)
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


def identified(face: PhotoFace) -> bool:
    """Whether matching or a person has said whose face this is (or that it is none)."""
    return (
        face.manual_child_id is not None
        or face.child_id is not None
        or face.override is FaceOverride.NOT_A_FACE
    )


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


def standings(session: Session, child_ids: Iterable[int]) -> dict[int, Standing]:
    """Each child's standing for the vetting channel, read fresh inside the caller's transaction."""
    ids = list(set(child_ids))
    if not ids:
        return {}
    channel = settings_of(session).vetting_channel
    review, today = settings_of(session).consent_review, date.today()
    consents = current_consents(session, ids)
    biometric = biometric_states(session, ids)
    flags = safeguarding_flags(session, ids)
    out: dict[int, Standing] = {}
    children = list(session.scalars(select(Child).where(Child.id.in_(ids))))
    checked_children(session, children)  # a leaver put back on roll outside the station
    for child in children:
        record = consents.get((child.id, channel))
        flag = flags.get(child.id)
        out[child.id] = Standing(
            on_roll=child.on_roll,
            consent=counts_today(record, review, today),  # lapsed after its review: none
            templates_allowed=biometric.get(child.id, NO_BIOMETRIC_CONSENT).templates_allowed,
            never_publish=bool(flag and flag.active),
        )
    return out


def camera_note(session: Session, photo: Photo, devices: list[Device] | None = None) -> str | None:
    """Why the photo's camera is not acceptable, or None. No check while no device is registered
    (a new station must work before IT has listed the iPads). `devices`: the active devices,
    when the caller read them once for many photos."""
    if devices is None:
        devices = active_devices(session)
    if not devices:
        return None
    make, model = (
        (photo.camera_make or "").strip().lower(),
        (photo.camera_model or "").strip().lower(),
    )
    for device in devices:
        if device.make.strip().lower() == make and device.model.strip().lower() == model:
            photo.device_id = device.id
            return None
    if not make and not model:
        return "the photo has no camera information to show it came from a school device"
    camera = f"{photo.camera_make or '?'} {photo.camera_model or '?'}"
    return f"the camera ({camera}) is not a registered school device"


def active_devices(session: Session) -> list[Device]:
    return list(session.scalars(select(Device).where(Device.active.is_(True))))


def _evidence(face: PhotoFace) -> FaceEvidence:
    return FaceEvidence(
        too_small=face.too_small,
        candidate=face.candidate_child_id,
        distance=face.distance,
        runner_up=face.runner_up_distance,
        manual_child=face.manual_child_id,
        override=face.override,
        drawn=face.origin is FaceOrigin.DRAWN,
        found_at_check=face.origin is FaceOrigin.VERIFICATION and face.reviewed_by is None,
    )


def _apply(session: Session, photo: Photo, verdict: PhotoVerdict) -> None:
    for face, face_verdict in zip(photo.faces, verdict.faces, strict=True):
        after = (face_verdict.decision, face_verdict.reason, face_verdict.child)
        if (face.decision, face.reason, face.child_id) == after:
            continue
        face.decision, face.reason, face.child_id = after
        # a changed face writes all three, so a batch's changed faces share one UPDATE
        # statement (the flush groups rows by the columns they set) instead of one per face
        for column in _FACE_DECISION:
            flag_modified(face, column)
    notes = "; ".join(verdict.notes) or None
    if photo.rejected_by is not None:  # an SLT rejection stands whatever the faces say
        photo.status, photo.status_note = PhotoStatus.REJECTED, photo.rejected_reason
    elif photo.hold_reason and verdict.status is not PhotoStatus.REJECTED:
        # sent back to a person (failed check, withdrawn item): stays until they accept it
        photo.status = PhotoStatus.REVIEW
        photo.status_note = "; ".join(n for n in (photo.hold_reason, notes) if n)
    else:
        photo.status, photo.status_note = verdict.status, notes
    photo.vetted_at = utcnow()
    for column in _PHOTO_DECISION:
        flag_modified(photo, column)


_FACE_DECISION = ("decision", "reason", "child_id")
_PHOTO_DECISION = ("status", "status_note")


def _shown_children(photo: Photo) -> list[int]:
    return [
        c for f in photo.faces for c in (f.candidate_child_id, f.manual_child_id) if c is not None
    ]


def decide(session: Session, photo: Photo) -> PhotoVerdict:
    """Apply the policy to a photo's stored faces and store the outcome."""
    return _decide_with(
        session,
        photo,
        standings(session, _shown_children(photo)),
        None if photo.camera_confirmed_by else active_devices(session),
    )


def _decide_with(
    session: Session,
    photo: Photo,
    standing: dict[int, Standing],
    devices: list[Device] | None,
) -> PhotoVerdict:
    """`decide` with the standings and devices already read (once for a whole batch)."""
    verdict = decide_photo(
        [_evidence(f) for f in photo.faces],
        standing,
        settings_of(session).thresholds,
        camera_note=None if photo.camera_confirmed_by else camera_note(session, photo, devices),
        head_count=photo.head_count,
    )
    _apply(session, photo, verdict)
    return verdict


def decide_all(session: Session, photos: Sequence[Photo]) -> None:
    """Decide many photos with one read of each table (standings, devices), not one per photo:
    re-deciding a school's photos must not cost seven queries each."""
    if not photos:
        return
    everyone = {c for photo in photos for c in _shown_children(photo)}
    _decide_each(session, photos, standings(session, everyone), active_devices(session))


def _decide_each(
    session: Session, photos: Sequence[Photo], standing: dict[int, Standing], devices: list[Device]
) -> None:
    for photo in photos:
        _decide_with(session, photo, standing, devices)


@dataclass(frozen=True)
class _RegisterRead:
    """What deciding reads from the register (every child's standing, the school devices), as
    it stood when the register's write counter (`services.core.changes`) was `counter`."""

    counter: int
    standing: dict[int, Standing]
    devices: list[Device]

    @classmethod
    def now(cls, session: Session) -> _RegisterRead:
        everyone = session.scalars(select(Child.id)).all()
        return cls(write_counter(session), standings(session, everyone), active_devices(session))

    def current(self, session: Session) -> _RegisterRead:
        """Itself while no transaction but its holder's own wrote since, else read afresh."""
        return self if write_counter(session) == self.counter else _RegisterRead.now(session)

    def after_own_commit(self) -> _RegisterRead:
        return _RegisterRead(self.counter + 1, self.standing, self.devices)

    def decide(self, session: Session, photos: Sequence[Photo]) -> None:
        _decide_each(session, photos, self.standing, self.devices)


def _undecided(child_ids: list[int] | None) -> Select[Photo]:
    query = select(Photo).where(Photo.status.in_(UNDECIDED))
    if child_ids is not None:
        showing = select(PhotoFace.photo_id).where(
            PhotoFace.candidate_child_id.in_(child_ids) | PhotoFace.manual_child_id.in_(child_ids)
        )
        query = query.where(Photo.id.in_(showing))
    return query.options(selectinload(Photo.faces))


def redecide(session: Session, child_ids: Iterable[int] | None = None) -> int:
    """Re-apply the policy to undecided photos showing any of `child_ids` (all when None), in
    the caller's transaction (a consent change and its cascade commit together)."""
    ids = None if child_ids is None else list(child_ids)
    if ids is not None and not ids:
        return 0
    photos = list(session.scalars(_undecided(ids)))
    decide_all(session, photos)
    return len(photos)


REDECIDE_BATCH = 500  # photos per transaction: well under a second of write lock each


def redecide_in_batches(
    station: Station, *, progress: Progress | None = None, batch: int = REDECIDE_BATCH
) -> int:
    """Re-decide every undecided photo, `batch` photos per transaction in id order, so no
    transaction holds the write lock long enough to make another station's change fail as
    "busy". Each batch decides with the register as it stands in its own transaction: the
    standings read for the first batch are read again only when another transaction than this
    re-decision's own wrote in between (the register's write counter moved by more than one),
    so 20,000 photos cost one read of the register, not forty (issue 15).

    Stopping part-way (`Cancelled` from `progress`) leaves the photos not yet reached with
    their earlier decisions; that is safe because clearing decides a photo again, with the
    settings in force, before it queues anything (`services.clearing`)."""
    with station.read() as session:
        total = int(
            session.scalar(select(func.count(Photo.id)).where(Photo.status.in_(UNDECIDED))) or 0
        )
    if progress is not None:
        progress.start(total, "re-deciding photos")
    done, after = 0, 0
    register: _RegisterRead | None = None
    while True:
        with station.transaction() as session:
            photos = list(
                session.scalars(
                    _undecided(None).where(Photo.id > after).order_by(Photo.id).limit(batch)
                )
            )
            if not photos:
                return done
            register = _RegisterRead.now(session) if register is None else register.current(session)
            register.decide(session, photos)
            count, after = len(photos), photos[-1].id
        register = register.after_own_commit()  # the transaction bumped the counter once
        done += count
        if progress is not None:
            progress.step("re-deciding photos", count)


def mark_for_revetting(session: Session) -> int:
    """Send every undecided photo back to `pending`: templates changed, faces must be re-matched."""
    result = session.execute(
        update(Photo).where(Photo.status.in_(UNDECIDED)).values(status=PhotoStatus.PENDING)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


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
