"""Two new stations starting at once on one empty PostgreSQL database (real processes): exactly
one key is ever recorded. A second process of the same PC (the same key folder) adopts it; a
second PC (its own key folder) refuses in one line naming the key it needs, and keeps no key of
its own that could seal data the register's key cannot open."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from ijs_vetting.db.models import Setting
from ijs_vetting.services.core.station_key import KEY_FINGERPRINT

pytestmark = pytest.mark.postgres

_STARTER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from ijs_vetting.domain import ServiceError
    from ijs_vetting.services.core.station import open_station
    from ijs_vetting.services.core.station_key import station_key_info

    home, url, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    while not go.exists():
        time.sleep(0.001)
    try:
        station = open_station(home, url=url)
    except ServiceError as exc:
        print("refused:", exc)
        sys.exit(3)
    print("key:", station_key_info(station).fingerprint)
    station.close()
    """
)


def _start_together(url: str, tmp_path: Path, key_dirs: list[Path]) -> list[tuple[int, str]]:
    go = tmp_path / "go"
    starters = []
    for n, keys in enumerate(key_dirs):
        env = {**os.environ, "IJS_VETTING_KEY_DIR": str(keys)}
        home = tmp_path / f"home-{n}"
        starters.append(
            subprocess.Popen(
                [sys.executable, "-c", _STARTER, str(home), url, str(go)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    time.sleep(3)  # every interpreter up and waiting, then all at once
    go.touch()
    results = []
    for starter in starters:
        out, err = starter.communicate(timeout=300)
        assert starter.returncode in (0, 3), err  # started, or refused in words: never a crash
        results.append((starter.returncode, out.strip()))
    return results


def _recorded(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            value = conn.scalar(select(Setting.value).where(Setting.key == KEY_FINGERPRINT))
    finally:
        engine.dispose()
    assert isinstance(value, dict)
    return str(value["fingerprint"])


def test_two_processes_of_one_pc_share_the_one_key(postgres_url: str, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    results = _start_together(postgres_url, tmp_path, [keys, keys])
    recorded = _recorded(postgres_url)
    assert results == [(0, f"key: {recorded}"), (0, f"key: {recorded}")]
    assert len(list(keys.glob("*.key"))) == 1


def test_a_second_pc_starting_at_the_same_moment_refuses_and_keeps_no_key(
    postgres_url: str, tmp_path: Path
) -> None:
    first, second = tmp_path / "pc1-keys", tmp_path / "pc2-keys"
    results = _start_together(postgres_url, tmp_path, [first, second])
    recorded = _recorded(postgres_url)
    assert sorted(code for code, _ in results) == [0, 3]
    (winner, won), (loser, lost) = sorted(
        zip((first, second), results, strict=True), key=lambda r: r[1][0]
    )
    assert won == (0, f"key: {recorded}")
    assert lost[1].startswith("refused:") and recorded in lost[1] and "missing" in lost[1]
    assert len(list(winner.glob("*.key"))) == 1
    assert list(loser.glob("*.key")) == []  # a key made for nothing would seal the wrong data
