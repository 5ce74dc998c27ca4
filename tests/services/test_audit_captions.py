"""Captions in the audit log go with the child they name when the child's record is erased,
and the chain still verifies."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select, update

from ijs_vetting.db.models import AuditEntry, QueueItem
from ijs_vetting.domain import QueueStatus
from ijs_vetting.services.core import users
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.posting import queue, queue_export
from ijs_vetting.services.privacy import audit, subject_rights
from tests.privacy_world import Face, add_item, add_photo, add_template, school


@pytest.fixture
def world(station: Station, admin: Actor, tmp_path: Path) -> Station:
    users.login(station, admin.username, "correct horse battery")
    school(station, admin, tmp_path)
    add_template(station, "A123")
    return station


def _everything(station: Station, reader: Actor) -> str:
    return " ".join(f"{e.summary} {e.details}" for e in audit.list_audit(station, reader=reader))


def test_erasing_a_child_erases_the_captions_about_them(
    world: Station, admin: Actor, slt: Actor
) -> None:
    item = add_item(world, add_photo(world, [Face("A123")]))
    queue.edit_caption(world, slt, item, "Our sports day winner")  # about A123's photo
    queue.add_text(world, slt, "@Year5IJS", "Well done Amelia on the spelling bee!")
    queue.add_text(world, slt, "@Year5IJS", "Harvest festival on Friday")
    shown = _everything(world, slt)
    assert "Amelia on the spelling bee" in shown and "Our sports day winner" in shown
    with world.read() as s:  # the hashed details hold only a digest
        hashed = " ".join(str(e.details) for e in s.scalars(select(AuditEntry)))
    assert "Amelia" not in hashed and "sports day winner" not in hashed

    result = subject_rights.erase_child(world, admin, "A123")

    assert result.as_json()["audit_captions_erased"] == 2
    shown = _everything(world, slt)
    assert "Amelia" not in shown and "Our sports day winner" not in shown
    assert "Harvest festival on Friday" in shown  # about nobody: kept
    assert "captions erased with a child's record" in shown
    assert audit.verify_chain(world, admin).ok


def test_an_edited_caption_fails_verify(
    world: Station, admin: Actor, slt: Actor, db_url: str
) -> None:
    queue.add_text(world, slt, "@Year5IJS", "Harvest festival on Friday")
    attacker: Engine = create_engine(db_url)
    try:
        with attacker.begin() as conn:
            entry = conn.scalar(select(AuditEntry.id).where(AuditEntry.action == "queue.add_text"))
            private = conn.scalar(select(AuditEntry.private).where(AuditEntry.id == entry))
            conn.execute(
                update(AuditEntry)
                .where(AuditEntry.id == entry)
                .values(private={**private, "caption": "Something else"})
            )
    finally:
        attacker.dispose()
    report = audit.verify_chain(world, admin)
    assert (report.ok, report.broken_at) == (False, entry)
    assert report.reason == "this entry's caption was edited"


def test_erasing_a_child_erases_queue_captions_naming_them(
    world: Station, admin: Actor, slt: Actor, tmp_path: Path
) -> None:
    """The queue's own captions go too: a waiting post naming the child is withdrawn (its
    caption file leaves the posting folder), a posted one is listed for takedown; captions
    about nobody, or naming other children, stay."""
    waiting = queue.add_text(world, slt, "@Year5IJS", "Well done Amelia on the spelling bee!").id
    posted = queue.add_text(
        world, slt, "@Year5IJS", "Congratulations, Amelia Smith", allow_names=True
    ).id
    harvest = queue.add_text(world, slt, "@Year5IJS", "Harvest festival on Friday").id
    noah = queue.add_text(world, slt, "@Year5IJS", "Well done Noah").id
    outdir = tmp_path / "out"
    queue_export.export_queue(world, slt, outdir)
    queue.mark_posted(world, slt, posted, "https://x.com/Year5IJS/status/7")
    photo_item = add_item(world, add_photo(world, [Face("A123")]), caption="Our sports day winner")
    assert (outdir / f"@Year5IJS/{waiting}.txt").exists()

    result = subject_rights.erase_child(world, admin, "A123").as_json()

    assert result["captions_erased"] == 3
    erased = subject_rights.ERASED_CAPTION
    after = {i: queue.get_item(world, i) for i in (photo_item, waiting, posted, harvest, noah)}
    assert [after[i].caption for i in (photo_item, waiting, posted)] == [erased] * 3
    assert after[harvest].caption == "Harvest festival on Friday"
    assert after[noah].caption == "Well done Noah"
    assert after[waiting].status is QueueStatus.WITHDRAWN
    assert after[harvest].status is QueueStatus.EXPORTED
    assert waiting in result["withdrawn"] and photo_item in result["withdrawn"]
    assert [t["id"] for t in result["takedowns"]] == [posted]
    folder_text = " ".join(p.read_text(encoding="utf-8") for p in outdir.rglob("*") if p.is_file())
    assert "Amelia" not in folder_text and "Harvest festival" in folder_text
    with world.read() as s:
        assert "Amelia" not in " ".join(s.scalars(select(QueueItem.caption)))
