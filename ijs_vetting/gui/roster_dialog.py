"""Roster import with a preview: the admin sees every change (consent first) before committing."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTextBrowser,
    QWidget,
)

from ijs_vetting.domain import year_label
from ijs_vetting.gui.errors import show_error
from ijs_vetting.gui.jobs import Job, start_job
from ijs_vetting.gui.screen_fit import fit_size
from ijs_vetting.gui.uiload import child, mount_form
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.register import roster
from ijs_vetting.services.register.roster_report import RosterReport


def _answer(value: bool | None) -> str:
    return "not recorded" if value is None else ("yes" if value else "no")


def changes_html(report: RosterReport) -> str:
    parts = []
    if report.consent_changes:
        rows = "".join(
            f"<tr><td>{escape(c.mis_id)}</td><td>{escape(c.name)}</td><td>{escape(c.channel)}"
            f"</td><td>{_answer(c.before)}</td><td><b>{_answer(c.after)}</b></td></tr>"
            for c in report.consent_changes
        )
        parts.append(
            "<h3>Consent changes</h3><table cellpadding='3'><tr><th>Id</th><th>Name"
            f"</th><th>Channel</th><th>Was</th><th>Becomes</th></tr>{rows}</table>"
        )
    if report.added:
        items = "".join(
            f"<li>{escape(d.mis_id)} {escape(d.name)}: "
            f"{year_label(d.changes['year_group'][1])}"
            + (
                f", class {escape(str(d.changes['class_name'][1]))}"
                if "class_name" in d.changes
                else ""
            )
            + "</li>"
            for d in report.added
        )
        parts.append(f"<h3>New children</h3><ul>{items}</ul>")
    for title, diffs in (
        ("Updated", report.updated),
        ("Back on roll", report.returned),
        ("Marked as left", report.left),
    ):
        if diffs:
            items = "".join(
                f"<li>{escape(d.mis_id)} {escape(d.name)}: "
                + escape(
                    ", ".join(
                        f"{k.replace('_', ' ')} {a or 'none'} → {b}"
                        for k, (a, b) in d.changes.items()
                    )
                )
                + "</li>"
                for d in diffs
            )
            parts.append(f"<h3>{title}</h3><ul>{items}</ul>")
    if report.kept_withdrawals:
        kept = "".join(
            f"<li>{escape(c.mis_id)} {escape(c.name)}: {escape(c.channel)}</li>"
            for c in report.kept_withdrawals
        )
        parts.append(
            "<h3>Kept as withdrawn</h3><p>A parent's withdrawal recorded by hand is "
            f"newer than this file, which still says yes:</p><ul>{kept}</ul>"
        )
    if report.ignored_columns:
        parts.append(f"<p>Ignored columns: {escape(', '.join(report.ignored_columns))}</p>")
    return "".join(parts) or "<p>Nothing would change.</p>"


class RosterDialog(QDialog):
    """Preview (dry run) first; OK runs the real import, in the background."""

    imported = Signal()

    def __init__(self, station: Station, actor: Actor, path: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.station, self.actor, self.path = station, actor, path
        form = mount_form(self, "roster_dialog.ui", margins=None)
        self.setWindowTitle(f"Import roster — {path.name}")
        fit_size(self, 760, 560)
        self.summary = child(form, QLabel, "rosterSummary")
        self.changes = child(form, QTextBrowser, "rosterChanges")
        self.leavers = child(form, QCheckBox, "markLeavers")
        self.leavers.toggled.connect(lambda _on: self.preview())
        buttons = child(form, QDialogButtonBox, "buttons")
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Import")
        buttons.accepted.connect(self.commit)
        buttons.rejected.connect(self.reject)
        self.job: Job | None = None

    def preview(self) -> None:
        try:
            report = roster.import_roster(
                self.station,
                self.actor,
                self.path,
                dry_run=True,
                mark_leavers=self.leavers.isChecked(),
            )
        except Exception as exc:
            show_error(self.parentWidget(), exc, "reading the roster")
            self.reject()
            return
        self.summary.setText(
            f"{len(report.added)} new, {len(report.updated)} updated, "
            f"{len(report.consent_changes)} consent changes, {len(report.left)} leaving, "
            f"{report.unchanged} unchanged ({report.encoding})."
        )
        self.changes.setHtml(changes_html(report))
        self.ok.setEnabled(report.changed)
        if not self.isVisible():
            self.open()

    def commit(self) -> None:
        self.ok.setEnabled(False)
        leavers = self.leavers.isChecked()
        self.job = start_job(
            lambda _p: roster.import_roster(
                self.station, self.actor, self.path, mark_leavers=leavers
            ),
            on_done=self._done,
            on_error=lambda e: show_error(self, e, "importing the roster"),
            parent=self,
        )

    def _done(self, _report: Any) -> None:
        self.imported.emit()
        self.accept()
