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

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class Vault:
    """A folder of immutable blobs named by their sha256."""

    def __init__(self, root: Path) -> None:
        self.root = root

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

    def put_file(self, source: Path) -> str:
        """Store a copy of `source` and return its sha256; the source is left untouched."""
        return self.put_bytes(source.read_bytes())

    def read_bytes(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

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
