"""CLI commands for the consent register: init, roster, children, consent, biometric,
safeguarding and devices (users, settings and the audit log: `cli.admin`)."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from ijs_vetting.cli import rules, session
from ijs_vetting.cli.dispatch import Anonymous, Context, Outcome, handles, handles_anonymously
from ijs_vetting.cli.output import emit_table
from ijs_vetting.cli.session import PASSWORD_ENV
from ijs_vetting.domain import BIOMETRIC_CHOICES, parse_year_group, year_label

if TYPE_CHECKING:  # the services load in the handlers: a command starts in < 1 s
    from ijs_vetting.services.register.roster_report import RosterReport

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_commands(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("init", parents=[common], help="create or upgrade the database")
    p.add_argument("--admin", metavar="NAME", help="create the first admin")
    p.add_argument("--name", help="this station's name in the audit log (default: the PC's)")
    handles_anonymously(p, cmd_init)
    _add_register_commands(sub, common)
    _add_consent_commands(sub, common)


def _add_register_commands(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("roster", help="import the school roster from the MIS")
    rs = p.add_subparsers(dest="roster_command", required=True)
    q = rs.add_parser("import", parents=[common], help="import a roster CSV")
    q.add_argument("file", type=Path)
    q.add_argument("--dry-run", action="store_true", help="show what would change, change nothing")
    q.add_argument(
        "--mark-leavers",
        action="store_true",
        help="mark children missing from the file as having left",
    )
    handles(q, cmd_roster_import)

    p = sub.add_parser("children", help="the register of children")
    cs = p.add_subparsers(dest="children_command", required=True)
    q = cs.add_parser("list", parents=[common], help="list children with their consents")
    q.add_argument("--year", type=year_group, help="only this year group (R or 0-6)")
    q.add_argument("--on-roll", action="store_true", help="leave out children who have left")
    handles(q, cmd_children_list)

    p = sub.add_parser("devices", help="registered school devices")
    ds = p.add_subparsers(dest="devices_command", required=True)
    q = ds.add_parser("add", parents=[common], help="register a device")
    q.add_argument("name")
    q.add_argument("--make", required=True, help="EXIF make, e.g. Apple")
    q.add_argument("--model", required=True, help="EXIF model, e.g. iPad (9th generation)")
    handles(q, cmd_devices_add)
    q = ds.add_parser("list", parents=[common], help="list devices")
    handles(q, cmd_devices_list)


def _add_consent_commands(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("consent", help="photo consent per channel")
    cs = p.add_subparsers(dest="consent_command", required=True)
    q = cs.add_parser("set", parents=[common], help="record a parent's answer for a channel")
    q.add_argument("child_id")
    q.add_argument("channel")
    q.add_argument("answer", choices=["yes", "no"])
    q.add_argument("--form", type=Path, help="the scanned permission form (JPEG, PNG or PDF)")
    q.add_argument("--date", type=_date, help="the date on the form (YYYY-MM-DD)")
    q.add_argument(
        "--review-on",
        type=_date,
        help="when this yes must be re-confirmed (else the school's rule)",
    )
    handles(q, cmd_consent_set)
    rules.add_consent_commands(cs, common)

    p = sub.add_parser("biometric", help="biometric consent (face templates)")
    bs = p.add_subparsers(dest="biometric_command", required=True)
    q = bs.add_parser("set", parents=[common], help="record biometric consent or objection")
    q.add_argument("child_id")
    q.add_argument("answer", choices=list(BIOMETRIC_CHOICES))
    q.add_argument("--parent", help="the parent who wrote (each parent's latest word counts)")
    q.add_argument("--form", type=Path, help="the parent's signed letter")
    q.add_argument("--date", type=_date, help="the date on the letter (YYYY-MM-DD)")
    handles(q, cmd_biometric_set)

    p = sub.add_parser("safeguarding", help='the "never publish" flag')
    ss = p.add_subparsers(dest="safeguarding_command", required=True)
    q = ss.add_parser("set", parents=[common], help="set or lift the flag")
    q.add_argument("child_id")
    q.add_argument("state", choices=["on", "off"])
    q.add_argument("--reason", required=True)
    handles(q, cmd_safeguarding_set)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2026-09-05") from None


def year_group(text: str) -> int:
    year = parse_year_group(text)
    if year is None:
        raise argparse.ArgumentTypeError(f"'{text}' is not a year group (R or 1-6)")
    return year


def cmd_init(ctx: Anonymous) -> Outcome:
    from ijs_vetting.services.core import users
    from ijs_vetting.services.core.station_key import station_key_info

    station, admin = ctx.station, ctx.args.admin
    created = None
    station.keep_setup(ctx.args.name)
    key = station_key_info(station)
    if admin:
        _info, created = users.ensure_admin(
            station, admin, session.new_password("Password for the admin: ", PASSWORD_ENV)
        )
    payload = {
        "home": str(station.paths.home),
        "database": station.database_label,
        "admin": admin,
        "admin_created": created,
        "key_fingerprint": key.fingerprint,
        "station": station.name,
        "vault": str(station.paths.vault),
    }

    def show() -> None:
        print(f"Station {station.name} ready in {payload['home']} ({payload['database']}).")
        print(f"Its vault is {payload['vault']}.")
        print(f"Its key is {key.fingerprint}, in {key.location}: back it up separately.")
        if admin:
            print(f"Admin {admin} {'created' if created else 'already exists'}.")

    return Outcome(payload, show)


def cmd_roster_import(ctx: Context) -> Outcome:
    from ijs_vetting.services.register import roster

    args = ctx.args
    report = roster.import_roster(
        ctx.station, ctx.actor, args.file, dry_run=args.dry_run, mark_leavers=args.mark_leavers
    )
    return Outcome(report, lambda: _show_roster(report, args.file))


def _show_roster(report: RosterReport, file: Path) -> None:
    head = "Would change" if report.dry_run else "Imported"
    print(
        f"{head} from {file.name} ({report.encoding}): {len(report.added)} new, "
        f"{len(report.updated)} updated, {len(report.returned)} back on roll, "
        f"{len(report.left)} left, {report.unchanged} unchanged."
    )
    if report.consent_changes:
        print("\nConsent changes:")
        emit_table(
            ["id", "name", "channel", "before", "after"],
            [
                [
                    c.mis_id,
                    c.name,
                    c.channel,
                    "not recorded" if c.before is None else c.before,
                    c.after,
                ]
                for c in report.consent_changes
            ],
        )
    if report.added:
        print("\nNew children:")
        for d in report.added:
            year = year_label(d.changes["year_group"][1])
            klass = d.changes.get("class_name", (None, ""))[1]
            print(f"  {d.mis_id}  {d.name}  {year}{f', class {klass}' if klass else ''}")
    for title, diffs in (
        ("Updated", report.updated),
        ("Back on roll", report.returned),
        ("Marked as left", report.left),
    ):
        if diffs:
            print(f"\n{title}:")
            for d in diffs:
                fields = ", ".join(f"{k}: {a!s} -> {b!s}" for k, (a, b) in d.changes.items())
                print(f"  {d.mis_id}  {d.name}  {fields}")
    if report.kept_withdrawals:
        print("\nKept as withdrawn (recorded by hand; the file still says yes):")
        for c in report.kept_withdrawals:
            print(f"  {c.mis_id}  {c.name}  {c.channel}")
    if report.ignored_columns:
        print(f"\nIgnored columns: {', '.join(report.ignored_columns)}")
    if report.dry_run:
        print("\nDry run: nothing was written.")


def cmd_children_list(ctx: Context) -> Outcome:
    from ijs_vetting.services.register import children

    args = ctx.args
    rows = children.list_children(ctx.station, year=args.year, include_left=not args.on_roll)

    def show() -> None:
        codes = children.channel_codes(ctx.station)
        emit_table(
            ["id", "name", "year", "class", *codes, "biometric", "never publish", "on roll"],
            [
                [
                    c.mis_id,
                    c.display_name,
                    year_label(c.year_group),
                    c.class_name,
                    *(c.consents[code] for code in codes),
                    c.biometric.label,
                    c.never_publish,
                    c.on_roll,
                ]
                for c in rows
            ],
        )

    return Outcome({"children": [c.as_json() for c in rows]}, show)


def cmd_consent_set(ctx: Context) -> Outcome:
    from ijs_vetting.services.register import consent

    args = ctx.args
    change = consent.set_consent(
        ctx.station,
        ctx.actor,
        args.child_id,
        args.channel,
        args.answer == "yes",
        form=args.form,
        given_on=args.date,
        review_on=args.review_on,
    )
    payload = {
        "child_id": change.child_id,
        "channel": change.channel,
        "granted": change.granted,
        "previous": change.previous,
        "record_id": change.record_id,
    }
    was = "not recorded" if change.previous is None else "yes" if change.previous else "no"
    line = (
        f"{change.channel} consent for {change.child_id}: "
        f"{'yes' if change.granted else 'no'} (was {was})."
    )
    return Outcome(payload, lambda: print(line))


def cmd_biometric_set(ctx: Context) -> Outcome:
    from ijs_vetting.services.register import consent

    args = ctx.args
    change = consent.set_biometric(
        ctx.station,
        ctx.actor,
        args.child_id,
        BIOMETRIC_CHOICES[args.answer],
        form=args.form,
        given_on=args.date,
        parent=args.parent,
    )
    payload = {
        "child_id": change.child_id,
        "event": change.event.value,
        "templates_allowed": change.templates_allowed,
        "previous_allowed": change.previous_allowed,
    }
    allowed = "allowed" if change.templates_allowed else "not allowed"
    line = f"Biometric record for {change.child_id}: {args.answer}; face templates {allowed}."
    return Outcome(payload, lambda: print(line))


def cmd_safeguarding_set(ctx: Context) -> Outcome:
    from ijs_vetting.services.register import consent

    args = ctx.args
    change = consent.set_safeguarding(
        ctx.station, ctx.actor, args.child_id, args.state == "on", args.reason
    )
    payload = {
        "child_id": change.child_id,
        "never_publish": change.active,
        "previous": change.previous,
    }
    line = f"Never-publish flag for {change.child_id}: {'on' if change.active else 'off'}."
    return Outcome(payload, lambda: print(line))


def cmd_devices_add(ctx: Context) -> Outcome:
    from ijs_vetting.services.intake import devices

    args = ctx.args
    info = devices.add_device(ctx.station, ctx.actor, args.name, args.make, args.model)
    return Outcome(
        {"name": info.name, "make": info.make, "model": info.model},
        lambda: print(f"Registered {info.name} ({info.make} {info.model})."),
    )


def cmd_devices_list(ctx: Context) -> Outcome:
    from ijs_vetting.services.intake import devices

    rows = devices.list_devices(ctx.station)
    payload = {
        "devices": [
            {"name": d.name, "make": d.make, "model": d.model, "active": d.active} for d in rows
        ]
    }
    return Outcome(
        payload,
        lambda: emit_table(
            ["name", "make", "model", "active"], [[d.name, d.make, d.model, d.active] for d in rows]
        ),
    )
