"""CLI commands for running the station: its users, its settings and the audit log."""

from __future__ import annotations

import argparse
from pathlib import Path

from ijs_vetting.cli import session
from ijs_vetting.cli.dispatch import Context, Outcome, handles
from ijs_vetting.cli.output import emit_table
from ijs_vetting.cli.register import Subparsers
from ijs_vetting.domain import InvalidInput, Role


def add_commands(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("users", help="station users and roles")
    us = p.add_subparsers(dest="users_command", required=True)
    q = us.add_parser("add", parents=[common], help="add a user")
    q.add_argument("username")
    q.add_argument("--role", required=True, choices=[r.value for r in Role])
    q.add_argument("--name", help="display name")
    handles(q, cmd_users_add)
    q = us.add_parser("list", parents=[common], help="list users")
    handles(q, cmd_users_list)
    q = us.add_parser(
        "passwd", parents=[common], help="set a user's password (yours, or any as admin)"
    )
    q.add_argument("username")
    handles(q, cmd_users_passwd)

    p = sub.add_parser("settings", help="the station's settings")
    ss = p.add_subparsers(dest="settings_command", required=True)
    q = ss.add_parser("list", parents=[common], help="list settings with their defaults")
    handles(q, cmd_settings_list)
    q = ss.add_parser("set", parents=[common], help="change a setting (admins)")
    q.add_argument("key", help="e.g. posting.caption_limit")
    q.add_argument("value")
    handles(q, cmd_settings_set)

    p = sub.add_parser("audit", parents=[common], help="the audit log, newest first")
    p.add_argument(
        "check",
        nargs="?",
        choices=["verify", "anchor"],
        help="verify: check the hash chain and report the first broken link; anchor: make "
        "this PC's audit anchor again after it was lost (admins)",
    )
    p.add_argument(
        "--anchor",
        type=Path,
        metavar="FILE",
        help="verify: also check the chain against the audit anchor in FILE (a posting "
        "folder's or a child export's manifest.json, or a copy of the anchor file)",
    )
    p.add_argument("--actor")
    p.add_argument("--action", help="action or its prefix, e.g. consent")
    p.add_argument("--target", help="a record id, e.g. a child's id")
    p.add_argument("--limit", type=int)
    handles(p, cmd_audit)


def cmd_users_add(ctx: Context) -> Outcome:
    from ijs_vetting.services.core import users

    args = ctx.args
    password = session.new_password(f"Password for {args.username}: ")
    info = users.add_user(
        ctx.station, ctx.actor, args.username, Role(args.role), password, args.name
    )
    return Outcome(
        {"username": info.username, "role": info.role.value},
        lambda: print(f"Added {info.username} as {info.role.value}."),
    )


def cmd_users_passwd(ctx: Context) -> Outcome:
    from ijs_vetting.services.core import users

    name = ctx.args.username
    users.set_password(
        ctx.station, ctx.actor, name, session.new_password(f"New password for {name}: ")
    )
    return Outcome(
        {"username": name, "password_set": True}, lambda: print(f"Password set for {name}.")
    )


def cmd_users_list(ctx: Context) -> Outcome:
    from ijs_vetting.services.core import users

    rows = users.list_users(ctx.station, ctx.actor)
    payload = {
        "users": [
            {
                "username": u.username,
                "display_name": u.display_name,
                "role": u.role.value,
                "active": u.active,
                "locked": u.locked,
            }
            for u in rows
        ]
    }
    return Outcome(
        payload,
        lambda: emit_table(
            ["username", "name", "role", "active"],
            [[u.username, u.display_name, u.role.value, u.active] for u in rows],
        ),
    )


def cmd_settings_list(ctx: Context) -> Outcome:
    from ijs_vetting.services.core import station_settings

    rows = station_settings.list_settings(ctx.station)
    return Outcome(
        {"settings": {k: {"value": v, "default": d} for k, (v, d) in rows.items()}},
        lambda: emit_table(
            ["setting", "value", "default"], [[k, v, d] for k, (v, d) in rows.items()]
        ),
    )


def cmd_settings_set(ctx: Context) -> Outcome:
    from ijs_vetting.services.register import configure

    key = ctx.args.key
    value = configure.set_setting(ctx.station, ctx.actor, key, ctx.args.value)
    return Outcome({"key": key, "value": value}, lambda: print(f"{key} = {value}"))


def cmd_audit(ctx: Context) -> Outcome:
    from ijs_vetting.services.core import anchoring
    from ijs_vetting.services.privacy import audit

    args = ctx.args
    if args.check == "anchor":
        tip = anchoring.remake_anchor(ctx.station, ctx.actor)
        line = f"The audit log is anchored again at entry {tip.entry_id} ({tip.entries} entries)."
        return Outcome(tip, lambda: print(line))
    if args.check == "verify":
        return _audit_verify(ctx)
    if args.limit is not None and args.limit < 1:
        raise InvalidInput("--limit must be at least 1.")
    rows = audit.list_audit(
        ctx.station,
        actor=args.actor,
        action=args.action,
        target_id=args.target,
        limit=args.limit,
        reader=ctx.actor,
    )

    def show() -> None:
        names = audit.audit_names(ctx.station)  # people read file and children's names
        emit_table(
            ["when", "who", "station", "action", "record", "what"],
            [
                [
                    f"{r.at:%Y-%m-%d %H:%M:%S}",
                    r.actor,
                    r.station,
                    r.action,
                    names.record(r) or None,
                    names.summary(r),
                ]
                for r in rows
            ],
        )

    return Outcome({"entries": [r.as_json() for r in rows]}, show)


def _audit_verify(ctx: Context) -> Outcome:
    from ijs_vetting.services.privacy import audit

    report = audit.verify_chain(ctx.station, ctx.actor, ctx.args.anchor)
    payload = {
        "ok": report.ok,
        "entries": report.entries,
        "broken_at": report.broken_at,
        "reason": report.reason,
    }
    if report.ok:
        line = f"The audit log is intact ({report.entries} entries)."
    elif report.broken_at is None:
        line = f"The audit log cannot be trusted: {report.reason}."
    else:
        line = f"The audit log is broken at entry {report.broken_at}: {report.reason}."
    return Outcome(payload, lambda: print(line), failed=not report.ok)
