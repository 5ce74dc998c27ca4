"""Encryption at rest for biometric templates and scanned consent forms (AES-256-GCM).

A copy of the database or the vault alone must reveal no template and no form, so the key never
lives beside them: it is kept in the OS keyring when one is available, else in a key file
readable only by the user, in the user's configuration folder (not the data home). Each station
has its own key id (stored in its database, with the key's fingerprint); stations sharing a
PostgreSQL database must share the key file (see README). This module never decides to make a
key: `services.station` does, only for a new database (`station_key`).

Sealed blobs start with a magic prefix, so data written before encryption existed is recognised
and sealed on the next start (`services.station.seal_legacy_data`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import logging
import os
from pathlib import Path

import keyring
import platformdirs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from keyring.errors import KeyringError

from ijs_vetting.config import APP_AUTHOR, APP_NAME
from ijs_vetting.domain import ServiceError

log = logging.getLogger(__name__)

MAGIC = b"IJSE1"
_NONCE = 12
KEY_BYTES = 32
KEY_DIR_ENV = "IJS_VETTING_KEY_DIR"
_KEYRING_SERVICE = "ijs-vetting"


def is_sealed(blob: bytes) -> bool:
    return blob.startswith(MAGIC)


class Sealer:
    """Seals and opens blobs with one key; `purpose` binds a blob to what it is (a template
    cannot be swapped in where a form is expected)."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._key = key

    def subkey(self, purpose: bytes) -> bytes:
        """A key for another use of the station key (HKDF-SHA256), such as sealing records:
        one secret to back up, and no use can stand in for another."""
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(self._key)

    def seal(self, data: bytes, purpose: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return MAGIC + nonce + self._aead.encrypt(nonce, data, purpose)

    def open(self, blob: bytes, purpose: bytes) -> bytes:
        """The sealed data, or `SealBroken` when the blob is not what this key sealed for
        `purpose` (changed by even one bit, or not sealed at all: data from before encryption
        is sealed at start-up, so a plain blob now is one put in place of a sealed one)."""
        if not is_sealed(blob):
            raise SealBroken(f"a {purpose.decode()} is stored unsealed")
        start = len(MAGIC)
        nonce = blob[start : start + _NONCE]
        try:
            return self._aead.decrypt(nonce, blob[start + _NONCE :], purpose)
        except InvalidTag as exc:
            raise SealBroken(f"a sealed {purpose.decode()} fails its authentication check") from exc


class SealBroken(ServiceError):
    """A sealed blob was altered (or is not one): nothing in it may be used."""


def key_dir() -> Path:
    override = os.environ.get(KEY_DIR_ENV)
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR)) / "keys"


class KeyDamaged(ServiceError):
    """The key file (or keyring entry) is there but does not hold a 256-bit key."""


def fingerprint(key: bytes) -> str:
    """A short public name of a key (recorded in the database): it tells which key a station
    needs without revealing anything about the key itself."""
    return hashlib.sha256(b"ijs-vetting key fingerprint\0" + key).hexdigest()[:16]


def key_location(key_id: str) -> str:
    """Where the key `key_id` is kept, in words for the office's IT support."""
    path = key_dir() / f"{key_id}.key"
    if _usable_keyring():
        return f"the system keyring entry {_KEYRING_SERVICE}/{key_id}, or the key file {path}"
    return f"the key file {path}"


def read_key(key_id: str) -> bytes | None:
    """The station's 256-bit key from the keyring, else the key file; None when neither holds
    it. Never makes one: whether a new key may be made is the database's to say (a missing key
    must never be silently replaced while data sealed with it exists)."""
    stored = _from_keyring(key_id)
    if stored is not None:
        return _checked(stored, f"the keyring entry {_KEYRING_SERVICE}/{key_id}")
    path = key_dir() / f"{key_id}.key"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise KeyDamaged(f"The key file {path} cannot be read: {exc.strerror or exc}.") from exc
    return _checked(data, f"the key file {path}")


def _checked(encoded: bytes | str, where: str) -> bytes:
    try:
        key = base64.b64decode(encoded.strip(), validate=True)  # a copy may gain a newline
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyDamaged(f"The station's key in {where} is damaged (it is not a 256-bit key).")
    return key


def create_key(key_id: str) -> bytes:
    """Make and store a new key for `key_id` (a new station only); refuses to overwrite."""
    key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
    install_key(key_id, key)
    return key


def install_key(key_id: str, key: bytes) -> None:
    """Store `key` as the key of `key_id` (a new key, or one a backup brought back); refuses
    to overwrite a key file, so a station's key is never silently replaced."""
    if len(key) != KEY_BYTES:
        raise ValueError("a station key has 256 bits")
    if not _to_keyring(key_id, key):
        path = key_dir() / f"{key_id}.key"
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(base64.b64encode(key))
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            path.unlink(missing_ok=True)  # half a key is worse than none
            raise
        log.info("station key %s stored in %s", key_id, path)


def discard_key(key_id: str, key: bytes) -> None:
    """Remove a key `create_key` just made, when the station could not record it (another
    station recorded its own first): only if it is still that key."""
    if _from_keyring(key_id) == key:
        with contextlib.suppress(KeyringError):
            keyring.delete_password(_KEYRING_SERVICE, key_id)
        return
    path = key_dir() / f"{key_id}.key"
    with contextlib.suppress(OSError, ServiceError):
        if read_key(key_id) == key:
            path.unlink()


def _usable_keyring() -> bool:
    backend = keyring.get_keyring()
    return getattr(backend, "priority", 0) > 0 and "fail" not in type(backend).__module__


def _from_keyring(key_id: str) -> bytes | None:
    if not _usable_keyring():
        return None
    try:
        value = keyring.get_password(_KEYRING_SERVICE, key_id)
    except KeyringError:
        return None
    return base64.b64decode(value) if value else None


def _to_keyring(key_id: str, key: bytes) -> bool:
    if not _usable_keyring():
        return False
    try:
        keyring.set_password(_KEYRING_SERVICE, key_id, base64.b64encode(key).decode())
    except KeyringError:
        return False
    return True
