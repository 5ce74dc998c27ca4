"""Adding a face found in a photo as a reference photo of the child a person identified it as.

A reference becomes a template, which is biometric data: admins only, and only for a child with
biometric consent who does not object (PoFA ss.26-28); the refusal comes before the photo is
even read. The crop goes through the same checks as any reference (one face, big and sharp
enough), via `templates.enrol_files`, so a face too small or blurred is refused in words.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from ijs_vetting.db.models import Child, Photo, PhotoFace
from ijs_vetting.db.state import biometric_states
from ijs_vetting.domain import NO_BIOMETRIC_CONSENT, InvalidInput, NotFound, Role
from ijs_vetting.imaging.decode import decode_image
from ijs_vetting.scratch import scratch_dir
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.register.templates import ACTION, EnrolReport, enrol_files

# Room around the box, as a share of its width on each side: the checks look for one whole face.
MARGIN = 0.6


def add_face_as_reference(station: Station, actor: Actor, face_id: int) -> EnrolReport:
    """Enrol the face `face_id` as a reference photo of the child it is identified as."""
    station.require(actor, ACTION, Role.ADMIN)
    with station.read() as session:
        face = session.get(PhotoFace, face_id)
        if face is None:
            raise NotFound(f"There is no face {face_id}.")
        child_pk = face.manual_child_id or face.child_id
        if child_pk is None:
            raise InvalidInput("Identify the face as a child first; then it can be a reference.")
        child = session.get(Child, child_pk)
        photo = session.get(Photo, face.photo_id)
        assert child is not None and photo is not None
        name = f"{child.preferred_name or child.first_name} {child.last_name}"
        if (
            not biometric_states(session, [child_pk])
            .get(child_pk, NO_BIOMETRIC_CONSENT)
            .templates_allowed
        ):
            raise InvalidInput(
                f"{name} has no biometric consent (or objects), so no reference photo can be "
                "added: the face stays identified by hand only."
            )
        mis_id, sha, filename = child.mis_id, photo.sha256, photo.filename
        box = (face.left, face.top, face.right, face.bottom)
    pixels = decode_image(station.vault.read_bytes(sha, "the photo")).pixels
    left, top, right, bottom = box
    pad = int((right - left) * MARGIN)
    height, width = pixels.shape[:2]
    crop = pixels[
        max(0, top - pad) : min(height, bottom + pad), max(0, left - pad) : min(width, right + pad)
    ]
    with scratch_dir(station.paths, "face-reference") as tmp:
        path = tmp / f"{Path(filename).stem}-face-{face_id}.jpg"
        Image.fromarray(crop).save(path, quality=92)
        return enrol_files(station, actor, mis_id, [path])
