"""Encryption at rest: keys outside the data home, and data from before encryption sealed."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete, select

from ijs_vetting.crypto import MAGIC, SealBroken, Sealer, create_key, key_dir, read_key
from ijs_vetting.db.models import Child, FaceTemplate, Form, Setting
from ijs_vetting.domain import ServiceError
from ijs_vetting.services.core import legacy_seals
from ijs_vetting.services.core.station import Station, open_station
from ijs_vetting.services.intake.vetting import open_encoding


def test_the_key_file_is_private_and_stable(tmp_path: Path) -> None:
    assert read_key("station-a") is None  # reading never makes a key
    key = create_key("station-a")
    assert len(key) == 32 and read_key("station-a") == key and create_key("station-b") != key
    path = key_dir() / "station-a.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not str(path).startswith(str(tmp_path / "home"))


def test_sealing_binds_the_purpose() -> None:
    sealer = Sealer(create_key("station-c"))
    blob = sealer.seal(b"a form", b"form")
    assert blob.startswith(MAGIC) and b"a form" not in blob
    assert sealer.open(blob, b"form") == b"a form"
    with pytest.raises(SealBroken, match="authentication"):
        sealer.open(blob, b"template")
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(SealBroken, match="authentication"):
        sealer.open(flipped, b"form")
    with pytest.raises(SealBroken, match="unsealed"):  # a plain blob put in a sealed one's place
        sealer.open(b"a form", b"form")


def _plain_template_and_form(station: Station) -> tuple[bytes, bytes, str, str]:
    """A template, a form and a reference photo stored in clear, as the first release did."""
    plain = np.arange(128, dtype=np.float64).tobytes()
    form_bytes = b"%PDF-1.4 a consent form from last year"
    sha = station.vault.put_bytes(form_bytes)  # as the first release stored them
    ref_sha = station.vault.put_bytes(b"\xff\xd8\xff reference photo")
    with station.sessions.begin() as s:
        child = Child(mis_id="X1", first_name="A", last_name="B", year_group=3, class_name="3A")
        s.add(child)
        s.flush()
        s.add(
            Form(
                sha256=sha,
                filename="f.pdf",
                media_type="application/pdf",
                size_bytes=len(form_bytes),
                child_id=child.id,
                uploaded_by="t",
            )
        )
        s.add(
            FaceTemplate(
                child_id=child.id,
                encoding=plain,
                reference_sha256=ref_sha,
                reference_name="X1.jpg",
                face_width=100.0,
                sharpness=100.0,
                created_by="t",
            )
        )
        s.execute(delete(Setting).where(Setting.key == "station.sealed"))
    return plain, form_bytes, sha, ref_sha


def test_data_stored_before_encryption_is_sealed_on_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'station.db'}"
    with monkeypatch.context() as before:  # a station from before encryption: its chain
        before.setattr(legacy_seals, "_record_sealing", lambda _session, _done: None)
        station = open_station(str(tmp_path / "home"), url=url)  # never said it sealed
    plain, form_bytes, sha, ref_sha = _plain_template_and_form(station)
    station.close()

    station = open_station(str(tmp_path / "home"), url=url)
    with station.read() as s:
        (template,) = s.scalars(select(FaceTemplate))
        (form,) = s.scalars(select(Form))
    assert template.encoding.startswith(MAGIC) and plain not in template.encoding
    assert station.sealer.open(template.encoding, b"template") == plain
    assert form.sha256 != sha and not station.vault.contains(sha)  # the plain copy is gone
    assert station.vault.read_sealed(form.sha256, b"form") == form_bytes
    assert station.vault.stored_bytes(template.reference_sha256).startswith(MAGIC)
    assert not station.vault.contains(ref_sha)
    station.close()
    files = [tmp_path / "station.db", tmp_path / "station.db-wal"]
    raw = b"".join(f.read_bytes() for f in files if f.exists())
    assert plain[8:64] not in raw  # zeroed on disk, not just superseded


def test_a_removed_marker_never_seals_a_planted_template(tmp_path: Path) -> None:
    """A template in clear put in the database beside a removed marker (a stranger's face,
    labelled as a child) was sealed by the next start as if it were from before encryption:
    the stranger would then be matched, and shown, as the child. It stays unusable now."""
    url = f"sqlite:///{tmp_path / 'station.db'}"
    open_station(str(tmp_path / "home"), url=url).close()  # sealing done, and said so
    station = open_station(str(tmp_path / "home"), url=url)
    plain, _form, _sha, _ref = _plain_template_and_form(station)
    station.close()

    station = open_station(str(tmp_path / "home"), url=url)
    try:
        with station.read() as s:
            (template,) = s.scalars(select(FaceTemplate))
            assert template.encoding == plain  # not blessed by the start
            assert s.get(Setting, "station.sealed") is None
        with pytest.raises(SealBroken, match="stored unsealed"):
            open_encoding(station, template.encoding)  # what every matching reads it with
    finally:
        station.close()


def test_a_reference_photo_that_is_also_an_imported_original_stays_readable(
    tmp_path: Path,
) -> None:
    """A sealed blob never takes the name of a plain original with the same bytes."""
    url = f"sqlite:///{tmp_path / 'station.db'}"
    station = open_station(str(tmp_path / "home"), url=url)
    photo = b"\xff\xd8\xff an iPad portrait"
    original = station.vault.put_bytes(photo)
    sealed = station.vault.put_sealed(photo, b"reference")
    assert sealed != original
    assert station.vault.read_bytes(original) == photo
    assert station.vault.read_sealed(sealed, b"reference") == photo
    station.close()
    station = open_station(str(tmp_path / "home"), url=url)  # start-up sealing leaves it alone
    assert station.vault.read_bytes(original) == photo
    station.close()


def test_a_database_from_before_fingerprints_keeps_its_key_and_never_gets_a_new_one(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'station.db'}"
    station = open_station(str(tmp_path / "home"), url=url)
    (key_file,) = key_dir().glob("*.key")
    with station.sessions.begin() as s:  # as a station of the previous release left it
        s.execute(delete(Setting).where(Setting.key == "station.key"))
    station.close()
    station = open_station(str(tmp_path / "home"), url=url)  # its key is found and recorded
    with station.read() as s:
        recorded = s.get(Setting, "station.key")
        assert recorded is not None
    station.close()
    with station.sessions.begin() as s:
        s.execute(delete(Setting).where(Setting.key == "station.key"))
    saved = key_file.read_bytes()
    key_file.unlink()
    with pytest.raises(ServiceError, match="sealed with a key that is missing"):
        open_station(str(tmp_path / "home"), url=url)
    assert list(key_dir().glob("*.key")) == []  # a used database never gets a new key
    key_file.write_bytes(saved)
    open_station(str(tmp_path / "home"), url=url).close()
