"""Captions in the audit log go with the child they name when the child's record is erased,
and the chain still verifies."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select, update

from ijs_vetting.db.models import AuditEntry
from ijs_vetting.services.core import users
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.posting import queue
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
