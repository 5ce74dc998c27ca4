"""`station join` and `station show`: a new PC joins a register on PostgreSQL with a key file,
and nothing is written on it until the database, the key file and the vault are all the
register's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from ijs_vetting.cli import main
from ijs_vetting.crypto import read_key
from ijs_vetting.db.models import AuditEntry, Setting
from ijs_vetting.key_wrap import wrap_key
from ijs_vetting.services.core.station_key import STATION_ID
from ijs_vetting.vault import write_marker
from tests.conftest import TEST_PASSWORD

PASSPHRASE = "seven green apples on a wall"


@pytest.fixture
def register(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> dict[str, Any]:
    """The office station: a register on PostgreSQL with a shared vault, and its key exported."""
    monkeypatch.setenv("IJS_VETTING_DB", postgres_url)
    monkeypatch.setenv("IJS_VETTING_KEY_DIR", str(tmp_path / "office-keys"))
    vault = tmp_path / "share" / "ijs-vault"
    office = tmp_path / "office"
    assert (
        main(
            [
                "--home",
                str(office),
                "--vault",
                str(vault),
                "init",
                "--admin",
                "office-admin",
                "--name",
                "OFFICE",
                "--json",
            ]
        )
        == 0
    )
    init = json.loads(capsys.readouterr().out)
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        register_id = str(
            conn.execute(select(Setting.value).where(Setting.key == STATION_ID)).scalar_one()["id"]
        )
    engine.dispose()
    key = read_key(register_id)
    assert key is not None
    key_file = tmp_path / "usb" / "ijs.key"
    key_file.parent.mkdir()
    key_file.write_bytes(wrap_key(key, register_id, PASSPHRASE))
    # The new PC has a key folder of its own.
    monkeypatch.setenv("IJS_VETTING_KEY_DIR", str(tmp_path / "head-keys"))
    monkeypatch.setenv("IJS_VETTING_BACKUP_PASSPHRASE", PASSPHRASE)
    return {
        "url": postgres_url,
        "vault": vault,
        "id": register_id,
        "key": key,
        "key_file": key_file,
        "fingerprint": init["key_fingerprint"],
        "home": tmp_path / "head",
    }


def _join(capsys: Any, home: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--home", str(home), *args])
    out, err = capsys.readouterr()
    return code, out, err


def _join_command(register: dict[str, Any]) -> list[str]:
    """`station join` of the register's shared vault with its key file, as the PC "HEAD"."""
    vault, key_file = str(register["vault"]), str(register["key_file"])
    return ["--vault", vault, "station", "join", "--key-file", key_file, "--name", "HEAD"]


def _nothing_written(register: dict[str, Any]) -> None:
    assert read_key(register["id"]) is None
    assert not (register["home"] / "station.json").exists()


@pytest.mark.postgres
def test_a_new_pc_joins_with_the_key_file_and_signs_its_audit_entries(
    register: dict[str, Any], capsys: Any
) -> None:
    home = register["home"]
    code, out, err = _join(
        capsys,
        home,
        "--vault",
        str(register["vault"]),
        "station",
        "join",
        "--key-file",
        str(register["key_file"]),
        "--name",
        "HEAD-OFFICE",
        "--json",
    )
    assert code == 0, err
    joined = json.loads(out)
    assert joined["name"] == "HEAD-OFFICE" and joined["register"] == register["id"]
    assert joined["key_fingerprint"] == register["fingerprint"]
    assert joined["vault"] == str(register["vault"])
    assert read_key(register["id"]) == register["key"]
    # The next start needs no flags: the name and the vault are the station's settings.
    code, out, err = _join(capsys, home, "station", "show", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["vault"] == str(register["vault"]) and shown["vault_problem"] is None
    code, _out, err = _join(
        capsys, home, "devices", "add", "Head's iPad", "--make", "Apple", "--model", "iPad Air"
    )
    assert code == 0, err
    engine = create_engine(register["url"])
    with engine.connect() as conn:
        rows = conn.execute(
            select(AuditEntry.action, AuditEntry.station).order_by(AuditEntry.id)
        ).all()
    engine.dispose()
    assert ("station.join", "HEAD-OFFICE") in rows and ("device.add", "HEAD-OFFICE") in rows
    assert any(station == "OFFICE" for _action, station in rows)  # the first admin, made there
    code, _out, err = _join(capsys, home, "audit", "verify")
    assert code == 0, err


@pytest.mark.postgres
def test_another_registers_key_file_is_refused_before_anything_is_written(
    register: dict[str, Any], capsys: Any, tmp_path: Path
) -> None:
    other = tmp_path / "other.key"
    other.write_bytes(wrap_key(bytes(32), "f" * 32, PASSPHRASE))
    code, _out, err = _join(
        capsys,
        register["home"],
        "--vault",
        str(register["vault"]),
        "station",
        "join",
        "--key-file",
        str(other),
        "--name",
        "HEAD-OFFICE",
    )
    assert code == 1 and err.count("\n") == 1
    assert "export the key from a station of this register" in err
    _nothing_written(register)


@pytest.mark.postgres
def test_a_wrong_passphrase_or_vault_is_refused_before_anything_is_written(
    register: dict[str, Any], capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    join = ["station", "join", "--key-file", str(register["key_file"]), "--name", "HEAD"]
    monkeypatch.setenv("IJS_VETTING_BACKUP_PASSPHRASE", "not the passphrase at all")
    code, _out, err = _join(capsys, register["home"], "--vault", str(register["vault"]), *join)
    assert code == 1 and "passphrase is wrong" in err
    _nothing_written(register)
    monkeypatch.setenv("IJS_VETTING_BACKUP_PASSPHRASE", PASSPHRASE)
    code, _out, err = _join(capsys, register["home"], *join)  # its own empty vault
    assert code == 1 and "vault cannot be found" in err
    _nothing_written(register)
    elsewhere = tmp_path / "other-school-vault"
    write_marker(elsewhere, "another-register")
    code, _out, err = _join(capsys, register["home"], "--vault", str(elsewhere), *join)
    assert code == 1 and "another register" in err
    _nothing_written(register)


@pytest.mark.postgres
def test_a_failed_admin_login_leaves_the_pc_unjoined_and_is_audited_in_the_register(
    register: dict[str, Any], capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    join = _join_command(register)
    monkeypatch.setenv("IJS_VETTING_PASSWORD", "not the admin's password")
    code, _out, err = _join(capsys, register["home"], *join)
    assert code == 1 and err.count("\n") == 1
    assert "wrong password" in err and "Nothing was written on this PC" in err
    _nothing_written(register)
    engine = create_engine(register["url"])
    with engine.connect() as conn:
        failed = conn.execute(
            select(AuditEntry.station).where(AuditEntry.action == "login.failed")
        ).all()
    engine.dispose()
    assert failed == [("HEAD",)]  # counted against the account like any failed login
    # With the right password the same PC joins, and the join is audited.
    monkeypatch.setenv("IJS_VETTING_PASSWORD", TEST_PASSWORD)
    code, _out, err = _join(capsys, register["home"], *join)
    assert code == 0, err
    assert read_key(register["id"]) == register["key"]


@pytest.mark.postgres
def test_only_an_admin_may_join_a_pc(
    register: dict[str, Any], capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IJS_VETTING_KEY_DIR", str(tmp_path / "office-keys"))
    code, _out, err = _join(
        capsys, tmp_path / "office", "users", "add", "teacher", "--role", "staff"
    )
    assert code == 0, err
    monkeypatch.setenv("IJS_VETTING_KEY_DIR", str(tmp_path / "head-keys"))
    monkeypatch.setenv("IJS_VETTING_USER", "teacher")
    code, _out, err = _join(capsys, register["home"], *_join_command(register))
    assert code == 1 and err.count("\n") == 1 and "Only an admin can join a station" in err
    _nothing_written(register)


def test_join_needs_the_shared_database(tmp_path: Path, capsys: Any) -> None:
    key_file = tmp_path / "ijs.key"
    key_file.write_bytes(wrap_key(bytes(32), "f" * 32, PASSPHRASE))
    code, _out, err = _join(
        capsys, tmp_path / "head", "station", "join", "--key-file", str(key_file), "--name", "H"
    )
    assert code == 1 and "IJS_VETTING_DB" in err
    assert not (tmp_path / "head" / "station.json").exists()


def test_a_station_looking_at_the_wrong_vault_refuses_to_vet_in_one_line(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IJS_VETTING_DB", f"sqlite:///{tmp_path / 'register.db'}")
    assert main(["--home", str(tmp_path / "office"), "init", "--admin", "office-admin"]) == 0
    capsys.readouterr()
    code, _out, err = _join(capsys, tmp_path / "laptop", "photos", "vet", "--workers", "1")
    assert code == 1 and err.count("\n") == 1
    assert "cannot vet, clear or export" in err and str(tmp_path / "laptop" / "vault") in err
    code, out, err = _join(capsys, tmp_path / "laptop", "station", "show", "--json")
    assert code == 0 and "not this register's vault" in json.loads(out)["vault_problem"]


def test_init_keeps_the_stations_name_and_refuses_one_too_long(tmp_path: Path, capsys: Any) -> None:
    home = tmp_path / "office"
    code, _out, err = _join(capsys, home, "init", "--name", "X" * 65)
    assert code == 1 and "1 to 64 characters" in err
    code, out, err = _join(capsys, home, "init", "--name", "OFFICE", "--json")
    assert code == 0 and json.loads(out)["station"] == "OFFICE"
    code, out, err = _join(capsys, home, "station", "show", "--json")
    assert json.loads(out)["name"] == "OFFICE"
