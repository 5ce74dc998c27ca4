"""`clear`, `reject` and `queue ...` from the command line: flags, JSON fields and exit codes.

One school, run through the real engine once: the database backends are covered by the service
tests, so this runs on SQLite only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ijs_vetting.cli import main
from tests import scenes

pytestmark = pytest.mark.slow

ROSTER = (
    "UPN,Forename,Surname,Year,Twitter,Biometric\n"
    "GRACE1,Grace,Hopper,5,Y,Y\n"
    "ASTRO1,Eileen,Collins,6,N,Y\n"
)


class Cli:
    """Runs `ijs-vetting --home HOME ...` in-process as a given user."""

    def __init__(
        self, home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.home, self.capsys, self.monkeypatch = home, capsys, monkeypatch

    def __call__(self, user: str, *args: str) -> tuple[int, str, str]:
        self.monkeypatch.setenv("IJS_VETTING_USER", user)
        code = main(["--home", str(self.home), *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, user: str, *args: str, code: int = 0) -> Any:
        got, out, err = self(user, *args, "--json")
        assert got == code, err
        return json.loads(out)


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(tmp_path / "home", capsys, monkeypatch)


def _school(cli: Cli, folder: Path) -> dict[str, int]:
    (folder / "roster.csv").write_text(ROSTER, encoding="utf-8")
    refs = folder / "refs"
    refs.mkdir()
    scenes.write_jpeg(refs / "GRACE1.jpg", scenes.portrait(scenes.GRACE, 220).pixels)
    scenes.write_jpeg(refs / "ASTRO1.jpg", scenes.portrait(scenes.ASTRONAUT, 220).pixels)
    dcim = folder / "dcim"
    dcim.mkdir()
    group = scenes.group_scene(face_width=170)
    scenes.write_jpeg_with_gps_and_thumbnail(dcim / "group.jpg", group.pixels)
    scenes.write_jpeg(dcim / "astro.jpg", scenes.portrait(scenes.ASTRONAUT, 170).pixels)
    cli.json("mrs.khan", "init", "--admin", "mrs.khan")
    assert cli("mrs.khan", "users", "add", "mr.head", "--role", "slt")[0] == 0
    assert cli("mrs.khan", "users", "add", "ms.teach", "--role", "staff")[0] == 0
    cli.json("mrs.khan", "roster", "import", str(folder / "roster.csv"))
    cli.json("mrs.khan", "faces", "enrol", str(refs), "--workers", "1")
    cli.json("ms.teach", "import", str(dcim), "--workers", "2")
    listing = cli.json("ms.teach", "photos", "list")
    return {p["file"]: p["id"] for p in listing}


def test_clear_export_post_and_take_down_from_the_cli(cli: Cli, tmp_path: Path) -> None:
    ids = _school(cli, tmp_path)
    group, astro = str(ids["group.jpg"]), str(ids["astro.jpg"])

    code, _out, err = cli("ms.teach", "clear", group)
    assert code == 1 and "Only SLT or an admin can clear photos." in err
    code, _out, err = cli("mr.head", "clear", group, "--caption", "x" * 141)
    assert code == 1 and "limit is 140" in err

    batch = cli.json("mr.head", "clear", group, astro, "--caption", "Sports day", code=1)
    assert [(c["photo_id"], c["account"], c["blurred_faces"]) for c in batch["cleared"]] == [
        (int(group), "@Year5IJS", 1)
    ]
    assert set(batch["cleared"][0]) == {
        "photo_id",
        "item_id",
        "account",
        "blurred_faces",
        "image_sha256",
        "shown",
    }
    assert batch["cleared"][0]["shown"] == ["GRACE1"]
    ((refused),) = batch["refused"]
    assert refused["photo_id"] == int(astro) and refused["needs_account"] is True
    assert refused["file"] == "astro.jpg" and "photo" not in refused["reason"].split(":")[0]
    code, _out, err = cli("mr.head", "clear", astro)
    assert (
        code == 1
        and f"astro.jpg (photo {astro}) refused: every face in it is masked, so choose" in err
    )
    assert err.rstrip().endswith("choose the account to post it to (--account)")
    code, out, err = cli("mr.head", "clear", astro, "--account", "@Year6IJS")
    assert code == 0 and "Cleared photo" in out and "1 face masked" in out and err == ""

    text = cli.json("ms.teach", "queue", "add-text", "--account", "year3ijs", "--caption", "Hi!")
    assert (text["account"], text["photo_id"], text["status"]) == ("@year3ijs", None, "queued")
    cli.json("ms.teach", "queue", "caption", str(text["id"]), "Hello, Year 3!")

    items = cli.json("mr.head", "queue", "list")["items"]
    assert [(i["account"], i["status"], i["caption"]) for i in items] == [
        ("@Year5IJS", "queued", "Sports day"),
        ("@Year6IJS", "queued", ""),
        ("@year3ijs", "queued", "Hello, Year 3!"),
    ]
    group_item, astro_item = items[0]["id"], items[1]["id"]

    outdir = tmp_path / "out"
    exported = cli.json("mr.head", "queue", "export", str(outdir))
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == {"items": exported["items"], "audit_anchor": exported["audit_anchor"]}
    verified = cli.json("mr.head", "audit", "verify", "--anchor", str(outdir / "manifest.json"))
    assert verified["ok"] and verified["entries"] > exported["audit_anchor"]["entries"]
    refused = cli("mr.head", "audit", "verify", "--anchor", str(outdir / "nothing.json"))
    assert refused[0] == 1 and "holds no audit anchor" in refused[2]
    assert [e["image"] for e in manifest["items"]] == [
        f"@Year5IJS/{group_item}.jpg",
        f"@Year6IJS/{astro_item}.jpg",
        None,
    ]
    assert manifest["items"][0] == {
        "id": group_item,
        "account": "@Year5IJS",
        "image": f"@Year5IJS/{group_item}.jpg",
        "caption": "Sports day",
        "photo_id": int(group),
        "blurred_faces": 1,
        "caption_file": f"@Year5IJS/{group_item}.txt",
    }
    assert (outdir / f"@Year5IJS/{group_item}.txt").read_text(encoding="utf-8") == "Sports day"
    posted_file = (outdir / manifest["items"][0]["image"]).read_bytes()
    assert b"Exif" not in posted_file and posted_file.endswith(b"\xff\xd9")
    code, _out, err = cli("mr.head", "queue", "caption", str(text["id"]), "Too late")
    assert code == 1 and "can no longer change" in err

    url = "https://twitter.com/Year5IJS/status/99"
    posted = cli.json("mr.head", "queue", "posted", str(group_item), "--url", url)
    assert (posted["status"], posted["post_url"]) == ("posted", url)
    assert cli.json("mr.head", "queue", "takedowns") == {"takedowns": []}

    assert cli("mrs.khan", "consent", "set", "GRACE1", "twitter", "no")[0] == 0
    (takedown,) = cli.json("mr.head", "queue", "takedowns")["takedowns"]
    assert takedown["id"] == group_item and takedown["post_url"] == url
    assert "GRACE1 no longer has consent" in takedown["takedown_reason"]
    done = cli.json("mr.head", "queue", "taken-down", str(group_item))
    assert done["status"] == "taken_down"
    assert cli.json("mr.head", "queue", "takedowns") == {"takedowns": []}

    rejected = cli.json("mr.head", "reject", astro, "999", "--reason", "background", code=1)
    assert rejected["rejected"] == [int(astro)]
    assert rejected["refused"] == [
        {"photo_id": 999, "file": None, "reason": "There is no photo 999.", "needs_account": False}
    ]
    statuses = {i["id"]: i["status"] for i in cli.json("mr.head", "queue", "list")["items"]}
    assert statuses[astro_item] == "withdrawn"
    assert not (outdir / f"@Year6IJS/{astro_item}.jpg").exists()

    audit = cli.json("mrs.khan", "audit", "--action", "queue")["entries"]
    assert {"queue.clear", "queue.export", "queue.posted", "queue.taken_down"} <= {
        e["action"] for e in audit
    }
