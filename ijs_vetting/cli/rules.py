"""CLI commands for the school's rules before a photo is taken: `consent due`, `consent lapse`
and `sheet` (do-not-photograph sheets). Caption checks are flags of `clear` and `queue`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from ijs_vetting.cli import session
from ijs_vetting.cli.output import emit_json, emit_table
from ijs_vetting.domain import InvalidInput, year_label
from ijs_vetting.services.core.station import Station
from ijs_vetting.services.register import consent_lapse, letters, sheets
from ijs_vetting.services.register.consent_review import due_for_review


def add_consent_commands(
    cs: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """`consent due` and `consent lapse`, beside `consent set`."""
    q = cs.add_parser(
        "due", parents=[common], help="children whose consent is due for re-confirmation"
    )
    q.add_argument("--csv", type=Path, metavar="FILE", help="write the letters list (admins)")
    q.add_argument("--pdf", type=Path, metavar="FILE", help="write it as a PDF to print (admins)")
    q.set_defaults(handler=cmd_consent_due)
    q = cs.add_parser(
        "lapse", parents=[common], help="record consent whose review's grace period has ended"
    )
    q.add_argument("--dry-run", action="store_true", help="list them, change nothing")
    q.set_defaults(handler=cmd_consent_lapse)


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
    year_type: Callable[[str], int],
) -> None:
    p = sub.add_parser(
        "sheet", parents=[common], help="print a do-not-photograph sheet (PDF) for a channel"
    )
    scope = p.add_mutually_exclusive_group(required=True)
    scope.add_argument("--year", type=year_type, help="a year group (R or 1-6)")
    scope.add_argument("--class", dest="class_name", metavar="CLASS", help="a class, e.g. 5H")
    scope.add_argument(
        "--children",
        type=Path,
        metavar="FILE",
        help="a trip list: one MIS id or name a line",
    )
    p.add_argument("--channel", default="twitter", help="the channel (default twitter)")
    p.add_argument("out", type=Path, metavar="OUT.pdf")
    p.set_defaults(handler=cmd_sheet)


def cmd_consent_due(station: Station, args: argparse.Namespace) -> int:
    actor = session.actor(station)
    if args.csv or args.pdf:
        rows = letters.write_letters(station, actor, csv_path=args.csv, pdf_path=args.pdf)
    else:
        rows = due_for_review(station)
    if args.json:
        emit_json({"due": [r.as_json() for r in rows]})
        return 0
    emit_table(
        ["id", "name", "class", "channel", "state", "review on", "counts until"],
        [
            [
                r.mis_id,
                r.name,
                r.class_name or year_label(r.year_group),
                r.channel,
                r.status.state.value,
                r.status.review_on,
                r.status.grace_ends,
            ]
            for r in rows
        ],
    )
    for path in (args.csv, args.pdf):
        if path:
            print(f"Wrote {path}.")
    return 0


def cmd_consent_lapse(station: Station, args: argparse.Namespace) -> int:
    report = consent_lapse.apply_lapses(station, session.actor(station), dry_run=args.dry_run)
    if args.json:
        emit_json(report.as_json())
    else:
        verb = "would lapse" if args.dry_run else "lapsed"
        print(
            f"{len(report.lapsed)} consent record(s) {verb}; {len(report.withdrawn)} queue "
            f"item(s) withdrawn, {len(report.takedowns)} takedown(s)."
        )
    return 0


def cmd_sheet(station: Station, args: argparse.Namespace) -> int:
    actor = session.actor(station)
    names = None
    if args.children is not None:
        try:
            names = args.children.read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"Cannot read the list {args.children}: {exc}") from exc
    report = sheets.make_sheet(
        station,
        actor,
        args.out,
        channel=args.channel,
        year=args.year,
        class_name=args.class_name,
        names=names,
    )
    if args.json:
        emit_json(report.as_json())
    else:
        listed = sum(len(e) for e in report.classes.values())
        print(
            f"Wrote {report.file}: {listed} of {report.selected} children must not appear on "
            f"{report.channel} ({len(report.classes)} class page(s))."
        )
    return 0
