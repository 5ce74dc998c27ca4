"""Services that answer for the whole school run a bounded number of statements (issue 15).

Each test counts with `tests.query_count` on a small register and on one ten times bigger: the
count must not grow with the number of rows, or a school's four years of data make it crawl.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from ijs_vetting.db.models import Child, Photo, PhotoFace
from ijs_vetting.domain import FaceDecision, FaceReason, PhotoStatus
from ijs_vetting.progress import Cancelled, Progress
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake.deciding import redecide_in_batches
from ijs_vetting.services.register import children, configure, consent, roster
from tests.query_count import count_statements

HEADER = "UPN,Legal Forename,Preferred Forename,Legal Surname,Year,Reg,Twitter,Website,Biometric\n"


def _roster(path: Path, count: int) -> Path:
    rows = [f"Q{n:05d},Pupil{n},,Family{n},{n % 7 or 'R'},{n % 7}A,Y,N,Y\n" for n in range(count)]
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def _list_children_statements(station: Station) -> int:
    with count_statements(station.engine) as counted:
        listed = children.list_children(station)
    assert listed, "the register should not be empty"
    return counted.total


def test_listing_the_register_costs_the_same_for_3_or_60_children(
    station: Station, admin: Actor, tmp_path: Path
) -> None:
    roster.import_roster(station, admin, _roster(tmp_path / "few.csv", 3))
    few = _list_children_statements(station)
    roster.import_roster(station, admin, _roster(tmp_path / "many.csv", 60))
    assert len(children.list_children(station)) == 60
    many = _list_children_statements(station)
    # children, channels (the list's columns, and with the consents to check their seals),
    # consents, biometric ledger, safeguarding: one statement per table
    assert few <= 8  # the register's record seals are read with it (one statement)
    assert many == few


def _photos(station: Station, count: int, distance: float = 0.40) -> None:
    """`count` decided photos, each with five faces matched to children of the register (the
    first child in every photo), as the face engine would have stored them."""
    with station.sessions.begin() as s:
        ids = list(s.scalars(select(Child.id).order_by(Child.id)))
        others = ids[1:]  # four different children beside the first in each photo
        start = int(s.scalar(select(func.count(Photo.id))) or 0)
        for n in range(start, start + count):
            photo = Photo(
                sha256=f"{n:064x}",
                filename=f"IMG_{n}.JPG",
                source_path="x",
                media_type="image/jpeg",
                width=800,
                height=600,
                imported_by="t",
                status=PhotoStatus.READY,
            )
            for k in range(5):
                photo.faces.append(
                    PhotoFace(
                        left=10 + 150 * k,
                        top=10,
                        right=150 + 150 * k,
                        bottom=160,
                        score=0.9,
                        too_small=False,
                        candidate_child_id=ids[0] if k == 0 else others[(4 * n + k) % len(others)],
                        distance=distance,
                        runner_up_distance=0.9,
                        decision=FaceDecision.SHOW,
                        reason=FaceReason.CONSENT,
                    )
                )
            s.add(photo)


def _statuses(station: Station) -> dict[PhotoStatus, int]:
    with station.read() as s:
        rows = s.execute(select(Photo.status, func.count(Photo.id)).group_by(Photo.status))
        return {status: int(n) for status, n in rows}


def _threshold_statements(station: Station, admin: Actor, value: str) -> int:
    with count_statements(station.engine) as counted:
        configure.set_setting(station, admin, "faces.match_threshold", value)
    return counted.total


def test_re_deciding_200_photos_costs_the_same_statements_as_20(
    station: Station, admin: Actor, tmp_path: Path
) -> None:
    roster.import_roster(station, admin, _roster(tmp_path / "many.csv", 60))
    _photos(station, 20)
    few = _threshold_statements(station, admin, "0.35")
    assert _statuses(station) == {PhotoStatus.READY_WITH_BLUR: 20}  # 0.40 no longer matches
    _photos(station, 180)
    many = _threshold_statements(station, admin, "0.45")
    assert _statuses(station) == {PhotoStatus.READY: 200}  # every face matched again
    # standings (consents, biometric, safeguarding, children), devices, photos, faces, the
    # updates grouped by what changed: a constant, not one query per photo
    assert many == few, f"{few} statements for 20 photos, {many} for 200"
    assert many <= 40


def test_a_consent_change_re_decides_its_photos_in_bounded_statements(
    station: Station, admin: Actor, tmp_path: Path
) -> None:
    roster.import_roster(station, admin, _roster(tmp_path / "many.csv", 60))
    with station.read() as s:
        first = s.scalars(select(Child.mis_id).order_by(Child.id)).first()
    assert first is not None

    def withdraw_and_give() -> tuple[int, int]:
        with count_statements(station.engine) as no:
            consent.set_consent(station, admin, first, "twitter", False)
        assert PhotoStatus.READY not in _statuses(station)  # the first child is in every photo
        with count_statements(station.engine) as yes:
            consent.set_consent(station, admin, first, "twitter", True)
        assert _statuses(station).get(PhotoStatus.READY)
        return no.total, yes.total

    _photos(station, 20)
    few = withdraw_and_give()
    _photos(station, 180)
    many = withdraw_and_give()
    assert many == few


def test_re_deciding_goes_in_batches_that_commit_and_can_be_cancelled(
    station: Station, admin: Actor, tmp_path: Path
) -> None:
    roster.import_roster(station, admin, _roster(tmp_path / "many.csv", 60))
    _photos(station, 120)
    with station.sessions.begin() as s:  # as if the threshold had been lowered elsewhere
        for face in s.scalars(select(PhotoFace)):
            face.distance = 0.58
    seen: list[int] = []
    progress = Progress(lambda done, _total, _msg: seen.append(done))
    assert redecide_in_batches(station, progress=progress, batch=50) == 120
    assert seen == [0, 50, 100, 120]
    assert _statuses(station) == {PhotoStatus.READY_WITH_BLUR: 120}

    with station.sessions.begin() as s:
        for face in s.scalars(select(PhotoFace)):
            face.distance = 0.40
    stopping = Progress(lambda done, _total, _msg: stopping.cancel() if done else None)
    with pytest.raises(Cancelled):
        redecide_in_batches(station, progress=stopping, batch=50)
    # the first batch was committed, the rest kept their earlier decisions
    assert _statuses(station) == {PhotoStatus.READY: 50, PhotoStatus.READY_WITH_BLUR: 70}


def test_re_deciding_reads_the_register_once_unless_another_change_lands_between_batches(
    station: Station, admin: Actor, tmp_path: Path
) -> None:
    roster.import_roster(station, admin, _roster(tmp_path / "many.csv", 60))
    _photos(station, 120, distance=0.58)  # not matched at the default threshold
    with station.sessions.begin() as s:
        first = s.scalars(select(Child.mis_id).order_by(Child.id)).first()
        for face in s.scalars(select(PhotoFace)):
            face.distance = 0.40  # as if the threshold had been raised: all matched again
    assert first is not None
    with count_statements(station.engine) as quiet:
        assert redecide_in_batches(station, batch=50) == 120
    assert len(quiet.matching("consent_records")) == 1  # three batches, one read
    assert _statuses(station) == {PhotoStatus.READY: 120}

    with station.sessions.begin() as s:
        for face in s.scalars(select(PhotoFace)):
            face.distance = 0.41

    def withdraw_after_the_first_batch(done: int, _total: int, _message: str) -> None:
        if done == 50:  # between two batches, another change: the first child's consent
            consent.set_consent(station, admin, first, "twitter", False)

    with count_statements(station.engine) as busy:
        redecide_in_batches(station, progress=Progress(withdraw_after_the_first_batch), batch=50)
    # read for the first batch, by the consent change's own cascade, and again after it
    assert len(busy.matching("consent_records")) >= 3
    # the batches after the change decided with it: the child is in every photo, none shown
    assert PhotoStatus.READY not in _statuses(station)
