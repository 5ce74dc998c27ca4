"""CLI commands for the school's rules before a photo is taken: `consent due`, `consent lapse`
and `sheet` (do-not-photograph sheets). Caption checks are flags of `clear` and `queue`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from ijs_vetting.cli.dispatch import Context, Outcome, handles
from ijs_vetting.cli.output import emit_table
from ijs_vetting.domain import InvalidInput, year_label


def add_consent_commands(
    cs: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """`consent due` and `consent lapse`, beside `consent set`."""
    q = cs.add_parser(
        "due", parents=[common], help="children whose consent is due for re-confirmation"
    )
    q.add_argument("--csv", type=Path, metavar="FILE", help="write the letters list (admins)")
    q.add_argument("--pdf", type=Path, metavar="FILE", help="write it as a PDF to print (admins)")
    handles(q, cmd_consent_due)
    q = cs.add_parser(
        "lapse", parents=[common], help="record consent whose review's grace period has ended"
    )
    q.add_argument("--dry-run", action="store_true", help="list them, change nothing")
    handles(q, cmd_consent_lapse)


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
    handles(p, cmd_sheet)


def cmd_consent_due(ctx: Context) -> Outcome:
    from ijs_vetting.services.register import letters
    from ijs_vetting.services.register.consent_review import due_for_review

    args = ctx.args
    if args.csv or args.pdf:
        rows = letters.write_letters(ctx.station, ctx.actor, csv_path=args.csv, pdf_path=args.pdf)
    else:
        rows = due_for_review(ctx.station)

    def show() -> None:
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

    return Outcome({"due": [r.as_json() for r in rows]}, show)


def cmd_consent_lapse(ctx: Context) -> Outcome:
    from ijs_vetting.services.register import consent_lapse

    dry_run = ctx.args.dry_run
    report = consent_lapse.apply_lapses(ctx.station, ctx.actor, dry_run=dry_run)
    verb = "would lapse" if dry_run else "lapsed"
    line = (
        f"{len(report.lapsed)} consent record(s) {verb}; {len(report.withdrawn)} queue "
        f"item(s) withdrawn, {len(report.takedowns)} takedown(s)."
    )
    return Outcome(report, lambda: print(line))


def cmd_sheet(ctx: Context) -> Outcome:
    from ijs_vetting.services.register import sheets

    args = ctx.args
    names = None
    if args.children is not None:
        try:
            names = args.children.read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"Cannot read the list {args.children}: {exc}") from exc
    report = sheets.make_sheet(
        ctx.station,
        ctx.actor,
        args.out,
        channel=args.channel,
        year=args.year,
        class_name=args.class_name,
        names=names,
    )
    listed = sum(len(e) for e in report.classes.values())
    line = (
        f"Wrote {report.file}: {listed} of {report.selected} children must not appear on "
        f"{report.channel} ({len(report.classes)} class page(s))."
    )
    return Outcome(report, lambda: print(line))
