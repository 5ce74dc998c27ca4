"""Deciding: the policy applied to a photo's stored faces, and applied again when the register
changes.

No pixels are needed here: who a face matched does not change when consent does, so a consent,
safeguarding, biometric or roster change re-decides the photos it touches from their stored
match results (`redecide`, in the caller's transaction; `redecide_in_batches` for every photo).
Only new templates need the pixels again (`mark_for_revetting`, then services.intake.vetting).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import flag_modified

from ijs_vetting.db.models import Child, Device, Photo, PhotoFace
from ijs_vetting.db.record_seals import checked_children
from ijs_vetting.db.state import biometric_states, current_consents, safeguarding_flags
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import (
    NO_BIOMETRIC_CONSENT,
    FaceOrigin,
    FaceOverride,
    PhotoStatus,
)
from ijs_vetting.policy import FaceEvidence, PhotoVerdict, Standing, decide_photo
from ijs_vetting.progress import Progress
from ijs_vetting.services.core.changes import write_counter
from ijs_vetting.services.core.standing import counts_today
from ijs_vetting.services.core.station import Station
from ijs_vetting.services.core.station_settings import settings_of

# Photos whose decisions may still change: nothing has been cleared from them yet.
UNDECIDED = (
    PhotoStatus.READY,
    PhotoStatus.READY_WITH_BLUR,
    PhotoStatus.REVIEW,
    PhotoStatus.REJECTED,
)


def identified(face: PhotoFace) -> bool:
    """Whether matching or a person has said whose face this is (or that it is none)."""
    return (
        face.manual_child_id is not None
        or face.child_id is not None
        or face.override is FaceOverride.NOT_A_FACE
    )


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


UNREGISTERED_CAMERA = "is not a registered school device"  # Review offers to register it


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
    return f"the camera ({camera}) {UNREGISTERED_CAMERA}"


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
