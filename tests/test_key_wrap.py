"""The wrapped key file: the key comes back only with its passphrase, and a file changed in any
field (the key's label included) is refused in words."""

from __future__ import annotations

import json
import os

import pytest

from ijs_vetting.crypto import fingerprint
from ijs_vetting.key_wrap import KeyFileRefused, WeakPassphrase, unwrap_key, wrap_key

PASSPHRASE = "correct horse battery"


def test_the_key_comes_back_with_its_passphrase_and_never_in_clear() -> None:
    key = os.urandom(32)
    data = wrap_key(key, "station-1", PASSPHRASE)
    assert key not in data and key.hex().encode() not in data
    back = unwrap_key(data, PASSPHRASE)
    assert (back.key, back.key_id, back.fingerprint) == (key, "station-1", fingerprint(key))


def test_a_wrong_passphrase_is_refused() -> None:
    data = wrap_key(os.urandom(32), "station-1", PASSPHRASE)
    with pytest.raises(KeyFileRefused, match="passphrase is wrong"):
        unwrap_key(data, PASSPHRASE + "!")


def test_a_relabelled_or_changed_file_is_refused() -> None:
    data = wrap_key(os.urandom(32), "station-1", PASSPHRASE)
    relabelled = json.loads(data)
    relabelled["key_id"] = "station-2"
    with pytest.raises(KeyFileRefused):
        unwrap_key(json.dumps(relabelled).encode(), PASSPHRASE)
    flipped = json.loads(data)
    sealed = bytearray(flipped["sealed_key"].encode())
    sealed[3] = ord("A") if sealed[3] != ord("A") else ord("B")
    flipped["sealed_key"] = sealed.decode()
    with pytest.raises(KeyFileRefused):
        unwrap_key(json.dumps(flipped).encode(), PASSPHRASE)


@pytest.mark.parametrize(
    "data", [b"", b"\xff\xfe", b"{}", b'{"format": "ijs-vetting wrapped key"}']
)
def test_what_is_not_a_key_file_is_named_so(data: bytes) -> None:
    with pytest.raises(KeyFileRefused):
        unwrap_key(data, PASSPHRASE)


def test_a_short_passphrase_is_refused_before_anything_is_written() -> None:
    with pytest.raises(WeakPassphrase):
        wrap_key(os.urandom(32), "station-1", "short")
