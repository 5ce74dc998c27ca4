"""Key and storage faults, through the real command line in a separate process.

Each fault must end in one plain line on stderr and exit 1 (no traceback), change nothing, and
leave the station working once the cause is put right. A full disk is a real small tmpfs and a
read-only folder a real read-only bind mount (both need root to mount; without it, the folder
is made read-only with its permission bits and the full-disk test is skipped).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ijs_vetting.cli import main
from ijs_vetting.crypto import fingerprint
from tests import scenes
from tests.conftest import TEST_PASSWORD
from tests.mounts import mounted, read_only

ROSTER = "UPN,Forename,Surname,Year,Reg,Twitter\nA1,Ann,Lee,Year 3,3A,Y\nB2,Ben,Ray,Year 4,4R,N\n"


def _process(tmp_path: Path) -> Any:
    """Run `ijs-vetting --home HOME ARGS...` as its own process; (code, stdout, stderr)."""

    def run(home: Path, *args: str, key_dir: Path | None = None) -> tuple[int, str, str]:
        env = {
            **os.environ,
            "IJS_VETTING_KEY_DIR": str(key_dir or tmp_path / "keys"),
            "IJS_VETTING_USER": "office-admin",
            "IJS_VETTING_PASSWORD": TEST_PASSWORD,
        }
        done = subprocess.run(
            [sys.executable, "-m", "ijs_vetting", "--home", str(home), *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=300,
        )
        return done.returncode, done.stdout, done.stderr

    return run


@pytest.fixture
def cli(tmp_path: Path) -> Any:
    """The command line in a separate process (what a fault must not crash)."""
    return _process(tmp_path)


@pytest.fixture
def quick_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Any:
    """The same command line in this process (the key checks, without a process start each)."""

    def run(home: Path, *args: str, key_dir: Path | None = None) -> tuple[int, str, str]:
        monkeypatch.setenv("IJS_VETTING_KEY_DIR", str(key_dir or tmp_path / "keys"))
        code = main(["--home", str(home), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _one_plain_line(code: int, err: str, *words: str) -> None:
    assert code == 1, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("ijs-vetting: "), err
    for word in words:
        assert word in err, err


def _consents(cli: Any, home: Path) -> dict[str, bool | None]:
    code, out, err = cli(home, "children", "list", "--json")
    assert code == 0, err
    return {c["id"]: c["consents"]["twitter"] for c in json.loads(out)["children"]}


@pytest.fixture
def school(quick_cli: Any, tmp_path: Path) -> Path:
    """A station with two children, opened once (so its key exists); returns the home."""
    home = tmp_path / "home"
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    code, _out, err = quick_cli(home, "roster", "import", str(roster))
    assert code == 0, err
    return home


def _key_file(tmp_path: Path) -> Path:
    (key,) = (tmp_path / "keys").glob("*.key")
    return key


def test_a_new_station_makes_its_key_and_records_its_fingerprint(
    quick_cli: Any, school: Path, tmp_path: Path
) -> None:
    key = _key_file(tmp_path)
    code, out, err = quick_cli(school, "init", "--json")
    assert code == 0, err
    assert json.loads(out)["key_fingerprint"] == fingerprint(base64.b64decode(key.read_bytes()))


def test_a_missing_key_is_never_replaced(quick_cli: Any, school: Path, tmp_path: Path) -> None:
    """A missing key made a new one, a form was sealed with it, and once the real key was back
    `child export` crashed (InvalidTag). Now nothing is sealed without the real key."""
    key = _key_file(tmp_path)
    saved = key.read_bytes()
    key.unlink()
    form = tmp_path / "form.png"
    form.write_bytes(scenes.write_png_bytes(scenes.portrait(scenes.GRACE, 60).pixels))
    code, _out, err = quick_cli(
        school, "consent", "set", "B2", "twitter", "yes", "--form", str(form)
    )
    _one_plain_line(code, err, "missing", str(key), "no new key was made")
    assert not key.exists() and list((tmp_path / "keys").glob("*.key")) == []
    key.write_bytes(saved)
    assert _consents(quick_cli, school) == {"A1": True, "B2": False}  # nothing changed meanwhile
    code, out, err = quick_cli(school, "child", "export", "B2", str(tmp_path / "b2.zip"), "--json")
    assert code == 0 and json.loads(out)["forms"] == 0, err


def test_a_renamed_key_is_asked_for_by_name(quick_cli: Any, school: Path, tmp_path: Path) -> None:
    key = _key_file(tmp_path)
    renamed = key.with_name("backup.key")
    key.rename(renamed)
    code, _out, err = quick_cli(school, "children", "list")
    _one_plain_line(code, err, str(key))
    assert sorted(p.name for p in key.parent.glob("*.key")) == ["backup.key"]
    renamed.rename(key)
    assert quick_cli(school, "consent", "set", "B2", "twitter", "yes")[0] == 0
    assert _consents(quick_cli, school)["B2"] is True


def test_another_key_folder_is_refused_and_gets_no_key(
    quick_cli: Any, school: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "other-keys"
    code, _out, err = quick_cli(school, "children", "list", key_dir=elsewhere)
    _one_plain_line(code, err, str(elsewhere), "IJS_VETTING_KEY_DIR")
    assert not elsewhere.exists() or list(elsewhere.glob("*.key")) == []
    # another station's key under this station's name: refused by its fingerprint
    elsewhere.mkdir(exist_ok=True)
    stranger = elsewhere / _key_file(tmp_path).name
    stranger.write_bytes(base64.b64encode(os.urandom(32)) + b"\n")
    code, _out, err = quick_cli(school, "children", "list", key_dir=elsewhere)
    needed = fingerprint(base64.b64decode(_key_file(tmp_path).read_bytes()))
    _one_plain_line(code, err, needed, str(stranger), "not this station's key")
    assert _consents(quick_cli, school) == {"A1": True, "B2": False}


def test_a_damaged_key_file_is_one_line_and_restoring_it_works(
    cli: Any, quick_cli: Any, school: Path, tmp_path: Path
) -> None:
    key = _key_file(tmp_path)
    saved = key.read_bytes()
    key.write_bytes(saved[:20])  # truncated, as a bad copy leaves it
    code, _out, err = cli(school, "consent", "set", "B2", "twitter", "yes")
    _one_plain_line(code, err, "damaged", str(key))
    assert key.read_bytes() == saved[:20]  # never overwritten
    key.write_bytes(saved)
    assert _consents(quick_cli, school) == {"A1": True, "B2": False}


def test_a_corrupted_database_is_one_line_and_restoring_it_works(
    cli: Any, quick_cli: Any, school: Path
) -> None:
    db = school / "station.db"
    saved = db.read_bytes()
    db.write_bytes(b"this is not what the station wrote" * 200)
    for command in (["children", "list"], ["consent", "set", "B2", "twitter", "yes"]):
        code, _out, err = cli(school, *command)
        _one_plain_line(code, err, "database file is damaged", "backup")
    db.write_bytes(saved)
    assert _consents(quick_cli, school) == {"A1": True, "B2": False}


def test_a_read_only_data_folder_is_one_line_and_loses_nothing(
    cli: Any, quick_cli: Any, school: Path, tmp_path: Path
) -> None:
    roster = tmp_path / "roster.csv"
    with read_only(school):
        for command in (["children", "list"], ["roster", "import", str(roster)]):
            code, _out, err = cli(school, *command)
            _one_plain_line(code, err, "read-only", "Nothing was changed")
    assert _consents(quick_cli, school) == {"A1": True, "B2": False}
    assert quick_cli(school, "consent", "set", "B2", "twitter", "yes")[0] == 0
    assert _consents(quick_cli, school)["B2"] is True


def test_a_read_only_log_folder_does_not_stop_a_command(
    cli: Any, quick_cli: Any, school: Path
) -> None:
    with read_only(school / "logs"):
        code, out, err = cli(school, "children", "list")
        assert code == 0 and err == "", err
        assert "Ann Lee" in out
        code, _out, err = cli(school, "consent", "set", "B2", "twitter", "yes")
        assert code == 0 and err == "", err
        assert _consents(quick_cli, school)["B2"] is True


def test_a_full_disk_is_one_line_loses_nothing_and_clears_with_space(
    cli: Any, quick_cli: Any, tmp_path: Path
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a real full disk needs a small tmpfs, which only root can mount")
    with mounted("-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)):
        home = disk / "home"
        roster = tmp_path / "roster.csv"
        roster.write_text(ROSTER, encoding="utf-8")
        assert quick_cli(home, "roster", "import", str(roster))[0] == 0
        filler = disk / "filler"
        with filler.open("wb") as handle, contextlib.suppress(OSError):
            while True:
                handle.write(b"\0" * 65536)
        for command in (["consent", "set", "B2", "twitter", "yes"], ["children", "list"]):
            code, _out, err = cli(home, *command)
            _one_plain_line(code, err, "disk is full", "Nothing was changed")
        filler.unlink()
        assert _consents(quick_cli, home) == {"A1": True, "B2": False}
        assert quick_cli(home, "consent", "set", "B2", "twitter", "yes")[0] == 0
        assert _consents(quick_cli, home)["B2"] is True
