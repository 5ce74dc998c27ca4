"""The school's rules from the command line: captions naming children (`clear`, `queue add-text`,
`queue caption` with `--allow-names`). SQLite only: the services' tests cover both backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ijs_vetting.services.core.station import open_station
from tests.privacy_world import Face, add_photo
from tests.test_cli_privacy import Cli, cli

__all__ = ["cli"]  # the privacy tests' station, as a fixture


@pytest.fixture
def school(cli: Cli) -> Cli:
    """The privacy tests' station (roster, staff member "teacher") with an SLT member, "head"."""
    cli.json("users", "add", "head", "--role", "slt")
    return cli


def test_add_text_refuses_names_unless_slt_allows_them(school: Cli) -> None:
    cli = school
    args = ("queue", "add-text", "--account", "@Year5IJS", "--caption", "Well done Amelia Smith")
    code, out, err = cli(*args, user="teacher")
    assert code == 1 and out == ""
    assert "'Amelia Smith' (full name)" in err and "--allow-names" in err
    code, _, err = cli(*args, "--allow-names", user="teacher")
    assert code == 1 and "Only " in err and " can " in err
    code, out, err = cli(*args, "--allow-names", "--json", user="head")
    assert code == 0, err
    item = json.loads(out)
    assert item["caption"] == "Well done Amelia Smith"
    audit = cli.json("audit", "--action", "queue.add_text")["entries"][0]
    assert audit["details"]["caption_names_allowed"] == [{"kind": "full_name", "id": "A123"}]
    code, _, err = cli("queue", "caption", str(item["id"]), "Certificates for B456", user="head")
    assert code == 1 and "'B456' (MIS id)" in err


def test_clear_refuses_a_caption_naming_a_masked_child(school: Cli) -> None:
    cli = school
    station = open_station(str(cli.home))
    try:
        photo = add_photo(station, [Face("A123"), Face("C789")])
    finally:
        station.close()
    code, out, err = cli("clear", str(photo), "--caption", "Zoe at the fair", "--json", user="head")
    assert code == 1
    refused = json.loads(out)["refused"]
    assert [r["photo_id"] for r in refused] == [photo]
    assert "'Zoe' (masked in the photo)" in refused[0]["reason"]
    assert "'Zoe' (masked in the photo)" in err


def test_consent_due_lapse_and_the_letters_files(school: Cli, tmp_path: Path) -> None:
    cli = school
    cli.json("settings", "set", "consent.review_rule", "september")
    cli.json("consent", "set", "B456", "twitter", "yes", "--date", "2020-01-10")
    code, _, err = cli("consent", "set", "B456", "website", "no", "--review-on", "2030-01-01")
    assert code == 1 and "review date belongs to a yes" in err
    due = cli.json("consent", "due")["due"]
    assert [(d["id"], d["channel"], d["state"], d["review_on"]) for d in due] == [
        ("B456", "twitter", "lapsed", "2020-09-01")
    ]
    child = cli.json("children", "list")["children"]
    noah = next(c for c in child if c["id"] == "B456")
    assert noah["consents"]["twitter"] is False
    assert noah["consent_review"]["twitter"]["state"] == "lapsed"
    dry = cli.json("consent", "lapse", "--dry-run")
    assert dry["dry_run"] and [x["id"] for x in dry["lapsed"]] == ["B456"]
    assert [x["id"] for x in cli.json("consent", "lapse")["lapsed"]] == ["B456"]
    assert cli.json("consent", "lapse")["lapsed"] == []
    letters = cli.json(
        "consent", "due", "--csv", str(tmp_path / "l.csv"), "--pdf", str(tmp_path / "l.pdf")
    )
    assert [d["id"] for d in letters["due"]] == ["B456"]
    assert "B456,Noah,Jones" in (tmp_path / "l.csv").read_text(encoding="utf-8-sig")
    assert (tmp_path / "l.pdf").read_bytes().startswith(b"%PDF")
    code, _, err = cli("consent", "due", "--csv", str(tmp_path / "x.csv"), user="teacher")
    assert code == 1 and "Only " in err and " can " in err and not (tmp_path / "x.csv").exists()


def test_sheet_for_a_year_a_class_and_a_trip_list(school: Cli, tmp_path: Path) -> None:
    cli = school
    out = tmp_path / "y5.pdf"
    report = cli.json("sheet", "--year", "5", "--channel", "twitter", str(out))
    assert report["file"] == str(out) and out.read_bytes().startswith(b"%PDF")
    assert report["selected"] == 2 and report["classes"] == {"Year 5": []}
    sheet = cli.json("sheet", "--year", "6", str(tmp_path / "y6.pdf"))
    assert [e["id"] for e in sheet["classes"]["Year 6"]] == ["C789"]
    assert sheet["classes"]["Year 6"][0]["why"] == "no_consent"
    trip = tmp_path / "trip.txt"
    trip.write_text("Zoe Brown\nAmelia Smith\n", encoding="utf-8")
    listed = cli.json("sheet", "--children", str(trip), str(tmp_path / "trip.pdf"))
    assert listed["selected"] == 2 and listed["pages"] == 2
    trip.write_text("Nobody Here\n", encoding="utf-8")
    code, _, err = cli("sheet", "--children", str(trip), str(tmp_path / "no.pdf"))
    assert code == 1 and "'Nobody Here' is no child on roll" in err
    with pytest.raises(SystemExit) as usage:
        cli("sheet", "--year", "5", "--class", "5H", str(tmp_path / "x.pdf"))
    assert usage.value.code == 2
    entry = cli.json("audit", "--action", "sheet.print")["entries"]
    assert len(entry) == 3 and entry[1]["details"]["listed"] == ["C789"]  # newest first
