"""CLI commands for clearing and the posting queue: `clear`, `reject` and `queue ...`.

`clear` and `reject` take several photo ids; each is handled on its own, the summary lists every
refusal with its reason, and the exit code is 1 when any photo was refused (0 otherwise), so a
script can tell a partial batch from a full one.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ijs_vetting.cli.dispatch import Context, Outcome, handles
from ijs_vetting.cli.output import emit_table

if TYPE_CHECKING:  # the services load in the handlers: a command starts in < 1 s
    from ijs_vetting.services.posting.queue import QueueItemInfo
    from ijs_vetting.services.posting.refusals import Refused

ALLOW_NAMES = (
    "SLT/admin: confirm a caption that names children (a surname, a full name, a MIS id, or a "
    "child masked or without consent); audited"
)


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    p = sub.add_parser("clear", parents=[common], help="clear photos into the posting queue (SLT)")
    p.add_argument("photo_ids", metavar="PHOTO_ID", type=int, nargs="+")
    p.add_argument(
        "--account",
        metavar="HANDLE",
        help="posting account, e.g. @Year5IJS (required when the children shown do not route "
        "to exactly one account)",
    )
    p.add_argument("--caption", metavar="TEXT", help="the post's text")
    p.add_argument("--workers", type=int, help="face-analysis processes for the verification")
    p.add_argument("--allow-names", action="store_true", help=ALLOW_NAMES)
    handles(p, cmd_clear)

    p = sub.add_parser("reject", parents=[common], help="reject photos for good (SLT)")
    p.add_argument("photo_ids", metavar="PHOTO_ID", type=int, nargs="+")
    p.add_argument("--reason", required=True, metavar="TEXT")
    handles(p, cmd_reject)

    p = sub.add_parser("queue", help="the posting queue of the year-group accounts")
    qs = p.add_subparsers(dest="queue_command", required=True)
    q = qs.add_parser("list", parents=[common], help="list queue items")
    handles(q, cmd_queue_list)
    q = qs.add_parser("add-text", parents=[common], help="queue a text-only post")
    q.add_argument("--account", required=True, metavar="HANDLE")
    q.add_argument("--caption", required=True, metavar="TEXT")
    q.add_argument("--allow-names", action="store_true", help=ALLOW_NAMES)
    handles(q, cmd_queue_add_text)
    q = qs.add_parser("caption", parents=[common], help="change a queued item's caption")
    q.add_argument("item_id", metavar="ITEM_ID", type=int)
    q.add_argument("caption", metavar="TEXT")
    q.add_argument("--allow-names", action="store_true", help=ALLOW_NAMES)
    handles(q, cmd_queue_caption)
    q = qs.add_parser(
        "export", parents=[common], help="write waiting items and manifest.json to a folder"
    )
    q.add_argument("outdir", metavar="OUTDIR", type=Path)
    handles(q, cmd_queue_export)
    q = qs.add_parser("posted", parents=[common], help="record that an item was posted")
    q.add_argument("item_id", metavar="ITEM_ID", type=int)
    q.add_argument("--url", help="the post's address")
    handles(q, cmd_queue_posted)
    q = qs.add_parser("withdraw", parents=[common], help="stop an item before it is posted")
    q.add_argument("item_id", metavar="ITEM_ID", type=int)
    q.add_argument("--reason", required=True, metavar="TEXT")
    handles(q, cmd_queue_withdraw)
    q = qs.add_parser("takedowns", parents=[common], help="posted items that must come down")
    handles(q, cmd_queue_takedowns)
    q = qs.add_parser("taken-down", parents=[common], help="record that a post was removed")
    q.add_argument("item_id", metavar="ITEM_ID", type=int)
    handles(q, cmd_queue_taken_down)


def cmd_clear(ctx: Context) -> Outcome:
    from ijs_vetting.services.posting import clearing

    args = ctx.args
    result = clearing.clear_photos(
        ctx.station,
        ctx.actor,
        args.photo_ids,
        account=args.account,
        caption=args.caption,
        workers=args.workers,
        allow_names=args.allow_names,
    )

    def show() -> None:
        for done in result.cleared:
            masked = f"{done.blurred_faces} face{'s' if done.blurred_faces != 1 else ''} masked"
            print(
                f"Cleared photo {done.photo_id} to {done.account} "
                f"as queue item {done.item_id} ({masked})."
            )
        print(f"{len(result.cleared)} cleared, {len(result.refused)} refused.")

    return Outcome(result, show, _refusals(result.refused))


def cmd_reject(ctx: Context) -> Outcome:
    from ijs_vetting.services.posting import rejecting

    result = rejecting.reject_photos(ctx.station, ctx.actor, ctx.args.photo_ids, ctx.args.reason)
    return Outcome(
        result.as_json(),
        lambda: print(f"{len(result.rejected)} rejected, {len(result.refused)} refused."),
        _refusals(result.refused),
    )


def _refusals(refused: list[Refused]) -> list[str]:
    lines = []
    for r in refused:
        reason = r.reason + (" (--account)" if r.needs_account else "")
        lines.append(f"{r.file} (photo {r.photo_id}) refused: {reason}" if r.file else reason)
    return lines


def _table(items: list[QueueItemInfo]) -> None:
    emit_table(
        ["id", "account", "status", "photo", "masked", "shown", "caption"],
        [
            [
                i.id,
                i.account,
                i.status.value.replace("_", " "),
                i.photo_id if i.photo_id is not None else "text",
                i.blurred_faces,
                ", ".join(i.shown),
                i.caption,
            ]
            for i in items
        ],
    )


def _item(item: QueueItemInfo, message: str) -> Outcome:
    return Outcome(item, lambda: print(message))


def cmd_queue_list(ctx: Context) -> Outcome:
    from ijs_vetting.services.posting import queue

    items = queue.list_queue(ctx.station)
    return Outcome({"items": [i.as_json() for i in items]}, lambda: _table(items))


def cmd_queue_add_text(ctx: Context) -> Outcome:
    from ijs_vetting.services.posting import queue

    args = ctx.args
    item = queue.add_text(
        ctx.station, ctx.actor, args.account, args.caption, allow_names=args.allow_names
    )
    return _item(item, f"Queued text post {item.id} for {item.account}.")


def cmd_queue_caption(ctx: Context) -> Outcome:
    from ijs_vetting.services.posting import queue

    args = ctx.args
    item = queue.edit_caption(
        ctx.station, ctx.actor, args.item_id, args.caption, allow_names=args.allow_names
    )
    return _item(item, f"Caption of queue item {item.id} changed.")


def cmd_queue_export(ctx: Context) -> Outcome:
    from ijs_vetting.services.posting import queue_export

    report = queue_export.export_queue(ctx.station, ctx.actor, ctx.args.outdir)

    def show() -> None:
        print(f"Exported {len(report.items)} items to {report.outdir} (manifest.json).")
        for stale in report.removed:
            print(f"  removed {stale}: not waiting to be posted (withdrawn, posted, a crash)")
        for entry in report.removed_entries:
            print(f"  removed queue item {entry} from the old manifest")

    return Outcome(report, show)


def cmd_queue_posted(ctx: Context) -> Outcome:
    from ijs_vetting.services.posting import queue

    item = queue.mark_posted(ctx.station, ctx.actor, ctx.args.item_id, ctx.args.url)
    return _item(item, f"Queue item {item.id} recorded as posted to {item.account}.")


def cmd_queue_withdraw(ctx: Context) -> Outcome:
    from ijs_vetting.services.posting import queue

    item = queue.withdraw_item(ctx.station, ctx.actor, ctx.args.item_id, ctx.args.reason)
    return _item(item, f"Queue item {item.id} withdrawn.")


def cmd_queue_takedowns(ctx: Context) -> Outcome:
    from ijs_vetting.services.posting import queue

    items = queue.list_takedowns(ctx.station)

    def show() -> None:
        emit_table(
            ["id", "account", "photo", "posted", "url", "why"],
            [
                [
                    i.id,
                    i.account,
                    i.photo_id,
                    f"{i.posted_at:%Y-%m-%d}" if i.posted_at else None,
                    i.post_url,
                    i.takedown_reason,
                ]
                for i in items
            ],
        )

    return Outcome({"takedowns": [i.as_json() for i in items]}, show)


def cmd_queue_taken_down(ctx: Context) -> Outcome:
    from ijs_vetting.services.posting import queue

    item = queue.mark_taken_down(ctx.station, ctx.actor, ctx.args.item_id)
    return _item(item, f"Queue item {item.id} recorded as taken down.")
