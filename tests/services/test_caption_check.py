"""Caption checks through the services: the platform's count, and children named in captions.

The school (tests/privacy_world.py): Amelia Smith (A123) and Noah Jones (B456) in Year 5 with
Twitter consent, Zoe Brown (C789) in Year 6 without. Text posts, caption edits and clearing are
run for real on each database; clearing refuses a caption before it renders anything.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from ijs_vetting.db.models import AuditEntry, QueueItem
from ijs_vetting.domain import InvalidInput, PermissionDenied
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.posting import clearing, queue
from ijs_vetting.services.posting.caption_check import CaptionNamesChildren, caption_length
from tests import privacy_world
from tests.privacy_world import Face


@pytest.fixture
def school(station: Station, admin: Actor, tmp_path: Path) -> Station:
    return privacy_world.school(station, admin, tmp_path)


def test_lengths_are_counted_as_the_platform_counts_them() -> None:
    assert caption_length("Sports day") == 10
    assert caption_length("See https://example.com/a/very/long/path/to/the/gallery/page") == 4 + 23
    assert caption_length("www.ijs.org.uk") == 23
    assert caption_length("🎉") == 2
    assert caption_length("👨‍👩‍👧‍👦") == 2  # one emoji, four people joined
    assert caption_length("運動会") == 6
    assert caption_length("Zoë") == caption_length("Zoe\u0301") == 3


def test_a_long_address_fits_when_the_platform_counts_it_as_23(
    school: Station, staff: Actor
) -> None:
    caption = "A" * 110 + " https://example.com/" + "x" * 60
    assert len(caption) > 140
    item = queue.add_text(school, staff, "@Year5IJS", caption)
    assert item.caption == caption
    with pytest.raises(InvalidInput, match="142 characters; the limit is 140"):
        queue.add_text(school, staff, "@Year5IJS", "🎉" * 71)


def _found(excinfo: pytest.ExceptionInfo[CaptionNamesChildren]) -> set[tuple[str, str, str]]:
    return {(f.kind.value, f.mis_id, f.words) for f in excinfo.value.report.found}


def test_text_posts_naming_children_are_refused_with_the_names_found(
    school: Station, staff: Actor
) -> None:
    with pytest.raises(CaptionNamesChildren) as excinfo:
        queue.add_text(school, staff, "@Year5IJS", "Well done AMELIA smith and the Jones twins!")
    assert _found(excinfo) == {
        ("full_name", "A123", "AMELIA smith"),
        ("surname", "B456", "Jones"),
    }
    assert "'AMELIA smith' (full name)" in str(excinfo.value)
    with pytest.raises(CaptionNamesChildren) as excinfo:
        queue.add_text(school, staff, "@Year6IJS", "Zoë read her poem to the class")
    assert _found(excinfo) == {("no_consent", "C789", "Zoë")}
    with pytest.raises(CaptionNamesChildren) as excinfo:
        queue.add_text(school, staff, "@Year5IJS", "Certificate for c789 today")
    assert _found(excinfo) == {("mis_id", "C789", "c789")}
    with school.read() as s:
        assert s.scalars(select(QueueItem)).all() == []


def test_whole_words_only_and_first_names_of_children_who_may_appear_pass(
    school: Station, staff: Actor
) -> None:
    for caption in (
        "Noah led assembly",  # Year 5, consent
        "The Smithsonian trip, Joneses and Browns",  # not whole words
        "Zoe's poem",  # Zoe is in Year 6; this is @Year5IJS's post
    ):
        assert queue.add_text(school, staff, "@Year5IJS", caption).caption == caption


def test_only_slt_and_admins_may_allow_names_and_the_override_is_audited(
    school: Station, staff: Actor, slt: Actor
) -> None:
    caption = "Well done Noah Jones"
    with pytest.raises(PermissionDenied):
        queue.add_text(school, staff, "@Year5IJS", caption, allow_names=True)
    item = queue.add_text(school, slt, "@Year5IJS", caption, allow_names=True)
    assert item.caption == caption
    with school.read() as s:
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    refused = [e for e in entries if e.action == "caption.allow_names"]
    assert [e.actor for e in refused] == ["teacher"] and refused[0].details["refused"]
    queued = [e for e in entries if e.action == "queue.add_text"][-1]
    assert queued.actor == "head-teacher"
    assert queued.details["caption_names_allowed"] == [{"kind": "full_name", "id": "B456"}]


def test_a_caption_edit_may_not_name_a_child_the_photo_masks(school: Station, slt: Actor) -> None:
    photo = privacy_world.add_photo(school, [Face("A123"), Face("C789")])
    item = privacy_world.add_item(school, photo, caption="")
    with pytest.raises(CaptionNamesChildren) as excinfo:
        queue.edit_caption(school, slt, item, "Amelia and Zoe at the fair")
    assert _found(excinfo) == {("masked_child", "C789", "Zoe")}
    assert queue.edit_caption(school, slt, item, "Amelia at the fair").caption == (
        "Amelia at the fair"
    )
    edited = queue.edit_caption(school, slt, item, "Amelia and Zoe", allow_names=True)
    assert edited.caption == "Amelia and Zoe"


def test_clearing_refuses_a_caption_naming_a_masked_child_before_rendering(
    school: Station, slt: Actor
) -> None:
    photo = privacy_world.add_photo(school, [Face("A123"), Face("C789")])
    result = clearing.clear_photos(school, slt, [photo], caption="Amelia and Zoe Brown")
    assert result.cleared == []
    [(refused_id, reason, _file)] = result.refused
    assert refused_id == photo
    assert "'Zoe Brown' (full name)" in reason and "--allow-names" in reason
    # Confirmed by SLT, the caption no longer stops it: the stand-in bytes are what fail now.
    result = clearing.clear_photos(
        school, slt, [photo], caption="Amelia and Zoe Brown", allow_names=True
    )
    [(_, reason, _file)] = result.refused
    assert "cannot be rendered" in reason
