"""The station key wrapped with a passphrase: the one form in which the key ever leaves a station.

A second station joins a register, and a backup restores onto a new PC, only with the key that
sealed the register's templates, forms and records. Copying the raw key file would put the
register's secret on a USB stick in clear, so the key travels wrapped: AES-256-GCM under a key
derived from a passphrase the admin types (Argon2id, memory-hard, so a stolen file cannot be
guessed at speed). The key id and fingerprint are bound into the authentication tag, so a file
cannot be relabelled as another station's key, and a wrong passphrase is told apart from a
damaged file only as far as the cipher allows (both fail the tag: one plain message).

The file is JSON so that IT support can see what it is without the passphrase.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ijs_vetting.crypto import KEY_BYTES, fingerprint
from ijs_vetting.domain import ServiceError

FORMAT = "ijs-vetting wrapped key"
VERSION = 1
MIN_PASSPHRASE = 10
PASSPHRASE_ENV = "IJS_VETTING_BACKUP_PASSPHRASE"

# Argon2id at 64 MiB and 3 passes: about half a second on an office PC, once per export or join.
_TIME_COST = 3
_MEMORY_KIB = 64 * 1024
_PARALLELISM = 1
_SALT = 16
_NONCE = 12


class WeakPassphrase(ServiceError):
    """A passphrase too short to protect the key on a USB stick."""


class KeyFileRefused(ServiceError):
    """Not a wrapped key, a damaged one, or the wrong passphrase (the cipher cannot tell these
    last two apart, and saying which would help a guesser)."""


@dataclass(frozen=True)
class UnwrappedKey:
    key_id: str
    key: bytes

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key)


def check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise WeakPassphrase(
            f"The passphrase must have at least {MIN_PASSPHRASE} characters "
            "(a few words are easier to type and harder to guess)."
        )


def wrap_key(key: bytes, key_id: str, passphrase: str) -> bytes:
    """The key as a wrapped key file's bytes; refuses a weak passphrase."""
    check_passphrase(passphrase)
    if len(key) != KEY_BYTES:
        raise ValueError("a station key has 256 bits")
    salt = os.urandom(_SALT)
    params = {"time_cost": _TIME_COST, "memory_kib": _MEMORY_KIB, "parallelism": _PARALLELISM}
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(_derive(passphrase, salt, params)).encrypt(
        nonce, key, _bound(key_id, fingerprint(key))
    )
    document = {
        "format": FORMAT,
        "version": VERSION,
        "key_id": key_id,
        "fingerprint": fingerprint(key),
        "kdf": {"name": "argon2id", **params, "salt": _b64(salt)},
        "nonce": _b64(nonce),
        "sealed_key": _b64(sealed),
    }
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def unwrap_key(data: bytes, passphrase: str) -> UnwrappedKey:
    """The key inside a wrapped key file; `KeyFileRefused` in plain words otherwise."""
    try:
        document = json.loads(data.decode("utf-8"))
        if document.get("format") != FORMAT:
            raise KeyFileRefused("This file is not a key exported by IJS Vetting.")
        if document.get("version") != VERSION:
            raise KeyFileRefused(
                f"This key file has version {document.get('version')}; this station reads "
                f"version {VERSION}. Update the station first."
            )
        kdf = document["kdf"]
        params = {name: int(kdf[name]) for name in ("time_cost", "memory_kib", "parallelism")}
        key_id = str(document["key_id"])
        recorded = str(document["fingerprint"])
        salt = _unb64(kdf["salt"])
        nonce = _unb64(document["nonce"])
        sealed = _unb64(document["sealed_key"])
    except KeyFileRefused:
        raise
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyFileRefused("This key file is damaged (it cannot be read as a key file).") from exc
    try:
        key = AESGCM(_derive(passphrase, salt, params)).decrypt(
            nonce, sealed, _bound(key_id, recorded)
        )
    except InvalidTag as exc:
        raise KeyFileRefused(
            "The passphrase is wrong, or the key file was changed since it was exported."
        ) from exc
    if len(key) != KEY_BYTES or fingerprint(key) != recorded:
        raise KeyFileRefused("This key file is damaged (the key does not match its fingerprint).")
    return UnwrappedKey(key_id=key_id, key=key)


def _derive(passphrase: str, salt: bytes, params: dict[str, int]) -> bytes:
    if not 1 <= params["time_cost"] <= 20 or not 8 <= params["memory_kib"] <= 4 * 1024 * 1024:
        raise KeyFileRefused("This key file asks for key-derivation settings out of range.")
    return hash_secret_raw(
        passphrase.encode("utf-8"),
        salt,
        time_cost=params["time_cost"],
        memory_cost=params["memory_kib"],
        parallelism=params["parallelism"],
        hash_len=KEY_BYTES,
        type=Type.ID,
    )


def _bound(key_id: str, key_fingerprint: str) -> bytes:
    return f"{FORMAT} v{VERSION}\0{key_id}\0{key_fingerprint}".encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError("not base64 text") from exc
