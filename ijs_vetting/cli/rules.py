"""CLI commands for the school's rules before a photo is taken: `consent due` and `consent
lapse`. Caption checks are flags of `clear` and `queue`."""

from __future__ import annotations

import argparse
from pathlib import Path

from ijs_vetting.cli import session
from ijs_vetting.cli.output import emit_json, emit_table
from ijs_vetting.domain import year_label
from ijs_vetting.services import consent_lapse, letters
from ijs_vetting.services.consent_review import due_for_review
from ijs_vetting.services.station import Station


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
