"""Where the station keeps its data and which database it talks to.

Precedence, so a school IT technician can point several stations at one server: `--home DIR`,
then `IJS_VETTING_HOME`, then the platformdirs user data folder. The database URL is
`IJS_VETTING_DB` when set (a PostgreSQL URL for several stations), else SQLite inside the home.
The vault is `--vault DIR`, then `IJS_VETTING_VAULT`, then the station's own setting (its
`station.json`, written by `station join` or `init --vault`), else `vault/` in the home: several
stations share one vault folder on a network share.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "ijs-vetting"
APP_AUTHOR = "IJS"
HOME_ENV = "IJS_VETTING_HOME"
DB_ENV = "IJS_VETTING_DB"
USER_ENV = "IJS_VETTING_USER"
VAULT_ENV = "IJS_VETTING_VAULT"
STATION_FILE = "station.json"  # this PC's own settings: its name and its vault folder
STATION_KEYS = ("name", "vault")


@dataclass(frozen=True)
class StationPaths:
    """The folders of one station's data home."""

    home: Path
    vault_override: Path | None = None  # a vault outside the home (a shared folder)

    @property
    def vault(self) -> Path:
        """Content-addressed, read-only store of originals and scanned forms."""
        return self.vault_override or self.home / "vault"

    @property
    def station_file(self) -> Path:
        return self.home / STATION_FILE

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def scratch(self) -> Path:
        """Private working files of children's data, for a moment (`ijs_vetting.scratch`)."""
        return self.home / "scratch"

    @property
    def backups(self) -> Path:
        """Copies of the SQLite file taken before each schema upgrade."""
        return self.home / "backups"

    @property
    def sqlite_file(self) -> Path:
        return self.home / "station.db"

    def ensure(self) -> None:
        """Make the home's folders. A vault elsewhere is not made here: an unmounted share must
        read as missing, not as a new empty vault (the station makes it only for a register that
        has no vault yet)."""
        folders = [self.home, self.logs, self.backups]
        if self.vault_override is None:
            folders.append(self.vault)
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)


def resolve_home(
    cli_home: str | os.PathLike[str] | None = None,
    cli_vault: str | os.PathLike[str] | None = None,
) -> StationPaths:
    """Pick the data home from the command line, the environment or the platform default, and
    the vault from the command line, the environment, the station's setting or the home."""
    if cli_home:
        home = Path(cli_home).expanduser().resolve()
    elif os.environ.get(HOME_ENV):
        home = Path(os.environ[HOME_ENV]).expanduser().resolve()
    else:
        home = Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))
    vault = cli_vault or os.environ.get(VAULT_ENV) or read_station_file(home).get("vault")
    return StationPaths(home, Path(vault).expanduser() if vault else None)


def read_station_file(home: Path) -> dict[str, str]:
    """This PC's own settings (name, vault); empty when there are none or they cannot be read
    (the defaults then apply, and the station says which vault it looked at)."""
    try:
        data = json.loads((home / STATION_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: str(v) for k, v in data.items() if k in STATION_KEYS and v}


def write_station_file(home: Path, **values: str | None) -> None:
    """Change this PC's own settings (the others kept), written whole under a temporary name."""
    current: dict[str, str] = read_station_file(home)
    current.update({k: v for k, v in values.items() if v})
    home.mkdir(parents=True, exist_ok=True)
    tmp = home / (STATION_FILE + ".tmp")
    tmp.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, home / STATION_FILE)


def station_name(home: Path) -> str:
    """The name this station signs its audit entries with: its setting, else the PC's name."""
    name = read_station_file(home).get("name") or socket.gethostname() or "station"
    return name[:64]  # as audit entries keep it


def database_url(paths: StationPaths) -> str:
    """`IJS_VETTING_DB` if set, else the SQLite file in the home."""
    return os.environ.get(DB_ENV) or f"sqlite:///{paths.sqlite_file}"


def acting_username() -> str:
    """The name a command logs in as: `IJS_VETTING_USER`, else the OS login name (the password
    still has to match: this only says whose account to try)."""
    name = os.environ.get(USER_ENV)
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
