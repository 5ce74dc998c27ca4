"""The posting folder holds nothing the register would not show: after a kill -9 at any step of
an export, a withdrawal racing an export in another process, a re-export that fails, and once
an item is posted.

Items are stored rows as clearing leaves them (tests/privacy_world.py) with a real, clean JPEG as
their rendering in the vault, so the export's checks pass. The second station is a real process
(tests/outbox_child.py) on the same database: SQLite, and PostgreSQL when a server is given.
"""

from __future__ import annotations

import functools
import io
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from ijs_vetting.db.models import QueueItem
from ijs_vetting.domain import QueueStatus, ServiceError
from ijs_vetting.services.core.station import Actor, Station, open_station
from ijs_vetting.services.posting import queue, queue_export
from tests import privacy_world
from tests.conftest import SLT
from tests.crashing import run_killed
from tests.privacy_world import Face

ROOT = Path(__file__).resolve().parents[2]
CAPTION = "Sports day — well run, Year 5! ☀"


def _picture_item(station: Station, mis_id: str, shade: int) -> int:
    """A queued photo item whose rendering in the vault is a real, metadata-free JPEG."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (shade, 90, 160)).save(buffer, "JPEG", quality=80)
    photo = privacy_world.add_photo(station, [Face(mis_id)])
    return privacy_world.add_item(station, photo, caption=CAPTION, picture=buffer.getvalue())


@pytest.fixture
def school(station: Station, admin: Actor, tmp_path: Path) -> tuple[Station, list[int]]:
    """Two photo items and a text post, all queued for @Year5IJS."""
    privacy_world.school(station, admin, tmp_path)
    items = [_picture_item(station, "A123", 40), _picture_item(station, "B456", 200)]
    items.append(queue.add_text(station, admin, "@Year5IJS", "Cake sale on Friday").id)
    return station, items


def _files(outdir: Path) -> set[str]:
    return {p.relative_to(outdir).as_posix() for p in outdir.rglob("*") if p.is_file()}


def _manifest_ids(outdir: Path) -> list[int]:
    manifest = outdir / "manifest.json"
    if not manifest.exists():
        return []
    return [entry["id"] for entry in json.loads(manifest.read_text(encoding="utf-8"))["items"]]


def _strays(station: Station, outdir: Path) -> list[str]:
    """Files and manifest entries in `outdir` that the register does not show as exported
    there: anything but the picture and caption of an exported item."""
    shown = {i.id: i for i in queue.list_queue(station, statuses=[QueueStatus.EXPORTED])}
    allowed = {"manifest.json"}
    for item in shown.values():
        allowed |= {f"{item.account}/{item.id}.txt"}
        if item.photo_id is not None:
            allowed |= {f"{item.account}/{item.id}.jpg"}
    strays = sorted(_files(outdir) - allowed)
    return strays + [f"manifest entry {i}" for i in _manifest_ids(outdir) if i not in shown]


def _item_files(outdir: Path, item_id: int) -> list[str]:
    return sorted(name for name in _files(outdir) if Path(name).stem == str(item_id))


def test_pictures_go_out_with_captions_and_posting_takes_them_back(
    school: tuple[Station, list[int]], slt: Actor, tmp_path: Path
) -> None:
    station, (first, second, text) = school
    outdir = tmp_path / "out"
    report = queue_export.export_queue(station, slt, outdir)
    assert _files(outdir) == {
        "manifest.json",
        f"@Year5IJS/{first}.jpg",
        f"@Year5IJS/{first}.txt",
        f"@Year5IJS/{second}.jpg",
        f"@Year5IJS/{second}.txt",
        f"@Year5IJS/{text}.txt",
    }
    assert (outdir / f"@Year5IJS/{first}.txt").read_text(encoding="utf-8") == CAPTION
    assert (outdir / f"@Year5IJS/{text}.txt").read_bytes() == b"Cake sale on Friday"
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == report.manifest()
    assert [(e["id"], e["image"], e["caption_file"]) for e in manifest["items"]] == [
        (first, f"@Year5IJS/{first}.jpg", f"@Year5IJS/{first}.txt"),
        (second, f"@Year5IJS/{second}.jpg", f"@Year5IJS/{second}.txt"),
        (text, None, f"@Year5IJS/{text}.txt"),
    ]
    assert report.as_json()["removed"] == [] and report.as_json()["removed_entries"] == []

    # Posted: the folder holds only what is still to post.
    queue.mark_posted(station, slt, first, "https://x.com/Year5IJS/status/1")
    assert _item_files(outdir, first) == [] and _manifest_ids(outdir) == [second, text]
    queue.withdraw_item(station, slt, text, "wrong day")
    assert _item_files(outdir, text) == [] and _manifest_ids(outdir) == [second]
    assert _strays(station, outdir) == []

    # A picture someone copied back in is removed (and reported) by the next export.
    (outdir / f"@Year5IJS/{first}.jpg").write_bytes(b"stale copy")
    again = queue_export.export_queue(station, slt, outdir)
    assert again.removed == [f"@Year5IJS/{first}.jpg"]
    assert [i.id for i in again.items] == [second] and _strays(station, outdir) == []


@contextmanager
def _read_only(folder: Path) -> Iterator[None]:
    """No new file in `folder` (its sub-folders stay writable): chmod, or for root (whom
    permissions do not stop) the immutable attribute."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: cannot make a folder read-only")
    made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"chattr +i is not supported here: {made.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_re_export_failing_part_way_keeps_the_earlier_export(
    school: tuple[Station, list[int]], slt: Actor, tmp_path: Path
) -> None:
    station, (first, second, text) = school
    outdir = tmp_path / "out"
    queue_export.export_queue(station, slt, outdir)
    before = {name: (outdir / name).read_bytes() for name in _files(outdir)}
    third = _picture_item(station, "A123", 120)

    # The account folder takes the pictures; the manifest, last, cannot be written.
    refused = r"Cannot write the export to|may not write to its data"
    with _read_only(outdir), pytest.raises(ServiceError, match=refused):
        queue_export.export_queue(station, slt, outdir)
    for name, data in before.items():
        assert (outdir / name).read_bytes() == data, f"{name} changed or went"
    assert _manifest_ids(outdir) == [first, second, text]
    assert queue.get_item(station, third).status is QueueStatus.QUEUED
    assert queue.get_item(station, first).status is QueueStatus.EXPORTED
    assert _item_files(outdir, third) == []  # written before the manifest failed: taken out
    assert _strays(station, outdir) == []

    report = queue_export.export_queue(station, slt, outdir)
    assert [i.id for i in report.items] == [first, second, text, third]
    assert _manifest_ids(outdir) == [first, second, text, third] and _strays(station, outdir) == []


def test_a_picture_that_does_not_arrive_as_verified_is_not_exported(
    school: tuple[Station, list[int]], slt: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file is read back once it is in place: the folder holds exactly the bytes that were
    verified. A picture changed on the way (a share, a sync program, a failing disk) is removed
    and the export fails with nothing marked exported."""
    station, items = school
    outdir = tmp_path / "out"
    real_replace = os.replace

    def replace_then_spoil(src: str, dst: str) -> None:
        real_replace(src, dst)
        if str(dst).startswith(str(outdir)) and str(dst).endswith(".jpg"):
            with open(dst, "ab") as spoilt:
                spoilt.write(b"\0 not the verified picture")

    monkeypatch.setattr(os, "replace", replace_then_spoil)
    with pytest.raises(ServiceError, match="did not read back as it was written"):
        queue_export.export_queue(station, slt, outdir)
    assert not any(name.endswith(".jpg") for name in _files(outdir))
    assert [queue.get_item(station, i).status for i in items] == [QueueStatus.QUEUED] * 3

    monkeypatch.setattr(os, "replace", real_replace)
    report = queue_export.export_queue(station, slt, outdir)
    assert [i.id for i in report.items] == items and _strays(station, outdir) == []


def test_a_folder_that_cannot_be_changed_is_tidied_at_the_next_start(
    school: tuple[Station, list[int]], slt: Actor, tmp_path: Path
) -> None:
    """A withdrawal never waits for the folder (a share may be offline): it is recorded, and the
    files go as soon as the folder can be changed again."""
    station, (first, second, text) = school
    outdir = tmp_path / "out"
    queue_export.export_queue(station, slt, outdir)
    with _read_only(outdir / "@Year5IJS"):
        queue.withdraw_item(station, slt, first, "a parent phoned")
        assert queue.get_item(station, first).status is QueueStatus.WITHDRAWN
        assert _item_files(outdir, first) == [f"@Year5IJS/{first}.jpg", f"@Year5IJS/{first}.txt"]
        assert _manifest_ids(outdir) == [second, text]  # the posting tool no longer sees it
        open_station(str(station.paths.home), url=_url(station)).close()  # still read-only
    assert _item_files(outdir, first) != []
    open_station(str(station.paths.home), url=_url(station)).close()
    assert _item_files(outdir, first) == [] and _manifest_ids(outdir) == [second, text]
    assert _strays(station, outdir) == []


def _child(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.outbox_child", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _url(station: Station) -> str:
    return station.engine.url.render_as_string(hide_password=False)


# Three items: a picture and a caption file each for two, a caption file for the text post,
# then the manifest: six files, each made by one mkstemp and put in place by one os.replace.
KILL_POINTS = [
    "mkstemp:1:before",  # intent recorded, nothing written
    *(f"replace:{n}:{when}" for n in range(1, 7) for when in ("before", "after")),
]


@pytest.mark.slow  # thirteen kills, each with its withdrawal, restart and export after
@pytest.mark.parametrize("again", [False, True], ids=["first export", "re-export"])
def test_kill_9_at_any_step_of_an_export_leaves_nothing_the_register_cannot_take_back(
    station: Station, admin: Actor, slt: Actor, tmp_path: Path, again: bool
) -> None:
    """Killed at every step of an export into an empty folder, and of one over an earlier
    export's files and manifest (a picture item queued since): a withdrawal made while the
    folder is as the crash left it reaches the folder, the next start takes out what the
    register does not show as exported there, and the next export writes the whole list."""
    privacy_world.school(station, admin, tmp_path)
    for n, fault in enumerate(KILL_POINTS):
        first = _picture_item(station, "A123", 40)
        text = queue.add_text(station, admin, "@Year5IJS", f"Cake sale on day {n}").id
        outdir = tmp_path / f"out-{n}"
        if again:  # the earlier export: the first item and the text post
            queue_export.export_queue(station, slt, outdir)
        second = _picture_item(station, "B456", 200)

        export = functools.partial(queue_export.export_queue, actor=SLT, outdir=outdir)
        run_killed(station, fault, export, tmp_path / "n")
        if again:  # never half a manifest: the earlier one or the new one
            assert set(_manifest_ids(outdir)) in ({first, text}, {first, text, second}), fault
        # Consent for the first photo is withdrawn while the folder is as the crash left it...
        queue.withdraw_item(station, slt, first, "a parent phoned")
        assert _item_files(outdir, first) == [], fault
        # ...and the next start tidies whatever the crash left half-done.
        open_station(str(station.paths.home), url=_url(station)).close()
        assert _strays(station, outdir) == [], fault
        assert not [name for name in _files(outdir) if ".incoming-" in name], fault

        report = queue_export.export_queue(station, slt, outdir)
        assert sorted(i.id for i in report.items) == sorted([second, text]), fault
        assert _files(outdir) == {
            "manifest.json",
            f"@Year5IJS/{second}.jpg",
            f"@Year5IJS/{second}.txt",
            f"@Year5IJS/{text}.txt",
        }, fault
        assert sorted(_manifest_ids(outdir)) == sorted([second, text]), fault
        for item in (second, text):  # posted: the next point starts with nothing waiting
            queue.mark_posted(station, slt, item)
        assert _files(outdir) == {"manifest.json"} and _manifest_ids(outdir) == []


@pytest.mark.parametrize("how", ["item", "consent", "reject"])
def test_a_withdrawal_racing_an_export_in_another_process_takes_its_files_back(
    school: tuple[Station, list[int]], slt: Actor, tmp_path: Path, how: str
) -> None:
    """The export pauses after its first file; the other station takes that item back then:
    withdrawn by SLT, its child's consent withdrawn by the parent, or its photo rejected."""
    station, (first, second, text) = school
    outdir, signals = tmp_path / "out", tmp_path / "signals"
    signals.mkdir()
    home, url = str(station.paths.home), _url(station)
    photo = queue.get_item(station, first).photo_id
    taking_back = {"item": "item", "consent": "consent:A123", "reject": f"reject:{photo}"}[how]

    withdrawal = _child("withdraw", home, url, str(first), str(signals), taking_back)
    deadline = time.monotonic() + 300  # the machine may be busy: only a hang fails this
    while not (signals / "opened").exists() and withdrawal.poll() is None:
        assert time.monotonic() < deadline, "the withdrawing station did not open"
        time.sleep(0.05)
    export = _child("export", home, url, str(outdir), f"pause:{signals}")
    _out, export_err = export.communicate(timeout=300)
    _out, withdraw_err = withdrawal.communicate(timeout=300)
    assert export.returncode == 0, export_err.decode()
    assert withdrawal.returncode == 0, withdraw_err.decode()

    assert queue.get_item(station, first).status is QueueStatus.WITHDRAWN
    assert _item_files(outdir, first) == []
    assert _manifest_ids(outdir) == [second, text]
    assert _strays(station, outdir) == []
    with station.read() as s:
        statuses = {row.id: row.status for row in s.execute(select(QueueItem.id, QueueItem.status))}
    assert statuses == {
        first: QueueStatus.WITHDRAWN,
        second: QueueStatus.EXPORTED,
        text: QueueStatus.EXPORTED,
    }


def test_a_rendering_changed_in_the_vault_is_not_exported(
    school: tuple[Station, list[int]], slt: Actor, tmp_path: Path
) -> None:
    """A queued picture replaced in the vault (a stranger's face pasted in) never reaches the
    folder: the export stops naming it, marks nothing exported and leaves none of its files."""
    station, (first, second, _text) = school
    item = queue.get_item(station, first)
    assert item.image_sha256 is not None
    path = station.vault.path_for(item.image_sha256)
    path.chmod(0o644)
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (250, 10, 10)).save(buffer, "JPEG", quality=80)
    path.write_bytes(buffer.getvalue())
    outdir = tmp_path / "out"
    with pytest.raises(ServiceError) as refused:
        queue_export.export_queue(station, slt, outdir)
    said = str(refused.value)
    assert said.startswith(f"The picture of queue item {first} in the vault") and "changed" in said
    assert "withdraw the item and clear the photo again" in said
    assert {queue.get_item(station, i).status for i in (first, second)} == {QueueStatus.QUEUED}
    assert not outdir.exists() or _files(outdir) <= {"manifest.json"}
    assert _manifest_ids(outdir) == []
