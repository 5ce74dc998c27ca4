"""CLI commands for several stations on one register: `station join` and `station show`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ijs_vetting.cli import session
from ijs_vetting.cli.dispatch import Context, Outcome, handles, handles_offline
from ijs_vetting.config import database_url, resolve_home
from ijs_vetting.domain import ServiceError
from ijs_vetting.key_wrap import PASSPHRASE_ENV

if TYPE_CHECKING:  # the services load in the handlers: a command starts in < 1 s
    from ijs_vetting.services.core import joining


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    p = sub.add_parser("station", help="this PC as one of the register's stations")
    ss = p.add_subparsers(dest="station_command", required=True)
    q = ss.add_parser(
        "join",
        parents=[common],
        help="set this PC up as a station of a register (database from $IJS_VETTING_DB)",
    )
    q.add_argument("--key-file", required=True, type=Path, help="the key file `key export` wrote")
    q.add_argument("--name", required=True, help="this station's name, e.g. HEAD-OFFICE")
    handles_offline(q, cmd_join)
    q = ss.add_parser("show", parents=[common], help="this station's name, vault and key")
    handles(q, cmd_show)


def cmd_join(args: argparse.Namespace) -> Outcome:
    from ijs_vetting.services.core import joining

    try:
        data = args.key_file.read_bytes()
    except OSError as exc:
        raise ServiceError(
            f"Cannot read the key file {args.key_file}: {exc.strerror or exc}."
        ) from exc
    url = database_url(resolve_home(args.home))
    joining.require_shared_database(url)  # before asking for the passphrase
    station, admin = joining.join_station(
        args.home,
        url,
        data,
        session.secret("Passphrase of the key file: ", PASSPHRASE_ENV, "passphrase"),
        session.password(),
        name=args.name,
        vault=args.vault,
    )
    try:
        report = joining.station_report(station)
        joining.record_join(station, admin, report)
    finally:
        station.close()
    head = f"Station {report.name} joined register {report.register}."
    return Outcome(report, lambda: _print(report, head))


def cmd_show(ctx: Context) -> Outcome:
    from ijs_vetting.services.core import joining

    station = ctx.station
    report = joining.station_report(station)

    def show() -> None:
        _print(report, f"Station {report.name} of register {report.register}.")
        if station.vault_fault is not None:
            print(f"The vault cannot be used: {station.vault_fault}")

    return Outcome({**report.as_json(), "vault_problem": station.vault_fault}, show)


def _print(report: joining.JoinReport, head: str) -> None:
    print(head)
    print(f"Database: {report.database}")
    print(f"Vault: {report.vault}")
    print(f"Key: {report.key_fingerprint}, in {report.key_location}.")
