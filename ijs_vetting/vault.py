"""Content-addressed file store for originals and scanned forms.

A file is stored once under its sha256 (`ab/cdef...`), written to a temporary name and renamed
into place so a crash never leaves half a file under a real name, and made read-only: the
station never edits an original, it only renders new files from it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from ijs_vetting.crypto import Sealer

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sealed_key(data: bytes, purpose: bytes) -> str:
    """The vault name of a sealed blob: bound to its purpose, distinct from any plain file."""
    return hashlib.sha256(b"ijs-sealed\0" + purpose + b"\0" + data).hexdigest()


class Vault:
    """A folder of immutable blobs named by their sha256 (of the plain content).

    Originals and renderings are stored as they are (worker processes read them by path);
    forms and reference photos are sealed with the station's key (`put_sealed`).
    """

    def __init__(self, root: Path, sealer: Sealer | None = None) -> None:
        self.root = root
        self.sealer = sealer

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    def contains(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put_bytes(self, data: bytes) -> str:
        """Store `data` (if not already there) and return its sha256."""
        sha = hashlib.sha256(data).hexdigest()
        if not self.contains(sha):
            self._write(sha, data)
        return sha

    def put_sealed(self, data: bytes, purpose: bytes) -> str:
        """Store `data` encrypted (forms, reference photos) and return its key.

        The key is a hash of the purpose and the content, never the content's own sha256: a
        sealed blob must not share a name with a plain original of the same bytes (an iPad
        photo that is also a child's reference picture).
        """
        if self.sealer is None:
            raise RuntimeError("this vault has no key to seal with")
        key = sealed_key(data, purpose)
        if not self.contains(key):
            self._write(key, self.sealer.seal(data, purpose))
        return key

    def read_bytes(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

    def read_sealed(self, key: str, purpose: bytes) -> bytes:
        if self.sealer is None:
            raise RuntimeError("this vault has no key to open sealed files with")
        return self.sealer.open(self.read_bytes(key), purpose)

    def remove(self, key: str) -> bool:
        """Delete a stored file (read-only, so it is made writable first: Windows refuses to
        delete a read-only file). False if there was none."""
        path = self.path_for(key)
        if not path.is_file():
            return False
        path.chmod(0o644)
        path.unlink()
        return True

    def _write(self, sha: str, data: bytes) -> None:
        target = self.path_for(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
