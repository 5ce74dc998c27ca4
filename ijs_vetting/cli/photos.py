"""CLI commands for faces and photos: `faces enrol`, `import`, `photos list`, `photos vet`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ijs_vetting.cli.dispatch import Context, Outcome, handles
from ijs_vetting.cli.output import emit_table, one_line, terminal_progress
from ijs_vetting.domain import FaceDecision, PhotoStatus

if TYPE_CHECKING:  # the services load in the handlers: a command starts in < 1 s
    from ijs_vetting.services.intake import importing

_WORKERS_HELP = "face-analysis processes (default: one per core, as memory allows)"


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    p = sub.add_parser("faces", help="children's reference photos (face templates)")
    fs = p.add_subparsers(dest="faces_command", required=True)
    q = fs.add_parser(
        "enrol",
        parents=[common],
        help="enrol reference photos: FOLDER/<child id>.jpg or FOLDER/<child id>/*.jpg",
    )
    q.add_argument("folder", type=Path)
    q.add_argument(
        "--replace",
        action="store_true",
        help="replace a child's existing templates with the new ones",
    )
    q.add_argument("--workers", type=int, help=_WORKERS_HELP)
    handles(q, cmd_faces_enrol)

    p = sub.add_parser("import", parents=[common], help="import and vet photos from a folder")
    p.add_argument("folder", type=Path)
    p.add_argument("--device", help="the registered device the photos come from")
    p.add_argument("--workers", type=int, help=_WORKERS_HELP)
    handles(p, cmd_import)

    p = sub.add_parser("photos", help="imported photos and their decisions")
    ps = p.add_subparsers(dest="photos_command", required=True)
    q = ps.add_parser("list", parents=[common], help="list photos with faces and decisions")
    q.add_argument("--status", choices=[s.value for s in PhotoStatus])
    handles(q, cmd_photos_list)
    q = ps.add_parser("vet", parents=[common], help="vet photos waiting for it (after a crash)")
    q.add_argument("--workers", type=int, help=_WORKERS_HELP)
    q.add_argument(
        "--retry-failed",
        action="store_true",
        help="also try the failed photos again (after an update; a damaged file fails again)",
    )
    handles(q, cmd_photos_vet)


def cmd_faces_enrol(ctx: Context) -> Outcome:
    from ijs_vetting.services.register import templates

    args = ctx.args
    report = templates.enrol_references(
        ctx.station,
        ctx.actor,
        args.folder,
        replace=args.replace,
        progress=terminal_progress(not args.json),
        workers=args.workers,
    )

    def show() -> None:
        print(f"\n{report.counts_in_words()}.")
        emit_table(
            ["child", "file", "result", "why"],
            [
                [o.child_id, o.file, o.status, o.message if o.reason else ""]
                for o in report.outcomes
            ],
        )
        if report.revetted:
            print(f"Re-vetted {report.revetted} photos against the new templates.")

    return Outcome(report, show)


def cmd_import(ctx: Context) -> Outcome:
    from ijs_vetting.services.intake import importing

    args = ctx.args
    report = importing.import_folder(
        ctx.station,
        ctx.actor,
        args.folder,
        device=args.device,
        progress=terminal_progress(not args.json),
        workers=args.workers,
    )
    return Outcome(report, lambda: _show_import(report, args.folder))


def _show_import(report: importing.ImportReport, folder: Path) -> None:
    skipped = sum(report.skipped.values())
    restored = f" of which {report.restored} restored to the vault" if report.restored else ""
    print(
        f"\nImported {report.imported} new photos from {folder} "
        f"({report.duplicates} already imported{restored}, {skipped} other files skipped, "
        f"{len(report.failed)} failed)."
    )
    if report.statuses:
        print(
            "Vetted: "
            + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(report.statuses.items()))
        )
    for name, reason in report.failed:
        print(f"  failed: {one_line(name)}: {one_line(reason)}")
    for skipped_folder, reason in report.skipped_folders:
        print(f"  folder skipped: {one_line(skipped_folder)}: {one_line(reason)}")


def cmd_photos_list(ctx: Context) -> Outcome:
    from ijs_vetting.services.intake import photos

    status = PhotoStatus(ctx.args.status) if ctx.args.status else None
    listed = photos.iter_photos(ctx.station, status=status)  # streamed: JSON or table, not both

    def show() -> None:
        rows = list(listed)
        emit_table(
            ["id", "file", "status", "taken", "faces", "shown", "note"],
            [
                [
                    p.id,
                    p.file,
                    p.status.value,
                    f"{p.taken_at:%Y-%m-%d %H:%M}" if p.taken_at else None,
                    len(p.faces),
                    sum(1 for f in p.faces if f.decision == FaceDecision.SHOW),
                    p.note,
                ]
                for p in rows
            ],
        )

    return Outcome(listed, show)


def cmd_photos_vet(ctx: Context) -> Outcome:
    from ijs_vetting.services.intake import vetting

    args = ctx.args
    vet = vetting.retry_failed if args.retry_failed else vetting.revet_pending
    report = vet(
        ctx.station, ctx.actor, progress=terminal_progress(not args.json), workers=args.workers
    )

    def show() -> None:
        tried = f" ({report.retried} of them failed before)" if args.retry_failed else ""
        print(f"\nVetted {report.vetted} photos{tried}.")
        for file, reason in report.failed:
            print(f"  failed: {one_line(file)}: {one_line(reason)}")

    payload = {
        "vetted": report.vetted,
        "retried": report.retried,
        "statuses": report.statuses,
        "failed": [{"file": f, "reason": r} for f, r in report.failed],
    }
    return Outcome(payload, show)


def add_demo_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    p = sub.add_parser(
        "demo",
        parents=[common],
        help="fill an empty station with a demo school (real sample faces)",
    )
    handles(p, cmd_demo)


def cmd_demo(ctx: Context) -> Outcome:
    station = ctx.station
    from ijs_vetting import demo  # the sample faces and their engine: only for this command

    report = demo.load_demo(
        station,
        ctx.actor,
        station.paths.home / "demo",
        progress=terminal_progress(not ctx.args.json),
    )

    def show() -> None:
        print(
            f"\nDemo school loaded: {report.imported} photos vetted "
            f"({', '.join(f'{n} {s}' for s, n in sorted(report.statuses.items()))})."
        )

    return Outcome(report, show)
