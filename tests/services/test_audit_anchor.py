"""The audit chain is anchored outside the database: a shortened, emptied or rewritten chain fails
`audit verify` even though every link in it holds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select, update

from ijs_vetting.audit_anchor import read_anchor, write_anchor
from ijs_vetting.audit_chain import GENESIS, entry_hash
from ijs_vetting.db.audit_log import chain_tip
from ijs_vetting.db.models import AuditEntry
from ijs_vetting.domain import InvalidInput, PermissionDenied, Role
from ijs_vetting.services.core import anchoring, users
from ijs_vetting.services.core.anchoring import ANCHOR_ACTION, this_pc
from ijs_vetting.services.core.station import Actor, Station, open_station
from ijs_vetting.services.posting import queue_export
from ijs_vetting.services.privacy import audit

PASSWORD = "correct horse battery"


@pytest.fixture
def busy(station: Station) -> Station:
    """A station with a few audited changes."""
    admin = users.login(station, "office-admin", PASSWORD)
    for name in ("mr.lee", "ms.kay", "mrs.oak"):
        users.add_user(station, admin, name, Role.STAFF, "a-password-1")
    return station


def _admin(station: Station) -> Actor:
    return users.login(station, "office-admin", PASSWORD, record=False)


def test_every_audited_commit_moves_the_anchor(busy: Station) -> None:
    assert busy.anchor is not None
    anchor = read_anchor(busy.anchor)
    with busy.read() as s:
        newest = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        count = len(list(s.scalars(select(AuditEntry.id))))
    assert anchor is not None and newest is not None
    assert (anchor.entries, anchor.entry_id, anchor.entry_hash) == (
        count,
        newest.id,
        newest.entry_hash,
    )
    report = audit.verify_chain(busy, _admin(busy))
    assert report.ok and report.entries == count


def test_deleting_the_newest_entries_fails_verify(busy: Station, attacker: Engine) -> None:
    with attacker.begin() as conn:
        ids = list(conn.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
        conn.execute(delete(AuditEntry).where(AuditEntry.id.in_(ids[-2:])))
    report = audit.verify_chain(busy, _admin(busy))
    assert not report.ok
    assert report.entries == len(ids) - 2 and report.broken_at == ids[-1]
    assert report.reason is not None and "newest entries were removed" in report.reason


def test_deleting_every_entry_fails_verify(busy: Station, attacker: Engine) -> None:
    with attacker.begin() as conn:
        conn.execute(delete(AuditEntry))
    report = audit.verify_chain(busy, _admin(busy))
    assert (report.ok, report.entries) == (False, 0)
    assert report.reason is not None and "removed" in report.reason


def _rewrite_chain(attacker: Engine) -> None:
    """Every entry rewritten (mr.lee made nobody) and re-hashed from the start."""
    with attacker.begin() as conn:
        rows = list(conn.execute(select(AuditEntry).order_by(AuditEntry.id)))
        previous = GENESIS
        for row in rows:
            fields = {
                "at": row.at,
                "actor": row.actor,
                "action": row.action,
                "target_type": row.target_type,
                "target_id": row.target_id,
                "summary": row.summary.replace("mr.lee", "nobody"),
                "details": row.details,
                "station": row.station,
            }
            new_hash = entry_hash(previous, **fields)
            conn.execute(
                update(AuditEntry)
                .where(AuditEntry.id == row.id)
                .values(summary=fields["summary"], prev_hash=previous, entry_hash=new_hash)
            )
            previous = new_hash


def test_a_rewritten_chain_fails_verify(busy: Station, attacker: Engine) -> None:
    """Every entry rewritten and re-hashed from the start: each link holds, the anchor does not."""
    _rewrite_chain(attacker)
    with busy.read() as s:
        newest = s.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()))
    report = audit.verify_chain(busy, _admin(busy))
    assert not report.ok and report.broken_at == newest
    assert report.reason is not None and "rewritten" in report.reason


def test_an_export_manifest_carries_the_tip_to_verify_against(
    busy: Station, attacker: Engine, tmp_path: Path
) -> None:
    """The posting folder's manifest holds the chain's tip as the export began. Someone who
    rewrites the chain and the anchor beside the key fools the station's own check; the copy in
    the posting folder (which the database and the key folder do not reach) still catches it."""
    admin = _admin(busy)
    outdir = tmp_path / "out"
    report = queue_export.export_queue(busy, admin, outdir)
    manifest = outdir / "manifest.json"
    carried = json.loads(manifest.read_text(encoding="utf-8"))["audit_anchor"]
    assert report.anchor is not None and carried == report.anchor.as_json()
    assert carried["entries"] == _entries(busy) - 1  # the tip before the export's own entry
    assert audit.verify_chain(busy, admin, manifest).ok

    _rewrite_chain(attacker)
    with busy.read() as s:
        tip = chain_tip(s)
    assert busy.anchor is not None
    busy.anchor.write_text(json.dumps(tip.as_json()), encoding="utf-8")  # the anchor forged too
    assert audit.verify_chain(busy, admin).ok  # fooled
    against = audit.verify_chain(busy, admin, manifest)
    assert not against.ok and against.reason is not None
    assert f"anchored in {manifest}" in against.reason and "rewritten" in against.reason
    with pytest.raises(InvalidInput, match="holds no audit anchor"):
        audit.verify_chain(busy, admin, tmp_path / "nothing.json")


def test_an_anchor_one_transaction_behind_is_accepted(busy: Station) -> None:
    """A crash between a commit and the anchor's update leaves the anchor behind: the chain
    extends what it anchored, so verify passes; and the next commit brings it up to date."""
    assert busy.anchor is not None
    before = read_anchor(busy.anchor)
    saved = busy.anchor.read_bytes()
    admin = _admin(busy)
    users.add_user(busy, admin, "mr.late", Role.STAFF, "a-password-1")
    busy.anchor.write_bytes(saved)  # as if the station died before writing the anchor
    report = audit.verify_chain(busy, admin)
    assert report.ok and before is not None and report.entries == before.entries + 1
    users.set_password(busy, admin, "mr.late", "another-pass")
    after = read_anchor(busy.anchor)
    assert after is not None and after.entries == before.entries + 2


def test_the_anchor_never_moves_back(busy: Station) -> None:
    """Two processes of one PC may finish in either order: the older tip is not written."""
    assert busy.anchor is not None
    newest = read_anchor(busy.anchor)
    assert newest is not None
    older = type(newest)(newest.entries - 1, None, "0" * 64)
    write_anchor(busy.anchor, older)
    assert read_anchor(busy.anchor) == newest


def test_a_missing_or_damaged_anchor_fails_verify(busy: Station) -> None:
    assert busy.anchor is not None
    admin = _admin(busy)
    saved = busy.anchor.read_bytes()
    busy.anchor.write_text("{not json", encoding="utf-8")
    users.add_user(busy, admin, "mr.new", Role.STAFF, "a-password-1")  # no commit replaces it
    report = audit.verify_chain(busy, admin)
    assert not report.ok and report.reason is not None and "cannot be read" in report.reason
    busy.anchor.unlink()
    report = audit.verify_chain(busy, admin)
    assert not report.ok and report.reason is not None and "missing" in report.reason
    busy.anchor.write_bytes(saved)
    assert audit.verify_chain(busy, admin).ok


def _entries(station: Station) -> int:
    with station.read() as s:
        return len(list(s.scalars(select(AuditEntry.id))))


def test_a_deleted_anchor_is_reported_not_made_again(
    busy: Station, attacker: Engine, db_url: str
) -> None:
    """Deleting the newest entries and the anchor, then starting the station, must not anchor
    the shorter chain as if it were whole: this PC made its anchor once (an audit entry says
    so), so the missing file is reported, and put back it catches the removal."""
    assert busy.anchor is not None
    saved = busy.anchor.read_bytes()
    with attacker.begin() as conn:
        ids = list(conn.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
        conn.execute(delete(AuditEntry).where(AuditEntry.id.in_(ids[-2:])))
    busy.anchor.unlink()
    again = open_station(str(busy.paths.home), url=db_url)
    try:
        assert not again.anchor.exists()  # type: ignore[union-attr]
        assert again.anchor_fault is not None and "deleted or moved" in again.anchor_fault
        users.add_user(again, _admin(again), "mr.new", Role.STAFF, "a-password-1")
        assert not again.anchor.exists()  # type: ignore[union-attr]  # no commit remakes it
        report = audit.verify_chain(again, _admin(again))
        assert not report.ok and report.reason is not None
        assert "missing" in report.reason and "deleted or moved" in report.reason
        again.anchor.write_bytes(saved)  # type: ignore[union-attr]
        report = audit.verify_chain(again, _admin(again))
        assert not report.ok and "newest entries were removed" in (report.reason or "")
    finally:
        again.close()


def test_an_admin_remakes_a_lost_anchor_on_purpose(busy: Station, attacker: Engine) -> None:
    """An anchor lost with no backup is made again only by an admin, audited, and never over
    a chain whose own links are broken."""
    assert busy.anchor is not None
    admin = _admin(busy)
    with pytest.raises(InvalidInput, match="is there"):
        anchoring.remake_anchor(busy, admin)
    with pytest.raises(PermissionDenied):
        anchoring.remake_anchor(busy, Actor("mr.lee", Role.STAFF))
    busy.anchor.unlink()
    with attacker.begin() as conn:  # an entry in the middle edited
        middle = sorted(conn.scalars(select(AuditEntry.id)))[2]
        conn.execute(update(AuditEntry).where(AuditEntry.id == middle).values(summary="edited"))
    with pytest.raises(InvalidInput, match=f"broken at entry {middle}"):
        anchoring.remake_anchor(busy, admin)
    assert not busy.anchor.exists()
    with attacker.begin() as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.id >= middle))
    tip = anchoring.remake_anchor(busy, admin)
    assert read_anchor(busy.anchor) == tip and tip.entries == _entries(busy)
    newest = audit.list_audit(busy, limit=1)[0]
    assert (newest.action, newest.actor) == (anchoring.REMAKE_ACTION, "office-admin")
    assert audit.verify_chain(busy, admin).ok


def test_an_emptied_log_is_not_anchored_at_the_next_start(
    busy: Station, attacker: Engine, db_url: str
) -> None:
    """Every entry and the anchor deleted: the register still has users, whom only audited
    changes add, so the empty log is not taken for a new station's."""
    assert busy.anchor is not None
    with attacker.begin() as conn:
        conn.execute(delete(AuditEntry))
    busy.anchor.unlink()
    again = open_station(str(busy.paths.home), url=db_url)
    try:
        assert not again.anchor.exists()  # type: ignore[union-attr]
        report = audit.verify_chain(again, _admin(again))
        assert not report.ok and "the audit log is empty" in (report.reason or "")
    finally:
        again.close()


def test_a_new_pc_or_a_station_from_before_anchoring_anchors_once_with_an_entry(
    busy: Station, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PC that never anchored this register (a new PC joining a shared database, with a copy
    of the key; or a station upgraded from before anchoring) anchors what it finds, and the
    chain records that it did."""
    assert busy.anchor is not None
    other_keys = tmp_path / "other-pc-keys"
    other_keys.mkdir()
    for key in busy.anchor.parent.glob("*.key"):
        shutil.copy(key, other_keys / key.name)
    before = _entries(busy)
    monkeypatch.setenv("IJS_VETTING_KEY_DIR", str(other_keys))
    joined = open_station(str(tmp_path / "other-pc-home"), url=db_url)
    try:
        assert joined.anchor is not None and joined.anchor.parent == other_keys
        anchor = read_anchor(joined.anchor)
        assert anchor is not None and anchor.entries == before + 1 == _entries(joined)
        newest = audit.list_audit(joined, limit=1)[0]
        assert newest.action == ANCHOR_ACTION and newest.target_id == this_pc(joined.anchor)
        assert audit.verify_chain(joined, _admin(joined)).ok
    finally:
        joined.close()
    reopened = open_station(str(tmp_path / "other-pc-home"), url=db_url)
    try:
        assert _entries(reopened) == before + 1  # anchored once, not at every start
    finally:
        reopened.close()
