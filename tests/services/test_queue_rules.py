"""Queue rules that need no pixels: text posts, captions, routing, roles, states, rejection, and
how consent, biometric, safeguarding and roster changes pull items.

Photos and queue items here are stored rows, as clearing would have left them (clearing itself,
with the engine, is exercised in test_queue.py); every service runs for real on each database.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from ijs_vetting.db.audit_log import shown_details
from ijs_vetting.db.models import AuditEntry, QueueItem
from ijs_vetting.domain import (
    BiometricEvent,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PhotoStatus,
    QueueStatus,
    ServiceError,
)
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import photos
from ijs_vetting.services.posting import clearing, queue, queue_export, rejecting
from ijs_vetting.services.posting.accounts import find_account, route_account
from ijs_vetting.services.posting.refusals import Refused
from ijs_vetting.services.register import consent, roster
from tests import privacy_world
from tests.privacy_world import Face

ROSTER = (
    "UPN,Forename,Surname,Year,Twitter,Biometric\n"
    "K1,Kit,Able,5,Y,Y\n"
    "K2,Lou,Baker,5,Y,Y\n"
    "K3,Max,Cole,6,N,Y\n"
)


@pytest.fixture
def school(station: Station, admin: Actor, tmp_path: Path) -> Station:
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    roster.import_roster(station, admin, path)
    return station


def _queued(
    station: Station,
    faces: list[dict[str, object]],
    status: QueueStatus = QueueStatus.QUEUED,
) -> tuple[int, int]:
    """A vetted photo (faces: matched child, or identified by hand) cleared into the queue as
    clearing leaves it; returns (photo id, item id)."""
    photo_id = privacy_world.add_photo(
        station, [Face(str(f["child"]), by_hand=bool(f.get("by_hand"))) for f in faces]
    )
    assert photos.get_photo(station, photo_id).status in clearing.CLEARABLE
    item = privacy_world.add_item(station, photo_id, status=status, caption="", rendering=False)
    return photo_id, item


def _status(station: Station, item_id: int) -> QueueStatus:
    return queue.get_item(station, item_id).status


def test_text_posts_captions_and_their_limit(school: Station, staff: Actor, slt: Actor) -> None:
    item = queue.add_text(school, staff, "year3ijs", "  Well done, Year 3!  ")
    assert (item.account, item.caption, item.photo_id, item.status) == (
        "@year3ijs",
        "Well done, Year 3!",
        None,
        QueueStatus.QUEUED,
    )
    with pytest.raises(InvalidInput, match="141 characters; the limit is 140"):
        queue.add_text(school, staff, "@year3ijs", "x" * 141)
    assert queue.add_text(school, staff, "@year3ijs", "x" * 140).caption == "x" * 140
    with pytest.raises(InvalidInput, match="needs a caption"):
        queue.add_text(school, staff, "@year3ijs", "   ")
    with pytest.raises(NotFound, match="@Year4IJS"):
        queue.add_text(school, staff, "@year9ijs", "hello")

    assert queue.edit_caption(school, staff, item.id, "Well done!").caption == "Well done!"
    with pytest.raises(InvalidInput, match="limit is 140"):
        queue.edit_caption(school, staff, item.id, "y" * 141)
    with pytest.raises(PermissionDenied):
        queue_export.export_queue(school, staff, Path("unused"))
    with pytest.raises(InvalidInput, match="limit is 140"):
        clearing.clear_photos(school, slt, [1], caption="z" * 141)


def test_captions_of_photo_items_are_for_slt_until_exported(
    school: Station, staff: Actor, slt: Actor, tmp_path: Path
) -> None:
    _photo, item = _queued(school, [{"child": "K1"}])
    with pytest.raises(PermissionDenied):
        queue.edit_caption(school, staff, item, "Sports day")
    assert queue.edit_caption(school, slt, item, "Sports day").caption == "Sports day"
    with school.read() as s:
        entries = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "queue.caption")))
        assert [(e.actor, shown_details(e)) for e in entries] == [  # captions outside the hash
            ("teacher", {"refused": True, "needs": ["slt", "admin"]}),
            ("head-teacher", {"before": "", "after": "Sports day"}),
        ]
    with pytest.raises(ServiceError, match="missing from the vault"):  # a row, not a rendering
        queue_export.export_queue(school, slt, tmp_path / "out")
    with school.sessions.begin() as s:  # exported by the posting tool's earlier run
        row = s.get(QueueItem, item)
        assert row is not None
        row.status = QueueStatus.EXPORTED
    with pytest.raises(InvalidInput, match="can no longer change"):
        queue.edit_caption(school, slt, item, "Too late")


def test_routing_to_the_year_group_accounts(school: Station) -> None:
    with school.read() as s:
        assert [route_account(s, years) for years in ([], [3, 4], [1])] == [None, None, None]
        year5 = route_account(s, [5, 5])
        assert year5 is not None and year5.handle == "@Year5IJS"
        assert find_account(s, "YEAR6IJS").handle == "@Year6IJS"


def test_states_roles_and_rejection(
    school: Station, staff: Actor, slt: Actor, admin: Actor
) -> None:
    photo, item = _queued(school, [{"child": "K1"}])
    with pytest.raises(PermissionDenied):
        queue.mark_posted(school, staff, item)
    with pytest.raises(InvalidInput, match="not posted"):
        queue.mark_taken_down(school, slt, item)
    with pytest.raises(PermissionDenied):
        rejecting.reject_photos(school, staff, [photo], "blurry")

    result = rejecting.reject_photos(school, slt, [photo, 9999], "  not our best  ")
    assert result.rejected == [photo]
    assert result.refused == [Refused(9999, "There is no photo 9999.", None)]
    assert _status(school, item) is QueueStatus.WITHDRAWN
    info = photos.get_photo(school, photo)
    assert (info.status, info.note) == (PhotoStatus.REJECTED, "not our best")
    with pytest.raises(InvalidInput, match="only queued or exported"):
        queue.withdraw_item(school, slt, item, "again")
    with pytest.raises(InvalidInput, match="not waiting"):
        queue.mark_posted(school, slt, item)
    # Re-vetting (any consent change) never lifts an SLT rejection.
    consent.set_consent(school, admin, "K1", "twitter", True)
    assert photos.get_photo(school, photo).status is PhotoStatus.REJECTED
    refused = clearing.clear_photos(school, slt, [photo])
    file = photos.get_photo(school, photo).file
    assert refused.refused == [Refused(photo, "was rejected: not our best", file)]

    posted_photo, posted = _queued(school, [{"child": "K2"}])
    queue.mark_posted(school, slt, posted, " https://x.com/Year5IJS/status/2 ")
    assert queue.get_item(school, posted).post_url == "https://x.com/Year5IJS/status/2"
    again = rejecting.reject_photos(school, slt, [posted_photo], "no")
    assert again.rejected == [] and "takedown" in again.refused[0].reason


def test_biometric_withdrawal_leavers_and_safeguarding_pull_items(
    school: Station, admin: Actor, tmp_path: Path
) -> None:
    _p1, by_match = _queued(school, [{"child": "K1"}])
    _p2, by_hand = _queued(school, [{"child": "K2", "by_hand": True}], QueueStatus.EXPORTED)
    p3, masked = _queued(school, [{"child": "K1", "by_hand": True}, {"child": "K3"}])
    assert queue.get_item(school, masked).shown == ("K1",)

    # Biometric consent matters only where a match (not a person) identified the child.
    consent.set_biometric(school, admin, "K1", BiometricEvent.PARENT_WITHDRAWAL)
    assert _status(school, by_match) is QueueStatus.WITHDRAWN
    assert "biometric consent was withdrawn" in (
        queue.get_item(school, by_match).withdrawn_reason or ""
    )
    assert _status(school, masked) is QueueStatus.QUEUED  # K1 identified by hand there
    consent.set_biometric(school, admin, "K2", BiometricEvent.PARENT_WITHDRAWAL)
    assert _status(school, by_hand) is QueueStatus.EXPORTED

    # K2 leaves: the roster without K2, imported with --mark-leavers.
    path = tmp_path / "leavers.csv"
    path.write_text(ROSTER.replace("K2,Lou,Baker,5,Y,Y\n", ""), encoding="utf-8")
    roster.import_roster(school, admin, path, mark_leavers=True)
    assert _status(school, by_hand) is QueueStatus.WITHDRAWN
    assert queue.get_item(school, by_hand).withdrawn_reason == "K2 has left the school"

    # Consent for a masked child changes nothing; a safeguarding flag on them pulls the photo.
    consent.set_consent(school, admin, "K3", "twitter", True)
    assert _status(school, masked) is QueueStatus.QUEUED
    consent.set_safeguarding(school, admin, "K3", True, "looked-after child")
    assert _status(school, masked) is QueueStatus.WITHDRAWN
    assert photos.get_photo(school, p3).status is PhotoStatus.REJECTED


def test_a_perfect_match_names_a_child_present(school: Station) -> None:
    """A distance of 0.0 (the reference photo itself) is the best match, not "no distance"."""
    from ijs_vetting.db.models import Photo

    photo_id = privacy_world.add_photo(school, [Face("K1")])
    with school.transaction() as session:
        photo = session.get(Photo, photo_id)
        assert photo is not None
        face = photo.faces[0]
        face.child_id, face.distance = None, 0.0  # matched, but not (yet) decided to show
        assert clearing._present(photo) == {face.candidate_child_id}
        face.distance = 0.9
        assert clearing._present(photo) == set()
