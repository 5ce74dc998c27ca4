"""CLI commands for data protection: `retention run`, `child export` and `child erase`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ijs_vetting.cli.dispatch import Context, Outcome, handles
from ijs_vetting.cli.output import emit_table

if TYPE_CHECKING:  # the services load in the handlers: a command starts in < 1 s
    from ijs_vetting.services.privacy import retention, subject_access, subject_rights


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    p = sub.add_parser("retention", help="delete what is past its retention period (admin)")
    rs = p.add_subparsers(dest="retention_command", required=True)
    q = rs.add_parser("run", parents=[common], help="apply the retention periods and report")
    q.add_argument("--dry-run", action="store_true", help="report what would go, delete nothing")
    handles(q, cmd_retention_run)

    p = sub.add_parser("child", help="one child's data: subject access export, erasure (admin)")
    cs = p.add_subparsers(dest="child_command", required=True)
    q = cs.add_parser("export", parents=[common], help="write everything held about a child")
    q.add_argument("child_id", metavar="CHILD_ID")
    q.add_argument("out", metavar="OUT.zip", type=Path)
    handles(q, cmd_child_export)
    q = cs.add_parser(
        "erase", parents=[common], help="erase a child's record and biometric data for good"
    )
    q.add_argument("child_id", metavar="CHILD_ID")
    handles(q, cmd_child_erase)


def cmd_retention_run(ctx: Context) -> Outcome:
    from ijs_vetting.services.privacy import retention
    from ijs_vetting.services.register import consent_lapse

    dry_run = ctx.args.dry_run
    report = retention.run_retention(ctx.station, ctx.actor, dry_run=dry_run)
    lapses = consent_lapse.apply_lapses(ctx.station, ctx.actor, dry_run=dry_run)
    payload = report.as_json() | {"consent_lapse": lapses.as_json()}
    return Outcome(payload, lambda: _show_retention(report, len(lapses.lapsed)))


def _show_retention(report: retention.RetentionReport, lapsed: int) -> None:
    print(f"Consent lapsed after its review: {lapsed} record(s).")
    verb = "Would delete" if report.dry_run else "Deleted"
    cut = report.cutoffs
    emit_table(
        ["what", "count", "ids"],
        [
            [
                f"rejected photos (rejected before {cut.rejected:%Y-%m-%d})",
                len(report.rejected_photos),
                _ids(report.rejected_photos),
            ],
            [
                f"originals of photos posted before {cut.posted:%Y-%m-%d}",
                len(report.posted_originals),
                _ids(report.posted_originals),
            ],
            [
                "face templates of children not on roll",
                report.templates_deleted,
                _ids(report.template_children),
            ],
            [
                f"leavers erased (left before {cut.left:%Y-%m-%d})",
                len(report.leavers_erased),
                _ids(report.leavers_erased),
            ],
            ["vault files nothing refers to", report.unreferenced_files, None],
            ["photo-face encodings (never stored)", 0, None],
        ],
    )
    print(f"\n{verb} as shown; the audit trail is never deleted.")
    if report.takedowns:
        print(f"Posted items to take down: {_ids(report.takedowns)} (see 'queue takedowns').")
    for error in report.file_errors:
        print(f"Could not delete a vault file: {error}")


def cmd_child_export(ctx: Context) -> Outcome:
    from ijs_vetting.services.privacy import subject_access

    result = subject_access.export_child(ctx.station, ctx.actor, ctx.args.child_id, ctx.args.out)
    return Outcome(result, lambda: _show_export(result))


def _show_export(result: subject_access.ExportResult) -> None:
    print(
        f"Exported {result.child_id} to {result.file}: {result.forms} forms, "
        f"{result.reference_photos} reference photos, {result.photo_originals} photo originals, "
        f"{result.posted_images} queued or posted pictures, {result.audit_entries} audit entries."
    )
    if result.not_stored:
        print(f"No longer stored (retention): {', '.join(result.not_stored)}")


def cmd_child_erase(ctx: Context) -> Outcome:
    from ijs_vetting.services.privacy import subject_rights

    result = subject_rights.erase_child(ctx.station, ctx.actor, ctx.args.child_id)
    return Outcome(result, lambda: _show_erasure(result))


def _show_erasure(result: subject_rights.ErasureResult) -> None:
    e = result.erasure
    print(
        f"Erased {e.child_id}: {e.templates} templates, {e.consent_records} consent, "
        f"{e.biometric_records} biometric and {e.safeguarding_records} safeguarding records, "
        f"{e.forms} forms ({e.forms_kept} kept for another child), {e.reference_photos} "
        f"reference photos; unidentified in {e.faces_unidentified} faces; "
        f"{len(e.withdrawn)} queue items withdrawn."
    )
    if result.takedowns:
        print("\nPosted items to take down now (then run 'queue taken-down ITEM_ID'):")
        emit_table(
            ["item", "account", "posted", "url"],
            [[i.id, i.account, i.posted_at, i.post_url] for i in result.takedowns],
        )
    for error in result.file_errors:
        print(f"Could not delete a vault file: {error}")


def _ids(values: list[int] | list[str]) -> str | None:
    return ", ".join(str(v) for v in values) or None
