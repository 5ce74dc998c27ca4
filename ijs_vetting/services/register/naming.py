""" "Who is this?": the faces of an import that nobody identified, for a reviewer to name by hand.

A trip's photos hold the same unidentified children many times; the reviewer picks out the crops
that are one child and names them together (`review.assign_faces`). The listing gives each face
by photo and position (its number in reading order, as on the review screen) and which year
groups the photo already shows, so the names proposed are that year's children first. Nothing
here compares faces: that would be biometric processing (see docs/DPIA.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ijs_vetting.db.models import Child, ImportBatch, Photo
from ijs_vetting.services.core.station import Station
from ijs_vetting.services.intake.deciding import UNDECIDED, identified
from ijs_vetting.services.intake.face_order import reading_order
from ijs_vetting.services.register.children import ChildSummary


@dataclass(frozen=True)
class UnnamedFace:
    """One face nobody identified: where it is, and what its photo already tells."""

    face_id: int
    photo_id: int
    sha256: str  # the photo's original in the vault, for the crop
    file: str
    photo_width: int  # upright pixels, to map the box onto a reduced picture
    position: int  # its number in the photo's reading order (1 = top left)
    left: int
    top: int
    right: int
    bottom: int
    year_groups: frozenset[int]  # of the children identified in the same photo


def latest_batch(station: Station) -> int | None:
    """The most recent import (what "after an import" means on the screen)."""
    with station.read() as session:
        newest: int | None = session.scalar(select(func.max(ImportBatch.id)))
        return newest


def unnamed_faces(
    station: Station, batch_id: int | None, likeness: Sequence[int] = ()
) -> list[UnnamedFace]:
    """Faces of the batch's undecided photos that neither matching nor a reviewer identified,
    photo by photo in import order, each photo's faces in reading order; or, given the
    import's `likeness` arrangement (face ids, `VetReport.likeness`), in that order, with any
    face it does not hold after them."""
    query = (
        select(Photo)
        .options(selectinload(Photo.faces))
        .where(Photo.status.in_(UNDECIDED))
        .order_by(Photo.id)
    )
    if batch_id is not None:
        query = query.where(Photo.batch_id == batch_id)
    with station.read() as session:
        found = list(session.scalars(query))
        years = {cid: year for cid, year in session.execute(select(Child.id, Child.year_group))}
        out: list[UnnamedFace] = []
        for photo in found:
            shown = frozenset(
                years[cid]
                for f in photo.faces
                if (cid := f.manual_child_id or f.child_id) is not None and cid in years
            )
            for position, face in enumerate(reading_order(photo.faces), start=1):
                if identified(face):
                    continue
                out.append(
                    UnnamedFace(
                        face.id,
                        photo.id,
                        photo.sha256,
                        photo.filename,
                        photo.width or face.right,
                        position,
                        face.left,
                        face.top,
                        face.right,
                        face.bottom,
                        shown,
                    )
                )
    if likeness:
        rank = {face_id: n for n, face_id in enumerate(likeness)}
        out.sort(key=lambda face: rank.get(face.face_id, len(rank)))  # stable: the rest after
    return out


def proposed_order(children: list[ChildSummary], faces: list[UnnamedFace]) -> list[ChildSummary]:
    """Children of the year groups the selected faces' photos show first, then everyone else,
    each part in register order (year, class, name)."""
    years = frozenset().union(*(f.year_groups for f in faces)) if faces else frozenset()
    return sorted(children, key=lambda c: c.year_group not in years)
