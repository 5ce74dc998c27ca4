"""Encryption at rest for biometric templates and scanned consent forms (AES-256-GCM).

A copy of the database or the vault alone must reveal no template and no form, so the key never
lives beside them: it is kept in the OS keyring when one is available, else in a key file
readable only by the user, in the user's configuration folder (not the data home). Each station
has its own key id (stored in its database); stations sharing a PostgreSQL database must share
the key file (see README).

Sealed blobs start with a magic prefix, so data written before encryption existed is recognised
and sealed on the next start (`services.station.seal_legacy_data`).
"""

from __future__ import annotations

import base64
import logging
import os
from pathlib import Path

import keyring
import platformdirs
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from keyring.errors import KeyringError

from ijs_vetting.config import APP_AUTHOR, APP_NAME

log = logging.getLogger(__name__)

MAGIC = b"IJSE1"
_NONCE = 12
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
        if not is_sealed(blob):
            return blob  # written before encryption: sealed at the next start
        start = len(MAGIC)
        nonce = blob[start : start + _NONCE]
        return self._aead.decrypt(nonce, blob[start + _NONCE :], purpose)


def key_dir() -> Path:
    override = os.environ.get(KEY_DIR_ENV)
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR)) / "keys"


def load_key(key_id: str) -> bytes:
    """The station's 256-bit key: from the keyring, else the key file; made on first use."""
    stored = _from_keyring(key_id)
    if stored is not None:
        return stored
    path = key_dir() / f"{key_id}.key"
    if path.exists():
        return base64.b64decode(path.read_bytes())
    key = AESGCM.generate_key(bit_length=256)
    if not _to_keyring(key_id, key):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(base64.b64encode(key))
        log.info("station key %s created in %s", key_id, path)
    return key


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
