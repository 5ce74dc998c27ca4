"""The CLI contract for faces and photos: `faces enrol`, `import`, `photos list`, `photos vet`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ijs_vetting.cli import main
from tests import scenes

pytestmark = pytest.mark.slow

ROSTER = (
    "UPN,Forename,Surname,Year,Twitter,Biometric\nG1,Grace,Hopper,5,Y,Y\nA1,Eileen,Collins,6,Y,N\n"
)


def run_json(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> Any:
    code = main(["--home", str(home), *args, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_enrol_import_and_list(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    home = tmp_path / "home"
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    run_json(capsys, home, "roster", "import", str(roster))

    refs = tmp_path / "refs"
    (refs / "A1").mkdir(parents=True)
    scenes.write_jpeg(refs / "G1.jpg", scenes.portrait(scenes.GRACE, 200).pixels)
    scenes.write_jpeg(
        refs / "A1" / "school-2025.jpg", scenes.portrait(scenes.ASTRONAUT, 200).pixels
    )
    scenes.write_jpeg(refs / "NOPE.jpg", scenes.portrait(scenes.GRACE, 200).pixels)
    scenes.write_jpeg(refs / "G1-group.jpg", scenes.group_scene(face_width=160).pixels)
    enrolled = run_json(capsys, home, "faces", "enrol", str(refs), "--workers", "1")
    assert (enrolled["enrolled"], enrolled["refused"], enrolled["not_enrolled"]) == (1, 2, 1)
    reasons = {r["file"]: (r["status"], r["reason"]) for r in enrolled["references"]}
    assert reasons == {
        "G1.jpg": ("enrolled", None),
        "school-2025.jpg": ("not_enrolled", "no_biometric_consent"),
        "NOPE.jpg": ("refused", "unknown_child"),
        "G1-group.jpg": ("refused", "unknown_child"),  # the file name is not a child id
    }

    dcim = tmp_path / "DCIM"
    dcim.mkdir()
    scenes.write_jpeg(dcim / "IMG_0001.JPG", scenes.group_scene(face_width=160).pixels)
    scenes.write_truncated_jpeg(dcim / "IMG_0002.JPG", scenes.group_scene().pixels)
    report = run_json(capsys, home, "import", str(dcim), "--workers", "1")
    assert (report["found"], report["imported"], report["duplicates"]) == (2, 2, 0)
    assert [f["file"] for f in report["failed"]] == ["IMG_0002.JPG"]
    assert report["statuses"] == {"ready_with_blur": 1, "failed": 1}

    listed = run_json(capsys, home, "photos", "list")
    assert isinstance(listed, list) and len(listed) == 2
    good = next(p for p in listed if p["file"] == "IMG_0001.JPG")
    assert {"id", "file", "status", "taken_at", "device", "faces"} <= set(good)
    assert good["status"] == "ready_with_blur"
    faces = sorted(good["faces"], key=lambda f: f["left"])
    assert {"left", "top", "right", "bottom", "child_id", "distance", "decision", "reason"} <= set(
        faces[0]
    )
    assert [(f["child_id"], f["decision"], f["reason"]) for f in faces] == [
        ("G1", "show", "consent"),
        (None, "blur", "unknown"),
    ]
    assert faces[0]["distance"] < 0.45 < faces[1]["distance"]  # nearest template is Grace
    assert all(f["right"] > f["left"] and f["bottom"] > f["top"] for f in faces)

    only_failed = run_json(capsys, home, "photos", "list", "--status", "failed")
    assert [p["file"] for p in only_failed] == ["IMG_0002.JPG"]
    vetted = run_json(capsys, home, "photos", "vet")
    assert vetted["vetted"] == 0  # nothing was waiting
    assert vetted["retried"] == 0
    retried = run_json(capsys, home, "photos", "vet", "--retry-failed", "--workers", "1")
    assert (retried["retried"], retried["vetted"]) == (1, 1)
    assert [f["file"] for f in retried["failed"]] == ["IMG_0002.JPG"]  # still cut short
