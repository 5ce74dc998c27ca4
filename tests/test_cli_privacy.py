"""`retention run`, `child export` and `child erase` from the command line: flags, JSON fields,
exit codes and refusals. The database backends are covered by the service tests: SQLite here."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from ijs_vetting.cli import main
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import QueueStatus
from ijs_vetting.services.core.station import open_station
from tests.privacy_world import JPEG_SCAN, ROSTER, Face, add_item, add_photo, add_template


class Cli:
    def __init__(
        self, home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.home, self.capsys, self.monkeypatch = home, capsys, monkeypatch

    def __call__(self, *args: str, user: str = "office-admin") -> tuple[int, str, str]:
        self.monkeypatch.setenv("IJS_VETTING_USER", user)
        code = main(["--home", str(self.home), *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str) -> Any:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """A station with the roster, a consent form, a template and a posted photo of A123."""
    runner = Cli(tmp_path / "home", capsys, monkeypatch)
    runner.json("init", "--admin", "office-admin")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    runner.json("roster", "import", str(tmp_path / "roster.csv"))
    (tmp_path / "form.jpg").write_bytes(JPEG_SCAN)
    runner.json("consent", "set", "A123", "website", "yes", "--form", str(tmp_path / "form.jpg"))
    runner.json("users", "add", "teacher", "--role", "staff")
    station = open_station(str(runner.home))
    try:
        add_template(station, "A123")
        photo = add_photo(station, [Face("A123"), Face("B456")])
        add_item(station, photo, status=QueueStatus.POSTED, posted_at=utcnow())
    finally:
        station.close()
    return runner


def test_retention_run_and_its_dry_run(cli: Cli) -> None:
    dry = cli.json("retention", "run", "--dry-run")
    assert dry["dry_run"] is True
    assert set(dry) == {
        "dry_run",
        "now",
        "cutoffs",
        "rejected_photos",
        "posted_originals",
        "templates",
        "leavers_erased",
        "withdrawn",
        "takedowns",
        "photo_face_encodings",
        "unreferenced_files",
        "backups_deleted",
        "files_deleted",
        "file_errors",
        "consent_lapse",  # consent past its review's grace period (services.consent_lapse)
    }
    assert set(dry["cutoffs"]) == {"rejected_before", "posted_before", "left_before"}
    assert dry["templates"] == {"children": [], "deleted": 0}
    assert dry["photo_face_encodings"] == 0
    done = cli.json("retention", "run")
    assert done["dry_run"] is False and done["leavers_erased"] == []
    code, out, _ = cli("retention", "run")
    assert code == 0 and "never stored" in out and "audit trail is never deleted" in out
    assert cli.json("audit", "--action", "retention")["entries"][0]["action"] == "retention.run"


def test_child_export_writes_the_zip(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "A123.zip"
    result = cli.json("child", "export", "A123", str(out))
    assert result == {
        "child_id": "A123",
        "file": str(out.resolve()),
        "forms": 1,
        "reference_photos": 1,
        "photo_originals": 1,
        "posted_images": 1,
        "audit_entries": 1,
        "not_stored": [],
    }
    with zipfile.ZipFile(out) as z:
        assert z.read("forms/form.jpg") == JPEG_SCAN
        assert json.loads(z.read("child.json"))["id"] == "A123"
    code, _, err = cli("child", "export", "A123", str(out))
    assert code == 1 and "already exists" in err
    code, out_text, _ = cli("child", "export", "B456", str(tmp_path / "B456.zip"))
    assert code == 0 and "Exported B456" in out_text


def test_child_erase_lists_the_takedowns(cli: Cli) -> None:
    code, _, err = cli("child", "erase", "A123", user="teacher")
    assert code == 1 and "Only an admin can erase a child's record." in err
    result = cli.json("child", "erase", "A123")
    assert result["child_id"] == "A123" and result["templates_deleted"] == 1
    assert result["forms_deleted"] == 1 and result["files_deleted"] == 2
    (takedown,) = result["takedowns"]
    assert takedown["status"] == "posted" and takedown["shown"] == ["B456"]
    assert [t["id"] for t in cli.json("queue", "takedowns")["takedowns"]] == [takedown["id"]]
    assert [c["id"] for c in cli.json("children", "list")["children"]] == ["B456", "C789"]
    code, _, err = cli("child", "erase", "A123")
    assert code == 1 and "no child with the id 'A123'" in err
    code, out, _ = cli("child", "erase", "B456")
    assert code == 0 and "Posted items to take down now" in out
