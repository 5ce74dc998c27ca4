"""Content-addressed file store for originals and scanned forms.

A file is stored once under its sha256 (`ab/cdef...`), written to a temporary name and renamed
into place so a crash never leaves half a file under a real name, and made read-only: the
station never edits an original, it only renders new files from it.

Every read checks what it reads: a plain file must still hash to its name, a sealed one must pass
its AES-GCM authentication tag. A vault file replaced with other bytes (a stranger's face pasted
into a consented child's photo) is refused with `VaultFileAltered`, never rendered or queued; a
file deleted outside the station is `VaultFileMissing`, and storing the same bytes again (the
import does, for a duplicate) puts it back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

from ijs_vetting.crypto import SealBroken, Sealer
from ijs_vetting.domain import ServiceError

CHUNK = 1 << 20
MARKER = ".ijs-vetting-vault"  # at the vault's root: {"register": the register's id}
RESTORE_HINT = "importing the same file again restores it"  # for a photo's original


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class VaultFileMissing(ServiceError):
    """A file the register names is not in the vault (deleted or moved outside the station)."""


class VaultFileAltered(ServiceError):
    """A vault file no longer holds what was stored under its name."""


class VaultUnavailable(ServiceError):
    """The station's vault folder is missing or is another register's: no photo can be vetted,
    cleared or exported here until it is put right (the photos themselves are not at fault)."""


def read_marker(root: Path) -> str | None:
    """The register id a vault folder's marker names; None when there is no readable marker."""
    try:
        data = json.loads((root / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    register = data.get("register") if isinstance(data, dict) else None
    return str(register) if register else None


def write_marker(root: Path, register: str) -> None:
    """Claim a vault folder for a register (made if need be), atomically."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f"{MARKER}.{os.getpid()}.tmp"
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump({"register": register}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, root / MARKER)
    _sync_folder(root)


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX; Windows has no directory handles to sync)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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
        self.register: str | None = None  # the register whose marker this vault must hold

    def attach(self, register: str, *, claim: bool) -> None:
        """Check that this folder is `register`'s vault, claiming it (writing the marker) when
        `claim` (the register has no vault yet). A folder that is missing, unmarked or another
        register's has a `fault`: the station still opens (the register can be kept), but
        every use of the vault is refused with that one line."""
        self.register = register
        if claim and read_marker(self.root) is None:
            write_marker(self.root, register)

    @property
    def fault(self) -> str | None:
        """Why this vault cannot be used, looked at now (a share that has come back is usable
        again at once); None when it can."""
        if self.register is None:
            return None
        found = read_marker(self.root)
        if found == self.register:
            return None
        fix = (
            "point this station at the register's vault (--vault DIR, IJS_VETTING_VAULT or the "
            "station's setting, see `ijs-vetting station show`); no photo was changed"
        )
        if not self.root.is_dir():
            return f"The vault folder {self.root} cannot be found (is the share connected?): {fix}."
        if found is None:
            return (
                f"The folder {self.root} is not this register's vault (it has no {MARKER}): {fix}."
            )
        return f"The folder {self.root} is the vault of another register ({found}): {fix}."

    def require(self) -> None:
        """Refuse, in one line, when the vault cannot be used."""
        fault = self.fault
        if fault is not None:
            raise VaultUnavailable(f"This station cannot vet, clear or export photos now. {fault}")

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    def contains(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def index(self) -> StoredIndex:
        """Which originals and blobs are stored, for a listing of many photos."""
        return StoredIndex(self.root)

    def put_bytes(self, data: bytes) -> str:
        """Store `data` (unless it is there intact) and return its sha256."""
        sha = hashlib.sha256(data).hexdigest()
        self.restore(data)
        return sha

    def restore(self, data: bytes) -> bool:
        """Put `data` back under its sha256 if that file is missing or altered; True if it was
        (re-importing a photo whose original went missing heals the vault)."""
        sha = hashlib.sha256(data).hexdigest()
        try:
            self.check(sha)
        except (VaultFileMissing, VaultFileAltered):
            self._write(sha, data)
            return True
        return False

    def put_sealed(self, data: bytes, purpose: bytes) -> str:
        """Store `data` encrypted (forms, reference photos) and return its key.

        The key is a hash of the purpose and the content, never the content's own sha256: a
        sealed blob must not share a name with a plain original of the same bytes (an iPad
        photo that is also a child's reference picture). A stored blob that no longer opens is
        replaced.
        """
        if self.sealer is None:
            raise RuntimeError("this vault has no key to seal with")
        key = sealed_key(data, purpose)
        try:
            self.read_sealed(key, purpose)
        except (VaultFileMissing, VaultFileAltered):
            self._write(key, self.sealer.seal(data, purpose))
        return key

    def put_stored(self, key: str, data: bytes) -> bool:
        """Put a file back exactly as it was stored (plain or sealed) under its vault name,
        unless that file is already there with these bytes: a restore from a backup, whose
        archive checked every file's hash. True if it was written."""
        path = self.path_for(key)
        if path.is_file() and path.read_bytes() == data:
            return False
        self._write(key, data)
        return True

    def check(self, sha256: str, what: str = "the file") -> Path:
        """The path of an intact plain file, for readers that open it by path (the worker
        processes, rendering); `what` names it in the refusal."""
        path = self.path_for(sha256)
        try:
            actual = sha256_file(path)
        except FileNotFoundError as exc:
            raise self._missing(sha256, what) from exc
        if actual != sha256:
            raise self._altered(sha256, what)
        return path

    def read_bytes(self, sha256: str, what: str = "the file") -> bytes:
        """A plain file's content, checked against its name."""
        data = self.stored_bytes(sha256, what)
        if hashlib.sha256(data).hexdigest() != sha256:
            raise self._altered(sha256, what)
        return data

    def read_sealed(self, key: str, purpose: bytes, what: str = "the sealed file") -> bytes:
        """A sealed file's content, checked by its authentication tag."""
        if self.sealer is None:
            raise RuntimeError("this vault has no key to open sealed files with")
        try:
            return self.sealer.open(self.stored_bytes(key, what), purpose)
        except SealBroken as exc:
            raise self._altered(key, what) from exc

    def stored_bytes(self, key: str, what: str = "the file") -> bytes:
        """A file as stored, unchecked: only for code that must look at a blob to know what it
        is (the start-up sealing of data from before encryption)."""
        try:
            return self.path_for(key).read_bytes()
        except FileNotFoundError as exc:
            raise self._missing(key, what) from exc

    def _missing(self, key: str, what: str) -> VaultFileMissing:
        self.require()  # the whole vault gone is not this file's fault
        return VaultFileMissing(
            f"{what} is missing from the vault (there is no {self.path_for(key)}): it was "
            "deleted or moved outside the station"
        )

    def _altered(self, key: str, what: str) -> VaultFileAltered:
        return VaultFileAltered(
            f"{what} in the vault ({self.path_for(key)}) has been changed since it was stored, "
            "so it is not used"
        )

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
        """Write under a temporary name, fsync, rename into place, fsync the folder. Another
        station writing the same name at the same moment writes the same content (the name is
        its hash; a sealed blob's bytes differ but open to the same), so whichever rename lands
        last leaves a good file."""
        self.require()  # never start writing into another register's vault
        target = self.path_for(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_file():
            target.chmod(0o644)  # replacing an altered file: Windows renames onto no read-only one
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o444)
            try:
                os.replace(tmp, target)
            except PermissionError:
                # Windows: another station's copy of the same content landed (read-only) in
                # between; it is as good as this one.
                if not target.is_file():
                    raise
                os.chmod(tmp, 0o644)  # Windows deletes no read-only file
                Path(tmp).unlink(missing_ok=True)
            _sync_folder(target.parent)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class StoredIndex:
    """Whether the vault holds a sha256, reading each shard folder's names once (no per-file
    check), so listing a school's 20,000 photos in pages neither stats every file nor reads
    every folder again for each page."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._shards: dict[str, frozenset[str]] = {}

    def __contains__(self, sha256: str) -> bool:
        shard = sha256[:2]
        names = self._shards.get(shard)
        if names is None:
            names = self._shards[shard] = self._names(shard)
        return sha256[2:] in names

    def _names(self, shard: str) -> frozenset[str]:
        try:
            with os.scandir(self._root / shard) as entries:
                return frozenset(e.name for e in entries if e.is_file())
        except FileNotFoundError:
            return frozenset()
