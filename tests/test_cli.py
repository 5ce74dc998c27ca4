"""The headless CLI: its commands, flags, JSON fields and exit codes are a contract for scripts."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ijs_vetting.cli import main
from ijs_vetting.db import engine as db_engine


@pytest.fixture
def home(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data home whose database is SQLite or, via IJS_VETTING_DB, PostgreSQL."""
    folder = tmp_path / "cli-home"
    if not db_url.startswith("sqlite"):
        monkeypatch.setenv("IJS_VETTING_DB", db_url)
    return folder


def run(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--home", str(home), *args])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> Any:
    code, out, err = run(capsys, home, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_init_creates_the_database_and_first_admin(
    capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    result = run_json(capsys, home, "init", "--admin", "mrs.khan")
    assert result["admin_created"] is True
    assert result["home"] == str(home.resolve())
    again = run_json(capsys, home, "init", "--admin", "mrs.khan")
    assert again["admin_created"] is False
    code, _out, err = run(capsys, home, "init", "--admin", "someone.else")
    assert code == 1
    assert "already has an admin" in err


def test_roster_children_consent_and_audit_round_trip(
    capsys: pytest.CaptureFixture[str],
    home: Path,
    roster_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IJS_VETTING_USER", "mrs.khan")
    run_json(capsys, home, "init", "--admin", "mrs.khan")

    preview = run_json(capsys, home, "roster", "import", str(roster_file), "--dry-run")
    assert preview["dry_run"] is True and len(preview["added"]) == 3
    assert run_json(capsys, home, "children", "list")["children"] == []

    report = run_json(capsys, home, "roster", "import", str(roster_file))
    assert [c["id"] for c in report["added"]] == ["A123", "B456", "C789"]
    assert {"id", "name", "channel", "before", "after"} <= set(report["consent_changes"][0])

    listing = run_json(capsys, home, "children", "list", "--year", "3")["children"]
    assert [c["id"] for c in listing] == ["A123"]
    millie = listing[0]
    assert millie["first_name"] == "Amelia" and millie["preferred_name"] == "Millie"
    assert millie["year"] == 3 and millie["class"] == "3S"
    assert millie["consents"]["twitter"] is True
    assert millie["biometric"]["templates_allowed"] is True

    form = tmp_path / "withdrawal.pdf"
    form.write_bytes(b"%PDF-1.4 withdrawal letter")
    changed = run_json(
        capsys,
        home,
        "consent",
        "set",
        "A123",
        "twitter",
        "no",
        "--form",
        str(form),
        "--date",
        "2026-10-01",
    )
    assert changed == {
        "child_id": "A123",
        "channel": "twitter",
        "granted": False,
        "previous": True,
        "record_id": changed["record_id"],
    }
    bio = run_json(capsys, home, "biometric", "set", "A123", "child-objects")
    assert bio["templates_allowed"] is False
    flag = run_json(capsys, home, "safeguarding", "set", "C789", "on", "--reason", "adopted")
    assert flag["never_publish"] is True
    device = run_json(
        capsys,
        home,
        "devices",
        "add",
        "Year 3 iPad 1",
        "--make",
        "Apple",
        "--model",
        "iPad (9th generation)",
    )
    assert device["make"] == "Apple"

    entries = run_json(capsys, home, "audit")["entries"]
    actions = [e["action"] for e in entries]
    assert actions[:5] == [
        "device.add",
        "safeguarding.set",
        "biometric.set",
        "consent.set",
        "roster.import",
    ]
    assert {"id", "at", "actor", "action", "target_type", "target_id", "summary", "details"} <= set(
        entries[0]
    )
    # the station's own entries, when it was made: the anchoring of its audit chain, and the
    # sealing of the rows its migrations wrote (said in the chain, so never done twice)
    assert [e["action"] for e in entries if e["actor"] != "mrs.khan"] == [
        "audit.anchor",
        "station.seals_made",  # the rows the migrations wrote
        "station.seals_made",  # the data sealing (nothing to seal in a new station)
    ]
    consent_entries = run_json(capsys, home, "audit", "--action", "consent", "--target", "A123")
    assert len(consent_entries["entries"]) == 1
    # People read the child's name, not "child:A123" (the JSON keeps the ids).
    code, out, _err = run(capsys, home, "audit", "--action", "consent", "--target", "A123")
    (line,) = [row for row in out.splitlines() if "consent.set" in row]
    assert code == 0 and "Millie Smith (A123)" in line and "child:A123" not in line

    code, out, _err = run(capsys, home, "children", "list")
    assert code == 0 and "Millie Smith" in out and "child objects" in out


def test_errors_are_one_line_on_stderr_with_a_non_zero_exit(
    capsys: pytest.CaptureFixture[str],
    home: Path,
    roster_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run(capsys, home, "roster", "import", str(roster_file))
    code, out, err = run(capsys, home, "consent", "set", "NOPE", "twitter", "yes")
    assert (code, out) == (1, "")
    assert err == "ijs-vetting: There is no child with the id 'NOPE'.\n"

    bad = tmp_path / "bad.csv"
    bad.write_text("UPN,Forename,Surname,Year\nX1,Al,Bo,Year 12\n", encoding="utf-8")
    code, _out, err = run(capsys, home, "roster", "import", str(bad))
    assert code == 1 and "line 2: unknown year group 'Year 12'" in err

    monkeypatch.setenv("IJS_VETTING_USER", "stranger")
    code, _out, err = run(capsys, home, "children", "list")
    assert code == 1 and "Unknown user or wrong password" in err


def test_role_refusal_from_the_cli(
    capsys: pytest.CaptureFixture[str],
    home: Path,
    roster_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run(capsys, home, "roster", "import", str(roster_file))  # office-admin bootstraps as admin
    assert run(capsys, home, "users", "add", "mr.lee", "--role", "staff")[0] == 0
    monkeypatch.setenv("IJS_VETTING_USER", "mr.lee")
    code, _out, err = run(capsys, home, "consent", "set", "A123", "twitter", "no")
    assert code == 1 and "Only an admin can record consent." in err
    monkeypatch.setenv("IJS_VETTING_USER", "office-admin")
    refused = run_json(capsys, home, "audit", "--actor", "mr.lee")["entries"]
    assert refused[0]["details"]["refused"] is True


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--home", str(home), "consent", "set", "A1", "twitter", "perhaps"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        main(["--home", str(home), "consent", "set", "A1", "twitter", "yes", "--date", "5/9/26"])
    assert "is not a date" in capsys.readouterr().err


def test_locked_database_is_a_clear_message_and_loses_nothing(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    roster_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "locked-home"
    assert run(capsys, home, "roster", "import", str(roster_file))[0] == 0
    monkeypatch.setattr(db_engine, "SQLITE_BUSY_SECONDS", 0.2)
    holder = sqlite3.connect(home / "station.db")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        code, _out, err = run(capsys, home, "consent", "set", "A123", "twitter", "no")
    finally:
        holder.rollback()
        holder.close()
    assert code == 1 and "database is busy" in err and "Nothing was changed" in err
    listing = run_json(capsys, home, "children", "list")["children"]
    assert next(c for c in listing if c["id"] == "A123")["consents"]["twitter"] is True


def test_installed_entry_point_runs(tmp_path: Path, roster_file: Path) -> None:
    """The console script from pyproject works as a separate process (what scripts call)."""
    script = Path(sys.executable).with_name("ijs-vetting")
    env = {**os.environ, "IJS_VETTING_HOME": str(tmp_path / "proc-home")}
    result = subprocess.run(
        [str(script), "roster", "import", str(roster_file), "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["added"]) == 3


def test_a_lost_audit_anchor_fails_verify_until_an_admin_remakes_it(
    capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    run_json(capsys, home, "init", "--admin", "office-admin")  # the user the tests log in as
    assert run(capsys, home, "audit", "verify")[0] == 0
    (anchor,) = Path(os.environ["IJS_VETTING_KEY_DIR"]).glob("*.audit-anchor.json")
    anchor.unlink()
    code, out, _err = run(capsys, home, "audit", "verify")
    assert code == 1 and "deleted or moved" in out and not anchor.exists()  # not remade
    remade = run_json(capsys, home, "audit", "anchor")
    assert set(remade) == {"entries", "entry_id", "entry_hash"} and anchor.exists()
    assert run(capsys, home, "audit", "verify")[0] == 0
    code, _out, err = run(capsys, home, "audit", "anchor")
    assert code == 1 and "nothing to remake" in err
