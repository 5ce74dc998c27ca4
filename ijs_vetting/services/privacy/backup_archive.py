"""The backup archive: one zip file with a manifest of every file's SHA-256, authenticated.

Layout: `manifest.json` (what the archive holds and each file's hash and size), `manifest.mac`
(an HMAC of the manifest under a key derived from the station key), `database/station.db` (the
register as one SQLite file), `vault/ab/cdef…` (the vault files the register names, stored as
they are: originals plain, forms and reference photos still sealed), `key/station-key.json`
(the key wrapped with the backup passphrase, see `ijs_vetting.key_wrap`) and `audit/anchor.json`.

Why a MAC as well as hashes: a hash list catches a damaged disk or a flipped byte, but whoever
edits a file can edit its hash too. The MAC can only be made with the station key, which the
archive holds only under the passphrase, so a restore knows the archive is the one the station
wrote before anything in it is used.

The archive is written under a temporary name beside its destination and renamed into place
once complete and flushed to disk, so a cut-off backup never looks like a good one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
import zipfile
import zlib
from pathlib import Path
from types import TracebackType
from typing import Any

from ijs_vetting.crypto import Sealer
from ijs_vetting.domain import ServiceError

FORMAT = "ijs-vetting backup"
VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_MAC = "manifest.mac"
DATABASE = "database/station.db"
WRAPPED_KEY = "key/station-key.json"
ANCHOR = "audit/anchor.json"
VAULT = "vault/"
_MAC_PURPOSE = b"ijs-vetting backup manifest v1"
_CHUNK = 1 << 20


class ArchiveRefused(ServiceError):
    """Not a backup, a damaged one, or one this station cannot read; nothing was restored."""


def vault_name(key: str) -> str:
    return f"{VAULT}{key[:2]}/{key[2:]}"


def manifest_mac(manifest: bytes, sealer: Sealer) -> str:
    return hmac.new(sealer.subkey(_MAC_PURPOSE), manifest, hashlib.sha256).hexdigest()


class ArchiveWriter:
    """Write an archive to `path` atomically; `close` with the manifest to finish it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
        os.close(fd)
        self._tmp = Path(tmp)
        self._zip = zipfile.ZipFile(self._tmp, "w", allowZip64=True)
        self.files: dict[str, dict[str, Any]] = {}

    def add_bytes(self, name: str, data: bytes, *, compress: bool = False) -> None:
        method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        self._zip.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), data, method)
        self.files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}

    def add_file(self, name: str, path: Path, *, compress: bool = False) -> None:
        """A file streamed in (the database may be larger than memory should hold)."""
        info = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        digest, size = hashlib.sha256(), 0
        with path.open("rb") as src, self._zip.open(info, "w", force_zip64=True) as dst:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                dst.write(chunk)
        self.files[name] = {"sha256": digest.hexdigest(), "size": size}

    def finish(self, manifest: dict[str, Any], sealer: Sealer) -> str:
        """Write the manifest and its MAC, flush, and rename into place; the archive's SHA-256."""
        body = json.dumps(
            {"format": FORMAT, "version": VERSION, **manifest, "files": self.files},
            indent=2,
            sort_keys=True,
        ).encode("utf-8")
        self._zip.writestr(MANIFEST, body, zipfile.ZIP_DEFLATED)
        self._zip.writestr(MANIFEST_MAC, manifest_mac(body, sealer))
        self._zip.close()
        digest = hashlib.sha256()
        with self._tmp.open("rb+") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
            os.fsync(handle.fileno())
        os.replace(self._tmp, self.path)
        return digest.hexdigest()

    def discard(self) -> None:
        self._zip.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is not None or self._tmp.exists():
            self.discard()


class ArchiveReader:
    """An archive opened for restoring: every read is checked against the manifest."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._zip = zipfile.ZipFile(path)
            self.manifest_bytes = self._zip.read(MANIFEST)
            self.mac = self._zip.read(MANIFEST_MAC).decode("ascii").strip()
            manifest = json.loads(self.manifest_bytes)
        except FileNotFoundError as exc:
            raise ArchiveRefused(f"There is no backup archive {path}.") from exc
        except (OSError, zipfile.BadZipFile, zlib.error, KeyError, ValueError) as exc:
            raise self.damaged(f"it cannot be read as a backup archive: {exc}") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ArchiveRefused(f"{path} is not a backup made by IJS Vetting.")
        if manifest.get("version") != VERSION:
            raise ArchiveRefused(
                f"{path} is a version {manifest.get('version')} backup; this station reads "
                f"version {VERSION}. Update the station first."
            )
        self.manifest: dict[str, Any] = manifest
        self.files: dict[str, dict[str, Any]] = manifest["files"]
        extra = set(self._zip.namelist()) - set(self.files) - {MANIFEST, MANIFEST_MAC}
        if extra:
            raise self.damaged(f"it holds files its manifest does not list ({sorted(extra)[0]})")

    def damaged(self, why: str) -> ArchiveRefused:
        return ArchiveRefused(
            f"The backup archive {self.path} is damaged ({why}); nothing was restored."
        )

    def check_mac(self, sealer: Sealer) -> None:
        if not hmac.compare_digest(self.mac, manifest_mac(self.manifest_bytes, sealer)):
            raise self.damaged("its manifest does not match the key's seal: it was changed")

    def read(self, name: str) -> bytes:
        """A file's bytes, refused unless they match the manifest's SHA-256."""
        listed = self.files.get(name)
        if listed is None:
            raise self.damaged(f"{name} is missing")
        try:
            data = self._zip.read(name)
        except (OSError, zipfile.BadZipFile, zlib.error, KeyError) as exc:
            raise self.damaged(f"{name} cannot be read: {exc}") from exc
        if hashlib.sha256(data).hexdigest() != listed["sha256"]:
            raise self.damaged(f"{name} does not match its SHA-256 in the manifest")
        return data

    def extract(self, name: str, target: Path) -> None:
        """Stream a (large) file to `target`, refused unless it matches its SHA-256."""
        listed = self.files.get(name)
        if listed is None:
            raise self.damaged(f"{name} is missing")
        digest = hashlib.sha256()
        try:
            with self._zip.open(name) as src, target.open("wb") as dst:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    dst.write(chunk)
        except (zipfile.BadZipFile, zlib.error, KeyError) as exc:
            raise self.damaged(f"{name} cannot be read: {exc}") from exc
        if digest.hexdigest() != listed["sha256"]:
            raise self.damaged(f"{name} does not match its SHA-256 in the manifest")

    def vault_keys(self) -> list[str]:
        return sorted(
            name[len(VAULT) :].replace("/", "") for name in self.files if name.startswith(VAULT)
        )

    def close(self) -> None:
        self._zip.close()
