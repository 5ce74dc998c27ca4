"""Import reads only regular photo files inside the folder, of a sane size and pixel count, and
says in words why anything else was left out."""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from ijs_vetting.cli import main
from ijs_vetting.db.models import Photo
from ijs_vetting.domain import PhotoStatus
from ijs_vetting.imaging.decode import MAX_PIXELS, ImageDecodeError, decode_image, upright_size
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import importing
from ijs_vetting.vault import MARKER


def _import(station: Station, actor: Actor, folder: Path) -> importing.ImportReport:
    """Import in a thread, so an import that hangs (a pipe read forever) fails the test."""
    result: list[importing.ImportReport] = []
    worker = threading.Thread(
        target=lambda: result.append(importing.import_folder(station, actor, folder, workers=1)),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "the import hung"
    return result[0]


def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares `width` x `height` in a few dozen bytes (what a compressed 169 MP
    picture of one colour looks like to a decoder before it decodes)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _stored(station: Station) -> list[tuple[str, PhotoStatus, str | None]]:
    with station.read() as s:
        return [
            (p.filename, p.status, p.status_note)
            for p in s.scalars(select(Photo).order_by(Photo.filename))
        ]


def _vault_files(station: Station) -> list[Path]:
    """Stored files (the folder's marker naming its register is not one)."""
    return [p for p in station.vault.root.rglob("*") if p.is_file() and p.name != MARKER]


def test_links_pipes_and_devices_are_refused_by_name(
    station: Station, staff: Actor, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "IMG_9999.JPG").write_bytes(b"not here")
    folder = tmp_path / "DCIM"
    (folder / "100APPLE").mkdir(parents=True)
    (folder / "passwd.jpg").symlink_to(secret)
    (folder / "zero.jpg").symlink_to("/dev/zero")
    os.mkfifo(folder / "100APPLE" / "pipe.jpg")
    (folder / "linked").symlink_to(elsewhere, target_is_directory=True)

    report = _import(station, staff, folder)

    reasons = dict(report.failed)
    assert set(reasons) == {"passwd.jpg", "zero.jpg", "pipe.jpg"}
    assert "a link" in reasons["passwd.jpg"] and "a link" in reasons["zero.jpg"]
    assert "pipe, device or socket" in reasons["pipe.jpg"]
    assert report.skipped_folders == [("linked", "a link to a folder elsewhere: not followed")]
    assert report.as_json()["skipped_folders"] == [
        {"folder": "linked", "reason": "a link to a folder elsewhere: not followed"}
    ]
    assert (report.imported, _stored(station), _vault_files(station)) == (0, [], [])


_WITHOUT_ROOT_POWERS = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
_SCAN = """
import json, sys
from pathlib import Path
from ijs_vetting.services.intake.importing import walk_photos
print(json.dumps(walk_photos(Path(sys.argv[1])).skipped_folders))
"""


def _skipped_folders(station: Station, staff: Actor, folder: Path) -> list[tuple[str, str]]:
    """What the import reports of sub-folders it cannot read. Root reads every folder
    whatever its mode, so as root the folder is walked by a process without that power
    (its capabilities to override permissions dropped), as an office login would."""
    if os.geteuid() != 0:
        return list(_import(station, staff, folder).skipped_folders)
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: every folder is readable")
    done = subprocess.run(
        [*_WITHOUT_ROOT_POWERS, sys.executable, "-c", _SCAN, str(folder)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 0, done.stderr
    return [(name, reason) for name, reason in json.loads(done.stdout)]


def test_an_unreadable_sub_folder_is_reported_by_name(
    station: Station, staff: Actor, tmp_path: Path
) -> None:
    folder = tmp_path / "DCIM"
    locked = folder / "101APPLE"
    locked.mkdir(parents=True)
    locked.chmod(0)
    try:
        skipped = _skipped_folders(station, staff, folder)
    finally:
        locked.chmod(0o755)
    assert [name for name, _ in skipped] == ["101APPLE"]
    assert "cannot be read" in skipped[0][1]


def test_a_file_too_big_for_a_photo_is_refused_unread(
    station: Station, staff: Actor, tmp_path: Path
) -> None:
    folder = tmp_path / "DCIM"
    folder.mkdir()
    with (folder / "IMG_0001.JPG").open("wb") as huge:  # sparse: costs the disk nothing
        huge.truncate(importing.MAX_PHOTO_BYTES + 1)
    report = _import(station, staff, folder)
    ((name, reason),) = report.failed
    assert name == "IMG_0001.JPG" and "more than any photo" in reason
    assert (_stored(station), _vault_files(station)) == ([], [])


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_picture_of_too_many_pixels_is_refused_before_decoding(
    station: Station, staff: Actor, tmp_path: Path
) -> None:
    bomb = _png_header(13_000, 13_000)  # 169 MP in well under a kilobyte
    with pytest.raises(ImageDecodeError, match="169 MP"):
        decode_image(bomb)
    with pytest.raises(ImageDecodeError, match="169 MP"):
        upright_size(bomb)
    assert MAX_PIXELS >= 48_000_000  # the newest iPads' and iPhones' largest photos pass

    folder = tmp_path / "DCIM"
    folder.mkdir()
    (folder / "IMG_0002.PNG").write_bytes(bomb)
    report = _import(station, staff, folder)
    ((name, reason),) = report.failed
    assert name == "IMG_0002.PNG" and "169 MP" in reason
    ((stored, status, note),) = _stored(station)
    assert (stored, status) == ("IMG_0002.PNG", PhotoStatus.FAILED) and note == reason


def test_reasons_are_words_and_names_with_newlines_keep_the_table(
    station: Station,
    staff: Actor,
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "DCIM"
    folder.mkdir()
    (folder / "notes.jpg").write_text("this is not a photo")
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    (folder / "two\nlines.png").write_bytes(png.getvalue()[:40])  # cut short
    report = _import(station, staff, folder)
    reasons = dict(report.failed)
    assert "not a JPEG, PNG or HEIC" in reasons["notes.jpg"]
    assert all(
        "<_io." not in reason and "object at 0x" not in reason for reason in reasons.values()
    )

    monkeypatch.setenv("IJS_VETTING_DB", db_url)
    capsys.readouterr()
    code = main(["--home", str(station.paths.home), "photos", "list"])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 3, out  # the header and one line per photo
    assert any("two\\nlines.png" in line for line in lines)
