"""`audit verify` walks four years of chain in chunks (issue 15): memory stays one chunk, and an
edit or a removal is still found wherever it falls, across chunk boundaries too."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, text, update

from ijs_vetting.audit_chain import stored_hash
from ijs_vetting.db import audit_log
from ijs_vetting.db.audit_log import append_entry, chain_rows
from ijs_vetting.db.models import AuditEntry
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.privacy import audit
from tests.query_count import count_statements

ENTRIES = 230


def _chain(station: Station, count: int = ENTRIES) -> list[int]:
    """`count` more chained entries; every entry id, in order."""
    with station.sessions.begin() as s:
        for n in range(count):
            append_entry(s, actor="t", action="bench.note", summary=f"note {n}", details={"n": n})
    with station.read() as s:
        return list(s.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))


def test_the_chain_is_read_a_chunk_at_a_time(station: Station) -> None:
    ids = _chain(station)
    with station.read() as s, count_statements(station.engine) as counted:
        walk = chain_rows(s, chunk=50)
        first = [next(walk) for _ in range(50)]
        assert len(counted.matching("audit_entries")) == 1  # only the first chunk so far
        rest = list(walk)
    assert [r.id for r in first + rest] == ids
    assert len(counted.matching("audit_entries")) == len(ids) // 50 + 1


@pytest.mark.parametrize("where", [0, 49, 50, 51, -1])
def test_an_edit_is_found_in_any_chunk(
    station: Station, admin: Actor, monkeypatch: pytest.MonkeyPatch, where: int
) -> None:
    monkeypatch.setattr(audit_log, "CHAIN_CHUNK", 50)
    ids = _chain(station)
    assert audit.verify_chain(station, admin).ok
    edited = ids[where]
    with station.sessions.begin() as s:
        s.execute(update(AuditEntry).where(AuditEntry.id == edited).values(summary="nothing"))
    report = audit.verify_chain(station, admin)
    assert (report.broken_at, report.reason) == (edited, "this entry was edited")


def test_a_removal_across_a_chunk_boundary_is_found(
    station: Station, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_log, "CHAIN_CHUNK", 50)
    ids = _chain(station)
    with station.sessions.begin() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.id == ids[50]))
    report = audit.verify_chain(station, admin)
    assert (report.broken_at, report.reason) == (
        ids[51],
        "an entry before it was removed or changed",
    )


def test_details_are_hashed_as_stored_and_older_text_still_verifies(
    station: Station, admin: Actor
) -> None:
    """Details are stored in the chain's canonical JSON, so a walk hashes the text as stored;
    an entry whose text is in another form (written before, or by hand) is decoded and hashed
    as before, and an edit of its details is still found."""
    _chain(station, 3)
    with station.sessions.begin() as s:
        append_entry(
            s, actor="t", action="bench.note", summary="é", details={"b": [1, "ü"], "a": None}
        )
    with station.read() as s:
        rows = list(chain_rows(s))
        assert rows[-1].details_text == '{"a":null,"b":[1,"ü"]}'
        assert all(stored_hash(r) == r.entry_hash for r in rows)
    older = next(r.id for r in rows if r.details_text == '{"n":1}')
    with station.sessions.begin() as s:  # the same value as the default encoder writes it
        s.execute(
            text("UPDATE audit_entries SET details = :d WHERE id = :id"),
            {"d": json.dumps({"n": 1}), "id": older},
        )
    with station.read() as s:
        row = next(r for r in chain_rows(s) if r.id == older)
        assert row.details_text == '{"n": 1}' and stored_hash(row) != row.entry_hash
    assert audit.verify_chain(station, admin).ok
    with station.sessions.begin() as s:
        s.execute(
            text("UPDATE audit_entries SET details = :d WHERE id = :id"),
            {"d": json.dumps({"n": 2}), "id": older},
        )
    report = audit.verify_chain(station, admin)
    assert (report.broken_at, report.reason) == (older, "this entry was edited")


def test_a_station_moved_into_the_stored_details_is_an_edit(station: Station, admin: Actor) -> None:
    """Stored details that end with the station's field, the row's own station emptied, hash
    to the same text: such a row is hashed the long way, and the edit is found (SQLite only:
    PostgreSQL refuses the text as JSON)."""
    if station.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's json column refuses the edited text")
    with station.sessions.begin() as s:
        s.info["station_name"] = "office"
        entry = append_entry(s, actor="t", action="bench.note", summary="s", details={"n": 1})
        s.flush()
        edited, named = entry.id, entry.station
    assert named == "office"
    with station.sessions.begin() as s:
        s.execute(
            text("UPDATE audit_entries SET station = NULL, details = :d WHERE id = :id"),
            {"d": '{"n":1},{"station":"office"}', "id": edited},
        )
    report = audit.verify_chain(station, admin)
    assert (report.broken_at, report.reason) == (edited, "this entry was edited")


@pytest.mark.parametrize("microsecond", [0, 420000, 7])
def test_times_are_hashed_as_written_whatever_their_fraction(
    station: Station, admin: Actor, monkeypatch: pytest.MonkeyPatch, microsecond: int
) -> None:
    """PostgreSQL gives a time back as text without the fraction's trailing zeros."""
    moment = datetime(2026, 12, 3, 10, 5, 45, microsecond, tzinfo=UTC)
    monkeypatch.setattr(audit_log, "utcnow", lambda: moment)
    with station.sessions.begin() as s:
        append_entry(s, actor="t", action="bench.note", summary="s", details={})
    with station.read() as s:
        row = list(chain_rows(s))[-1]
    assert row.at == moment.replace(tzinfo=None)
    assert stored_hash(row) == row.entry_hash
    assert audit.verify_chain(station, admin).ok
