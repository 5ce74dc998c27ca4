"""Reviewing faces by hand: identification under consent, masks, drawn faces, head counts.

Photos here are stored rows with the match results the engine would have left (the engine itself
is exercised in test_vetting.py); the policy and the services run for real on each database.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from ijs_vetting.db.models import AuditEntry, Child, FaceTemplate, Photo, PhotoFace
from ijs_vetting.domain import (
    ChangedElsewhere,
    FaceDecision,
    FaceOverride,
    FaceReason,
    InvalidInput,
    PermissionDenied,
    PhotoStatus,
)
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import devices, photos, review
from ijs_vetting.services.intake.deciding import decide
from ijs_vetting.services.register import face_reference, naming, roster

ROSTER = (
    "UPN,Forename,Surname,Year,Twitter,Biometric\n"
    "K1,Kit,Able,5,Y,Y\n"
    "K2,Lou,Baker,5,N,Y\n"
    "K3,Max,Cole,5,Y,N\n"
)


@pytest.fixture
def school(station: Station, admin: Actor, tmp_path: Path) -> Station:
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    roster.import_roster(station, admin, path)
    return station


def _ids(station: Station) -> dict[str, int]:
    with station.read() as s:
        return {c.mis_id: c.id for c in s.scalars(select(Child))}


def _photo(station: Station, faces: list[dict[str, object]]) -> int:
    """A vetted photo whose faces carry the given match results (matched child by MIS id)."""
    ids = _ids(station)
    with station.sessions.begin() as s:
        photo = Photo(
            sha256=f"{len(faces):02d}" + "ab" * 31,
            filename="IMG_1.JPG",
            source_path="/dcim/IMG_1.JPG",
            media_type="image/jpeg",
            width=1000,
            height=800,
            imported_by="t",
            status=PhotoStatus.PENDING,
        )
        for i, face in enumerate(faces):
            candidate = face.get("child")
            photo.faces.append(
                PhotoFace(
                    left=100 + 200 * i,
                    top=100,
                    right=220 + 200 * i,
                    bottom=250,
                    score=0.9,
                    too_small=bool(face.get("too_small", False)),
                    candidate_child_id=ids[str(candidate)] if candidate else None,
                    distance=face.get("distance"),
                    runner_up_distance=face.get("runner_up"),
                    decision=FaceDecision.BLUR,
                    reason=FaceReason.UNKNOWN,
                )
            )
        s.add(photo)
        s.flush()
        decide(s, photo)
        return photo.id


def _faces(station: Station, photo_id: int) -> list[photos.FaceInfo]:
    return sorted(photos.get_photo(station, photo_id).faces, key=lambda f: f.left)


def test_assigning_an_unknown_face_identifies_it_under_consent(
    school: Station, staff: Actor
) -> None:
    pid = _photo(school, [{"child": "K1", "distance": 0.2}, {"distance": None}])
    assert photos.get_photo(school, pid).status is PhotoStatus.READY_WITH_BLUR
    unknown = _faces(school, pid)[1]
    # K3 has no biometric consent: never matched, but a reviewer may identify them by hand
    status = review.assign_child(school, staff, unknown.id, "K3")
    face = _faces(school, pid)[1]
    assert (face.child_id, face.decision, face.reason, face.by_reviewer) == (
        "K3",
        "show",
        "consent",
        True,
    )
    assert status is PhotoStatus.READY
    review.assign_child(school, staff, unknown.id, "K2")  # K2 has no Twitter consent
    assert (_faces(school, pid)[1].decision, _faces(school, pid)[1].reason) == (
        "blur",
        "no_consent",
    )


def test_show_is_refused_with_the_reason(school: Station, staff: Actor) -> None:
    pid = _photo(
        school, [{"child": "K2", "distance": 0.2}, {"distance": None}, {"too_small": True}]
    )
    no_consent, unknown, small = _faces(school, pid)
    with pytest.raises(InvalidInput, match="no current consent"):
        review.mark_show(school, staff, no_consent.id)
    with pytest.raises(InvalidInput, match="not identified"):
        review.mark_show(school, staff, unknown.id)
    with pytest.raises(InvalidInput, match="too small"):
        review.mark_show(school, staff, small.id)
    assert [f.decision for f in _faces(school, pid)] == ["blur"] * 3


def test_blur_and_back_and_not_a_face(school: Station, staff: Actor) -> None:
    pid = _photo(school, [{"child": "K1", "distance": 0.2}, {"distance": None}])
    shown, other = _faces(school, pid)
    review.set_override(school, staff, shown.id, FaceOverride.BLUR)
    assert (_faces(school, pid)[0].decision, _faces(school, pid)[0].reason) == (
        "blur",
        "marked_blur",
    )
    review.mark_show(school, staff, shown.id)
    assert _faces(school, pid)[0].decision == "show"
    assert _faces(school, pid)[0].by_reviewer is False  # still a match, not a hand identification
    status = review.set_override(school, staff, other.id, FaceOverride.NOT_A_FACE)
    assert status is PhotoStatus.READY  # nothing left to mask
    assert _faces(school, pid)[1].reason == "not_a_face"


def test_undoing_a_review_is_one_audited_change_back_to_the_engines_finding(
    school: Station, staff: Actor
) -> None:
    pid = _photo(school, [{"child": "K1", "distance": 0.2}, {"distance": None}])
    matched, unknown = _faces(school, pid)
    review.assign_child(school, staff, unknown.id, "K3")  # a hand identification, shown
    review.set_override(school, staff, matched.id, FaceOverride.BLUR)
    assert [f.decision for f in _faces(school, pid)] == ["blur", "show"]

    assert review.reset_face(school, staff, unknown.id) is PhotoStatus.READY_WITH_BLUR
    review.reset_face(school, staff, matched.id)
    after = _faces(school, pid)
    assert [(f.child_id, f.decision, f.reason, f.override, f.by_reviewer) for f in after] == [
        ("K1", "show", "consent", None, False),
        (None, "blur", "unknown", None, False),
    ]
    with school.read() as s:
        resets = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "review.reset")))
    assert [e.details["undone"] for e in resets] == [
        {"override": None, "child_id": "K3"},
        {"override": "blur", "child_id": None},
    ]


def test_drawn_faces_are_masked_and_head_count_blocks_until_drawn(
    school: Station, staff: Actor
) -> None:
    pid = _photo(school, [{"child": "K1", "distance": 0.2}])
    assert review.set_head_count(school, staff, pid, 2) is PhotoStatus.REVIEW
    assert "counted 2 people" in (photos.get_photo(school, pid).note or "")
    face_id = review.draw_face(school, staff, pid, (600, 80, 700, 200))
    info = photos.get_photo(school, pid)
    assert info.status is PhotoStatus.READY_WITH_BLUR
    drawn = next(f for f in info.faces if f.id == face_id)
    assert (drawn.origin, drawn.decision, drawn.reason) == ("drawn", "blur", "drawn")
    with pytest.raises(InvalidInput, match="at least a few pixels"):
        review.draw_face(school, staff, pid, (10, 10, 12, 12))
    assert review.delete_drawn_face(school, staff, face_id) is PhotoStatus.REVIEW
    with pytest.raises(InvalidInput, match="Only faces drawn"):
        review.delete_drawn_face(school, staff, info.faces[0].id)


def test_ambiguity_is_resolved_by_a_reviewer(school: Station, staff: Actor) -> None:
    pid = _photo(school, [{"child": "K1", "distance": 0.2}, {"child": "K1", "distance": 0.3}])
    assert photos.get_photo(school, pid).status is PhotoStatus.REVIEW
    first, second = _faces(school, pid)
    review.assign_child(school, staff, first.id, "K1")
    review.set_override(school, staff, second.id, FaceOverride.BLUR)
    info = photos.get_photo(school, pid)
    assert info.status is PhotoStatus.READY_WITH_BLUR
    assert [(f.child_id, f.decision) for f in _faces(school, pid)] == [
        ("K1", "show"),
        (None, "blur"),
    ]


def test_an_unregistered_camera_is_accepted_by_slt_only(
    school: Station, admin: Actor, slt: Actor, staff: Actor
) -> None:
    devices.add_device(school, admin, "iPad 1", "Apple", "iPad")
    pid = _photo(school, [{"child": "K1", "distance": 0.2}])
    assert photos.get_photo(school, pid).status is PhotoStatus.REVIEW
    with pytest.raises(PermissionDenied):
        review.accept_photo(school, staff, pid)
    assert review.accept_photo(school, slt, pid) is PhotoStatus.READY


def test_every_review_action_is_audited(school: Station, staff: Actor) -> None:
    pid = _photo(school, [{"distance": None}])
    (face,) = _faces(school, pid)
    review.assign_child(school, staff, face.id, "K1")
    review.set_head_count(school, staff, pid, 1)
    with school.read() as s:
        entries = list(s.scalars(select(AuditEntry).where(AuditEntry.target_id == str(pid))))
    assert [e.action for e in entries] == ["review.assign", "review.head_count"]
    assert entries[0].details["child_id"] == "K1" and entries[0].actor == "teacher"


def test_naming_faces_together_touches_only_the_faces_selected(
    school: Station, staff: Actor
) -> None:
    """ "Who is this?": two photos of two unknown faces; the reviewer picks Max (no biometric
    consent: a human identification needs none) in each, and the other faces stay unknown."""
    first = _photo(school, [{"distance": None}, {"distance": None}])
    second = _photo(school, [{"distance": None}, {"distance": None}, {"distance": None}])
    a1, a2 = _faces(school, first)
    b1, b2, b3 = _faces(school, second)
    listed = naming.unnamed_faces(school, None)
    assert [(f.face_id, f.position) for f in listed] == [
        (a1.id, 1),
        (a2.id, 2),
        (b1.id, 1),
        (b2.id, 2),
        (b3.id, 3),
    ]
    with pytest.raises(InvalidInput, match="only once"):
        review.assign_faces(school, staff, [b1.id, b3.id], "K3")
    assert review.assign_faces(school, staff, [a2.id, b3.id], "K3") == 2
    after = {f.id: (f.child_id, f.decision) for p in (first, second) for f in _faces(school, p)}
    assert after == {
        a1.id: (None, "blur"),
        a2.id: ("K3", "show"),
        b1.id: (None, "blur"),
        b2.id: (None, "blur"),
        b3.id: ("K3", "show"),
    }
    assert [f.face_id for f in naming.unnamed_faces(school, None)] == [a1.id, b1.id, b2.id]
    with school.read() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "review.assign_many")).one()
    assert entry.actor == "teacher" and entry.details["identification"] == "human"
    assert [f["face_id"] for f in entry.details["faces"]] == [a2.id, b3.id]


def test_naming_faces_is_all_or_nothing(school: Station, staff: Actor) -> None:
    pid = _photo(school, [{"distance": None}])
    (face,) = _faces(school, pid)
    with pytest.raises(ChangedElsewhere):  # a face gone: its photo was vetted again
        review.assign_faces(school, staff, [face.id, 999_999], "K1")
    assert _faces(school, pid)[0].child_id is None


def test_a_face_becomes_a_reference_only_with_biometric_consent(
    school: Station, admin: Actor, staff: Actor
) -> None:
    pid = _photo(school, [{"distance": None}])
    (face,) = _faces(school, pid)
    review.assign_child(school, staff, face.id, "K3")  # Max: no biometric consent
    with pytest.raises(PermissionDenied):
        face_reference.add_face_as_reference(school, staff, face.id)
    with pytest.raises(InvalidInput, match="no biometric consent"):
        face_reference.add_face_as_reference(school, admin, face.id)
    with school.read() as s:
        assert s.scalars(select(FaceTemplate)).first() is None


def test_names_are_proposed_from_the_photos_year_groups_first() -> None:
    """Who is this? lists the children of the year groups the selected faces' photos show
    first (a Year 3 trip's faces are most likely Year 3's), then everyone, in register order."""
    from dataclasses import replace

    from ijs_vetting.domain import NO_BIOMETRIC_CONSENT
    from ijs_vetting.services.register.children import ChildSummary

    def child(mis_id: str, year: int) -> ChildSummary:
        return ChildSummary(
            mis_id=mis_id,
            first_name=mis_id,
            last_name="X",
            preferred_name=None,
            year_group=year,
            class_name=f"{year}A",
            on_roll=True,
            date_left=None,
            consents={},
            biometric=NO_BIOMETRIC_CONSENT,
            never_publish=False,
            reviews={},
        )

    register = [child("A", 3), child("B", 4), child("C", 5), child("D", 3)]
    face = naming.UnnamedFace(1, 1, "0" * 64, "IMG.JPG", 100, 1, 0, 0, 10, 10, frozenset({5}))
    assert [c.mis_id for c in naming.proposed_order(register, [face])] == ["C", "A", "B", "D"]
    trip = [face, replace(face, face_id=2, year_groups=frozenset({3}))]
    assert [c.mis_id for c in naming.proposed_order(register, trip)] == ["A", "C", "D", "B"]
    assert [c.mis_id for c in naming.proposed_order(register, [])] == ["A", "B", "C", "D"]
