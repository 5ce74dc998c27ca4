"""The headless command line: `ijs-vetting COMMAND ...`, a stable contract for scripts.

With no command it opens the GUI. Every command opens the station (creating or upgrading the
database), resolves the acting user and calls the same services the GUI uses. Refusals and bad
input print one line to stderr and exit 1, and so do storage faults (a full disk, a read-only
folder, a damaged database or key); usage errors exit 2; nothing is half-written because each
service call is one transaction.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from sqlalchemy.exc import DBAPIError

from ijs_vetting.cli import (
    admin,
    backups,
    dispatch,
    photos,
    privacy,
    queue,
    register,
    rules,
    stations,
)
from ijs_vetting.cli.output import fail
from ijs_vetting.config import resolve_home
from ijs_vetting.domain import ServiceError
from ijs_vetting.faults import storage_fault
from ijs_vetting.logs import setup_logging
from ijs_vetting.services.core.station import open_station

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ijs-vetting",
        description="IJS photo consent and vetting station. With no command, opens the app.",
    )
    parser.add_argument(
        "--home",
        metavar="DIR",
        help="data folder (default: $IJS_VETTING_HOME or the user data folder)",
    )
    parser.add_argument(
        "--vault",
        metavar="DIR",
        help="vault folder, e.g. a share several stations use (default: $IJS_VETTING_VAULT, "
        "the station's setting, or vault/ in the data folder)",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON for scripts")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    register.add_commands(sub, common)
    admin.add_commands(sub, common)
    photos.add_commands(sub, common)
    queue.add_commands(sub, common)
    privacy.add_commands(sub, common)
    rules.add_commands(sub, common, register.year_group)
    photos.add_demo_command(sub, common)
    backups.add_commands(sub, common)
    stations.add_commands(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(resolve_home(args.home))
    if args.command is None:
        from ijs_vetting.gui.app import run_gui  # Qt loads only for the GUI

        return run_gui(args.home, args.vault)
    if args.offline is not None:  # `restore`, `station join`: the station is not opened first
        try:
            return dispatch.run_offline(args)
        except ServiceError as exc:
            fail(str(exc))
            return 1
        except (OSError, DBAPIError) as exc:
            message = storage_fault(exc, resolve_home(args.home).home)
            if message is None:
                raise
            log.warning("%s stopped: %s", args.command, exc)
            fail(message)
            return 1
    try:
        station = open_station(args.home, vault=args.vault)
    except ServiceError as exc:
        fail(str(exc))
        return 1
    try:
        return dispatch.run(station, args)
    except ServiceError as exc:
        log.info("refused %s: %s", args.command, exc)
        fail(str(exc))
        return 1
    except (OSError, DBAPIError) as exc:  # a storage fault met outside any transaction
        message = storage_fault(exc, station.paths.home)
        if message is None:
            raise
        log.warning("%s stopped: %s", args.command, exc)
        fail(message)
        return 1
    finally:
        station.close()


if __name__ == "__main__":
    sys.exit(main())
