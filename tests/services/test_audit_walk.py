"""`audit verify` walks four years of chain in chunks (issue 15): memory stays one chunk, and an
edit or a removal is still found wherever it falls, across chunk boundaries too."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

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
