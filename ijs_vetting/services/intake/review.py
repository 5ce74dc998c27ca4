"""Reviewing a photo's faces by hand: identify, mask, "not a face", draw a missed face, count heads.

The reviewer's word is stored beside the engine's findings (never instead of them) and the policy
is applied again at once, so a hand identification still needs consent: marking a face "show"
is refused, with the reason, unless the child identified may appear. Staff, SLT and admins
review; accepting a photo from an unregistered camera is for SLT and admins.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ijs_vetting.db.models import Child, Photo, PhotoFace
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import (
    ChangedElsewhere,
    FaceDecision,
    FaceOrigin,
    FaceOverride,
    FaceReason,
    InvalidInput,
    NotFound,
    PhotoStatus,
    Role,
)
from ijs_vetting.services.core.lookup import find_child
from ijs_vetting.services.core.station import Actor, Station, Write
from ijs_vetting.services.intake.deciding import UNDECIDED, decide
from ijs_vetting.services.intake.face_order import reading_order

REVIEW_ROLES = (Role.ADMIN, Role.SLT, Role.STAFF)
_REASON_WORDS = {
    "no_consent": "has no current consent for this channel (or has left the school)",
    "no_biometric_consent": "has no biometric consent, so cannot be shown from a match",
    "safeguarding": "must never be published (safeguarding)",
    "ambiguous": "is claimed by another face in this photo",
    "unknown": "is not identified: assign a child first",
    "too_small": "is too small to identify: assign a child first",
}


def _photo(session: Session, photo_id: int) -> Photo:
    photo = session.get(Photo, photo_id)
    if photo is None:
        raise NotFound(f"There is no photo {photo_id}.")
    if photo.status not in UNDECIDED:
        # Cleared, rejected or posted since the reviewer's screen showed it (here or on another
        # station): nothing is changed, and the front re-reads it.
        raise ChangedElsewhere(photo.filename, photo.status.value.replace("_", " "))
    return photo


def _face(session: Session, face_id: int) -> PhotoFace:
    face = session.get(PhotoFace, face_id)
    if face is None:  # the photo was vetted again meanwhile: its faces are new rows
        raise ChangedElsewhere("The face chosen")
    _photo(session, face.photo_id)
    return face


def _mis_id(session: Session, child_pk: int | None) -> str | None:
    child = session.get(Child, child_pk) if child_pk is not None else None
    return child.mis_id if child else None


def _named(face: PhotoFace) -> str:
    """The face as the reviewer saw it, for the audit: its number on the review screen (reading
    order) and the photo's file name. The database id ("face 5") names nothing a person sees."""
    number = reading_order(face.photo.faces).index(face) + 1
    return f"face {number} of {face.photo.filename}"


def _reviewed(face: PhotoFace, actor: Actor) -> None:
    face.reviewed_by, face.reviewed_at = actor.username, utcnow()


def _done(w: Write, photo: Photo, summary: str, **details: object) -> PhotoStatus:
    verdict = decide(w.session, photo)
    w.audit(
        summary,
        target_type="photo",
        target_id=str(photo.id),
        details={**details, "status": verdict.status.value},
    )
    return photo.status


def assign_child(station: Station, actor: Actor, face_id: int, child_id: str | None) -> PhotoStatus:
    """Identify a face as a child (or take the identification back with None)."""
    with station.write(actor, "review.assign", *REVIEW_ROLES) as w:
        face = _face(w.session, face_id)
        child = find_child(w.session, child_id) if child_id else None
        face.manual_child_id = child.id if child else None
        _reviewed(face, actor)
        photo = w.session.get(Photo, face.photo_id)
        assert photo is not None
        return _done(
            w,
            photo,
            f"{_named(face)} identified as {child_id or 'nobody'}",
            face_id=face_id,
            child_id=child_id,
        )


def assign_faces(station: Station, actor: Actor, face_ids: list[int], child_id: str) -> int:
    """Identify every face a reviewer selected as one child, in one transaction and one audit
    entry that lists each face: a human identification of faces the reviewer saw, which needs
    no biometric consent (the policy still decides, from consent, whether each is shown).
    Only the faces given are touched; returns how many were named."""
    if not face_ids:
        raise InvalidInput("Select the faces of this child first.")
    with station.write(actor, "review.assign_many", *REVIEW_ROLES) as w:
        child = find_child(w.session, child_id)
        faces = [_face(w.session, face_id) for face_id in dict.fromkeys(face_ids)]
        photos: dict[int, Photo] = {}
        for face in faces:
            if face.photo_id in photos:
                raise InvalidInput(
                    f"Two faces of {face.photo.filename} were selected: a child is in a photo "
                    "only once, so pick the one that is this child."
                )
            face.manual_child_id = child.id
            _reviewed(face, actor)
            photos[face.photo_id] = face.photo
        for photo in photos.values():
            decide(w.session, photo)
        w.audit(
            f"{len(faces)} face(s) identified by a reviewer as {child.mis_id}",
            target_type="child",
            target_id=child.mis_id,
            details={
                "identification": "human",
                "child_id": child.mis_id,
                "faces": [
                    {"face_id": f.id, "photo_id": f.photo_id, "file": f.photo.filename}
                    for f in faces
                ],
            },
        )
        return len(faces)


def set_override(
    station: Station, actor: Actor, face_id: int, override: FaceOverride | None
) -> PhotoStatus:
    """Mask a face, say it is not a face, or (None) return it to the policy's decision."""
    with station.write(actor, "review.override", *REVIEW_ROLES) as w:
        face = _face(w.session, face_id)
        if override is FaceOverride.NOT_A_FACE and face.origin is FaceOrigin.DRAWN:
            raise InvalidInput("A face drawn by a reviewer cannot be 'not a face'; delete it.")
        face.override = override
        _reviewed(face, actor)
        photo = w.session.get(Photo, face.photo_id)
        assert photo is not None
        label = override.value.replace("_", " ") if override else "policy decision"
        return _done(
            w,
            photo,
            f"{_named(face)}: {label}",
            face_id=face_id,
            override=override.value if override else None,
        )


def reset_face(station: Station, actor: Actor, face_id: int) -> PhotoStatus:
    """Undo a reviewer's work on one face (the mask or "not a face", and a hand
    identification) in one transaction: the face is the engine's finding again, decided by
    the policy. One user action, one audit entry: a fault cannot leave it half undone."""
    with station.write(actor, "review.reset", *REVIEW_ROLES) as w:
        face = _face(w.session, face_id)
        undone = {
            "override": face.override.value if face.override else None,
            "child_id": _mis_id(w.session, face.manual_child_id),
        }
        face.override, face.manual_child_id = None, None
        _reviewed(face, actor)
        photo = w.session.get(Photo, face.photo_id)
        assert photo is not None
        return _done(w, photo, f"{_named(face)}: review undone", face_id=face_id, undone=undone)


def mark_show(station: Station, actor: Actor, face_id: int) -> PhotoStatus:
    """Show a face: only if it is identified and that child may appear; else say why not."""
    with station.write(actor, "review.show", *REVIEW_ROLES) as w:
        face = _face(w.session, face_id)
        photo = w.session.get(Photo, face.photo_id)
        assert photo is not None
        face.override = None
        decide(w.session, photo)
        if face.decision is not FaceDecision.SHOW:  # raising rolls the change back
            words = _REASON_WORDS.get(face.reason.value, face.reason.value.replace("_", " "))
            raise InvalidInput(f"This face cannot be shown: the child {words}.")
        # The identity stays what it was (a match stays a match, so a later withdrawal of
        # biometric consent still pulls the photo); showing only lifts the reviewer's mask.
        _reviewed(face, actor)
        return _done(w, photo, f"{_named(face)} shown", face_id=face_id)


def draw_face(
    station: Station,
    actor: Actor,
    photo_id: int,
    box: tuple[int, int, int, int],
    child_id: str | None = None,
) -> int:
    """Add a face the detector missed (left, top, right, bottom in upright pixels); always masked.
    Returns the new face's id."""
    left, top, right, bottom = box
    with station.write(actor, "review.draw", *REVIEW_ROLES) as w:
        photo = _photo(w.session, photo_id)
        width, height = photo.width or right, photo.height or bottom
        left, top = max(0, left), max(0, top)
        right, bottom = min(width, right), min(height, bottom)
        if right - left < 4 or bottom - top < 4:
            raise InvalidInput("Draw a box around the face (at least a few pixels each way).")
        child = find_child(w.session, child_id) if child_id else None
        face = PhotoFace(
            left=left,
            top=top,
            right=right,
            bottom=bottom,
            score=1.0,
            too_small=False,
            decision=FaceDecision.BLUR,
            reason=FaceReason.DRAWN,
            origin=FaceOrigin.DRAWN,
            manual_child_id=child.id if child else None,
            reviewed_by=actor.username,
            reviewed_at=utcnow(),
        )
        photo.faces.append(face)
        w.session.flush()
        _done(
            w,
            photo,
            f"{_named(face)} drawn by hand",
            face_id=face.id,
            box=[left, top, right, bottom],
            child_id=child_id,
        )
        return face.id


def delete_drawn_face(station: Station, actor: Actor, face_id: int) -> PhotoStatus:
    """Remove a face a reviewer drew by mistake (detected faces are never deleted)."""
    with station.write(actor, "review.undraw", *REVIEW_ROLES) as w:
        face = _face(w.session, face_id)
        if face.origin is not FaceOrigin.DRAWN:
            raise InvalidInput("Only faces drawn by a reviewer can be deleted; mark it instead.")
        photo = w.session.get(Photo, face.photo_id)
        assert photo is not None
        summary = f"{_named(face)} (drawn by hand) deleted"
        photo.faces.remove(face)
        w.session.flush()
        return _done(w, photo, summary, face_id=face_id)


def set_head_count(station: Station, actor: Actor, photo_id: int, count: int | None) -> PhotoStatus:
    """Record how many people the reviewer sees; more than the faces marked blocks clearing."""
    if count is not None and count < 0:
        raise InvalidInput("The head count cannot be negative.")
    with station.write(actor, "review.head_count", *REVIEW_ROLES) as w:
        photo = _photo(w.session, photo_id)
        photo.head_count = count
        return _done(w, photo, f"head count of {photo.filename}: {count}", head_count=count)


def accept_photo(station: Station, actor: Actor, photo_id: int) -> PhotoStatus:
    """SLT or an admin has looked at a held photo: accept its camera (if unregistered) and lift
    the hold (a failed check or a withdrawn item); the policy then decides again."""
    with station.write(actor, "review.accept", Role.ADMIN, Role.SLT) as w:
        photo = _photo(w.session, photo_id)
        held, photo.hold_reason = photo.hold_reason, None
        photo.camera_confirmed_by = photo.camera_confirmed_by or actor.username
        return _done(
            w,
            photo,
            f"{photo.filename} accepted as reviewed",
            hold=held,
            camera=f"{photo.camera_make or ''} {photo.camera_model or ''}".strip(),
        )
