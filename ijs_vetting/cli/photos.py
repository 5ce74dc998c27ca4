"""CLI commands for faces and photos: `faces enrol`, `import`, `photos list`, `photos vet`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ijs_vetting.cli import session
from ijs_vetting.cli.output import emit_json, emit_table, one_line
from ijs_vetting.domain import PhotoStatus
from ijs_vetting.progress import Progress
from ijs_vetting.services import photos, templates, vetting
from ijs_vetting.services.station import Station

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
    q.set_defaults(handler=cmd_faces_enrol)

    p = sub.add_parser("import", parents=[common], help="import and vet photos from a folder")
    p.add_argument("folder", type=Path)
    p.add_argument("--device", help="the registered device the photos come from")
    p.add_argument("--workers", type=int, help=_WORKERS_HELP)
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("photos", help="imported photos and their decisions")
    ps = p.add_subparsers(dest="photos_command", required=True)
    q = ps.add_parser("list", parents=[common], help="list photos with faces and decisions")
    q.add_argument("--status", choices=[s.value for s in PhotoStatus])
    q.set_defaults(handler=cmd_photos_list)
    q = ps.add_parser("vet", parents=[common], help="vet photos waiting for it (after a crash)")
    q.add_argument("--workers", type=int, help=_WORKERS_HELP)
    q.add_argument(
        "--retry-failed",
        action="store_true",
        help="also try the failed photos again (after an update; a damaged file fails again)",
    )
    q.set_defaults(handler=cmd_photos_vet)


def _progress(enabled: bool) -> Progress:
    """A progress line on stderr when a person is watching; silent for scripts and pipes."""
    if not enabled or not sys.stderr.isatty():
        return Progress()

    def show(done: int, total: int, message: str) -> None:
        sys.stderr.write(f"\r{message[:50]:<50} {done}/{total}")
        sys.stderr.flush()

    return Progress(show)


def cmd_faces_enrol(station: Station, args: argparse.Namespace) -> int:
    actor = session.actor(station)
    report = templates.enrol_references(
        station,
        actor,
        args.folder,
        replace=args.replace,
        progress=_progress(not args.json),
        workers=args.workers,
    )
    if args.json:
        emit_json(report.as_json())
        return 0
    print(
        f"\n{report.count('enrolled')} enrolled, {report.count('refused')} refused, "
        f"{report.count('not_enrolled')} not enrolled (no biometric consent)."
    )
    emit_table(
        ["child", "file", "result", "why"],
        [
            [o.child_id, o.file, o.status, o.message if o.status != "enrolled" else ""]
            for o in report.outcomes
        ],
    )
    if report.revetted:
        print(f"Re-vetted {report.revetted} photos against the new templates.")
    return 0


def cmd_import(station: Station, args: argparse.Namespace) -> int:
    actor = session.actor(station)
    report = photos.import_folder(
        station,
        actor,
        args.folder,
        device=args.device,
        progress=_progress(not args.json),
        workers=args.workers,
    )
    if args.json:
        emit_json(report.as_json())
        return 0
    skipped = sum(report.skipped.values())
    restored = f" of which {report.restored} restored to the vault" if report.restored else ""
    print(
        f"\nImported {report.imported} new photos from {args.folder} "
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
    for folder, reason in report.skipped_folders:
        print(f"  folder skipped: {one_line(folder)}: {one_line(reason)}")
    return 0


def cmd_photos_list(station: Station, args: argparse.Namespace) -> int:
    session.actor(station)
    rows = photos.list_photos(station, status=PhotoStatus(args.status) if args.status else None)
    if args.json:
        emit_json([p.as_json() for p in rows])
        return 0
    emit_table(
        ["id", "file", "status", "taken", "faces", "shown", "note"],
        [
            [
                p.id,
                p.file,
                p.status.value,
                f"{p.taken_at:%Y-%m-%d %H:%M}" if p.taken_at else None,
                len(p.faces),
                sum(1 for f in p.faces if f.decision == "show"),
                p.note,
            ]
            for p in rows
        ],
    )
    return 0


def cmd_photos_vet(station: Station, args: argparse.Namespace) -> int:
    actor = session.actor(station)
    vet = vetting.retry_failed if args.retry_failed else vetting.revet_pending
    report = vet(station, actor, progress=_progress(not args.json), workers=args.workers)
    if args.json:
        emit_json(
            {
                "vetted": report.vetted,
                "retried": report.retried,
                "statuses": report.statuses,
                "failed": [{"file": f, "reason": r} for f, r in report.failed],
            }
        )
    else:
        tried = f" ({report.retried} of them failed before)" if args.retry_failed else ""
        print(f"\nVetted {report.vetted} photos{tried}.")
        for file, reason in report.failed:
            print(f"  failed: {one_line(file)}: {one_line(reason)}")
    return 0


def add_demo_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    p = sub.add_parser(
        "demo",
        parents=[common],
        help="fill an empty station with a demo school (real sample faces)",
    )
    p.set_defaults(handler=cmd_demo)


def cmd_demo(station: Station, args: argparse.Namespace) -> int:
    actor = session.actor(station)
    from ijs_vetting import demo  # the sample faces and their engine: only for this command

    report = demo.load_demo(
        station, actor, station.paths.home / "demo", progress=_progress(not args.json)
    )
    if args.json:
        emit_json(report.as_json())
    else:
        print(
            f"\nDemo school loaded: {report.imported} photos vetted "
            f"({', '.join(f'{n} {s}' for s, n in sorted(report.statuses.items()))})."
        )
    return 0
