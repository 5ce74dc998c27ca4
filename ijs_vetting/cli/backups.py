"""CLI commands for backups: `backup`, `restore` and `key export`.

`restore` runs without opening the station first: opening an empty station would make it a key
and an id of its own, and the restore must find the target as it is.
"""

from __future__ import annotations

import argparse
import getpass
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ijs_vetting.cli import session
from ijs_vetting.cli.dispatch import Context, Outcome, handles, handles_offline
from ijs_vetting.cli.output import terminal_progress
from ijs_vetting.domain import InvalidInput, ServiceError
from ijs_vetting.key_wrap import PASSPHRASE_ENV, check_passphrase

if TYPE_CHECKING:  # the services load in the handlers: a command starts in < 1 s
    from ijs_vetting.services.privacy import backup, restore


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    p = sub.add_parser(
        "backup",
        parents=[common],
        help="write one backup archive: database, vault files, audit anchor, wrapped key (admin)",
    )
    p.add_argument("out", nargs="?", type=Path, metavar="OUT", help="the archive to write")
    p.add_argument(
        "--to-folder",
        type=Path,
        metavar="DIR",
        help="write a dated archive into DIR and keep only the newest --keep there "
        "(default: the backup.folder setting)",
    )
    p.add_argument("--keep", type=int, metavar="N", help="archives kept (default backup.keep)")
    handles(p, cmd_backup)

    p = sub.add_parser(
        "restore",
        parents=[common],
        help="restore a backup onto an empty station (the --home / IJS_VETTING_DB target)",
    )
    p.add_argument("archive", type=Path, metavar="ARCHIVE")
    p.add_argument("--force", action="store_true", help="replace a register already there")
    handles_offline(p, cmd_restore)

    p = sub.add_parser("key", help="the station key")
    ks = p.add_subparsers(dest="key_command", required=True)
    q = ks.add_parser(
        "export", parents=[common], help="write the key wrapped with a passphrase (admin)"
    )
    q.add_argument("file", type=Path, metavar="FILE")
    handles(q, cmd_key_export)


def passphrase(*, confirm: bool) -> str:
    """The backup passphrase from `IJS_VETTING_BACKUP_PASSPHRASE`, else typed (twice when it
    is being chosen)."""
    typed = PASSPHRASE_ENV not in os.environ
    first = session.secret("Backup passphrase: ", PASSPHRASE_ENV, "passphrase")
    if confirm and typed:
        check_passphrase(first)
        if getpass.getpass("Again: ") != first:
            raise ServiceError("The two passphrases differ; nothing was written.")
    return first


def cmd_backup(ctx: Context) -> Outcome:
    from ijs_vetting.services.core.station_settings import current
    from ijs_vetting.services.privacy import backup

    station, args = ctx.station, ctx.args
    folder = args.to_folder
    if folder is None and args.out is None:
        configured = str(current(station).values["backup.folder"])
        if not configured:
            raise InvalidInput("Give OUT, or --to-folder DIR (or set backup.folder).")
        folder = Path(configured)
    if folder is not None and args.out is not None:
        raise InvalidInput("Give OUT or --to-folder, not both.")
    secret = passphrase(confirm=True)
    progress = terminal_progress(not args.json)
    if folder is not None:
        report = backup.backup_to_folder(station, ctx.actor, folder, secret, args.keep, progress)
    else:
        report = backup.make_backup(station, ctx.actor, args.out, secret, progress)
    return Outcome(report, lambda: _show_backup(report))


def _show_backup(report: backup.BackupReport) -> None:
    print(
        f"Backed up to {report.file} ({report.bytes / 1e6:.1f} MB): "
        f"{report.tables.get('children', 0)} children, {report.tables.get('photos', 0)} photos, "
        f"{report.vault_files} vault files, {report.audit_entries} audit entries; key "
        f"{report.key_fingerprint} wrapped with the passphrase."
    )
    if report.vault_missing:
        print(
            "Not in the vault (removed by retention or outside the station): "
            f"{len(report.vault_missing)} file(s)."
        )
    if report.vault_altered:
        print(f"Left out, changed in the vault since stored: {', '.join(report.vault_altered)}")
    if report.deleted:
        print(f"Older archives removed: {', '.join(report.deleted)}")


def cmd_restore(args: argparse.Namespace) -> Outcome:
    from ijs_vetting.services.privacy import restore

    secret = passphrase(confirm=False)
    report = restore.restore_backup(
        args.archive,
        secret,
        home=args.home,
        vault=args.vault,
        force=args.force,
        progress=terminal_progress(not args.json),
    )
    return Outcome(report, lambda: _show_restore(report))


def _show_restore(report: restore.RestoreReport) -> None:
    t = report.tables
    print(
        f"Restored {report.archive.name} (made {report.made_at} on {report.source_backend}) "
        f"onto {report.target}: {t.get('children', 0)} children, {t.get('photos', 0)} photos, "
        f"{t.get('queue_items', 0)} queue items, {report.vault_files} vault files, "
        f"{report.audit_entries} audit entries (chain verified); key {report.key_fingerprint}."
    )
    if report.previous_database:
        print(f"The database it replaced is kept in {report.previous_database}.")
    if report.previous_anchor:
        print(f"An older audit anchor was moved aside to {report.previous_anchor}.")


def cmd_key_export(ctx: Context) -> Outcome:
    from ijs_vetting.services.privacy import backup

    out, fingerprint = backup.export_key(
        ctx.station, ctx.actor, ctx.args.file, passphrase(confirm=True)
    )
    return Outcome(
        {"file": str(out), "fingerprint": fingerprint},
        lambda: print(f"Exported the key {fingerprint} to {out}, wrapped with the passphrase."),
    )
