"""Failed logins from several stations at once all count: the account locks (real processes, on
SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from sqlalchemy import select

from ijs_vetting.db.models import AuditEntry, User
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import Role
from ijs_vetting.services.core import users
from ijs_vetting.services.core.station import Station

PASSWORD = "correct horse battery"
PROCESSES = 6
GUESSES = 8  # each: 48 wrong guesses in all

_GUESSER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from ijs_vetting.services.core import users
    from ijs_vetting.services.core.station import open_station

    home, url, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    station = open_station(home, url=url)
    while not go.exists():
        time.sleep(0.005)
    for _ in range({guesses}):
        try:
            users.login(station, "mr.lee", "wrong-guess")
        except users.LoginRefused:
            pass
    station.close()
    """
).format(guesses=GUESSES)


def test_parallel_wrong_guesses_lock_the_account(
    station: Station, db_url: str, tmp_path: Path
) -> None:
    admin = users.login(station, "office-admin", PASSWORD)
    users.add_user(station, admin, "mr.lee", Role.STAFF, "lee-password-1")
    go = tmp_path / "go"
    guessers = [
        subprocess.Popen(
            [sys.executable, "-c", _GUESSER, str(station.paths.home), db_url, str(go)],
            env=os.environ.copy(),
        )
        for _ in range(PROCESSES)
    ]
    time.sleep(3)  # let every process open the station, then start them together
    go.touch()
    assert [g.wait(timeout=300) for g in guessers] == [0] * PROCESSES

    with station.read() as s:
        lee = s.scalar(select(User).where(User.username == "mr.lee"))
        counted = list(
            s.scalars(
                select(AuditEntry.summary).where(
                    AuditEntry.action == "login.failed", AuditEntry.summary.like("wrong password%")
                )
            )
        )
    assert lee is not None and lee.locked_until is not None and lee.locked_until > utcnow()
    # Every wrong password that was checked was counted: none lost to another station's write.
    assert lee.failed_logins == len(counted) >= 5
    try:
        users.login(station, "mr.lee", "lee-password-1")
        raise AssertionError("a locked account let its user in")
    except users.LoginRefused as refused:
        assert "locked" in str(refused)
