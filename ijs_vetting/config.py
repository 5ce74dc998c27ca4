"""Where the station keeps its data and which database it talks to.

Precedence, so a school IT technician can point several stations at one server: `--home DIR`,
then `IJS_VETTING_HOME`, then the platformdirs user data folder. The database URL is
`IJS_VETTING_DB` when set (a PostgreSQL URL for several stations), else SQLite inside the home.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "ijs-vetting"
APP_AUTHOR = "IJS"
HOME_ENV = "IJS_VETTING_HOME"
DB_ENV = "IJS_VETTING_DB"
USER_ENV = "IJS_VETTING_USER"


@dataclass(frozen=True)
class StationPaths:
    """The folders of one station's data home."""

    home: Path

    @property
    def vault(self) -> Path:
        """Content-addressed, read-only store of originals and scanned forms."""
        return self.home / "vault"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def backups(self) -> Path:
        """Copies of the SQLite file taken before each schema upgrade."""
        return self.home / "backups"

    @property
    def sqlite_file(self) -> Path:
        return self.home / "station.db"

    def ensure(self) -> None:
        for folder in (self.home, self.vault, self.logs, self.backups):
            folder.mkdir(parents=True, exist_ok=True)


def resolve_home(cli_home: str | os.PathLike[str] | None = None) -> StationPaths:
    """Pick the data home from the command line, the environment or the platform default."""
    if cli_home:
        return StationPaths(Path(cli_home).expanduser().resolve())
    env = os.environ.get(HOME_ENV)
    if env:
        return StationPaths(Path(env).expanduser().resolve())
    return StationPaths(Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR)))


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
