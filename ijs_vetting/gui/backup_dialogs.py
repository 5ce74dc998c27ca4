"""Admin > Backup… and Restore…: the same services as `ijs-vetting backup` and `restore`, run
off the GUI thread with progress and Cancel, and the reminder shown at start.

A restore from the app replaces the register the app has open, so it closes its database
connections first and, once the restore has switched over, asks to be started again: the open
window still holds the old register's pages. A refused restore (wrong passphrase, damaged
archive) changes nothing, and the app carries on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QWidget,
)

from ijs_vetting.domain import Role, ServiceError
from ijs_vetting.gui.errors import inform, show_error
from ijs_vetting.gui.jobs import Job, start_job
from ijs_vetting.gui.uiload import child, mount_form
from ijs_vetting.progress import Progress
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.core.station_settings import current
from ijs_vetting.services.privacy import backup, restore

BACKUP_HINT = (
    "One archive holds the register, the photos and forms it names, the audit trail's anchor "
    "and the station key — the key only locked with this passphrase. Keep the passphrase "
    "somewhere other than the archive: without it the backup cannot be restored."
)
RESTORE_HINT = (
    "The archive replaces this station's register (a copy of the current database is kept in "
    "the backups folder). Everything in it is checked before anything here changes. The app "
    "closes afterwards; start it again."
)


class BackupDialog(QDialog):
    """Back up (`restoring=False`) or restore (`True`) the station."""

    def __init__(
        self, station: Station, actor: Actor, restoring: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.station, self.actor, self.restoring = station, actor, restoring
        form = mount_form(self, "backup_dialog.ui", margins=None)
        self.setWindowTitle("Restore" if restoring else "Backup")
        child(form, QLabel, "backupTitle").setText(
            "Restore a backup" if restoring else "Back up the station"
        )
        child(form, QLabel, "backupHint").setText(RESTORE_HINT if restoring else BACKUP_HINT)
        self.path = child(form, QLineEdit, "archivePath")
        self.passphrase = child(form, QLineEdit, "passphrase")
        self.confirm = child(form, QLineEdit, "confirmPassphrase")
        child(form, QLabel, "confirmLabel").setVisible(not restoring)
        self.confirm.setVisible(not restoring)
        self.bar = child(form, QProgressBar, "progress")
        self.outcome = child(form, QLabel, "outcome")
        self.buttons = child(form, QDialogButtonBox, "buttons")
        start = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert start is not None
        self.start_button = start
        start.setText("Restore" if restoring else "Back up")
        start.clicked.connect(self.start)
        self.buttons.rejected.connect(self.cancel_or_close)
        child(form, QPushButton, "browseButton").clicked.connect(self.browse)
        if not restoring:
            folder = str(current(station).values["backup.folder"]) or str(Path.home())
            self.path.setText(str(Path(folder) / f"ijs-vetting-{date.today():%Y-%m-%d}.ijsbackup"))
        self.job: Job | None = None
        self.resize(620, self.sizeHint().height())

    def browse(self) -> None:
        pattern = "IJS Vetting backups (*.ijsbackup);;All files (*)"
        if self.restoring:
            name, _ = QFileDialog.getOpenFileName(self, "Choose the backup", "", pattern)
        else:
            name, _ = QFileDialog.getSaveFileName(
                self, "Save the backup as", self.path.text(), pattern
            )
        if name:
            self.path.setText(name)

    def start(self) -> None:
        path, secret = Path(self.path.text().strip()), self.passphrase.text()
        if not self.path.text().strip():
            self.outcome.setText("Choose the archive first.")
            return
        if not self.restoring and secret != self.confirm.text():
            self.outcome.setText("The two passphrases differ.")
            return
        self.start_button.setEnabled(False)
        self.outcome.setText("Restoring…" if self.restoring else "Backing up…")
        if self.restoring:
            work = self._restore_work(path, secret)
        else:
            work = self._backup_work(path, secret)
        self.job = start_job(
            work,
            on_done=self.finished_job,
            on_error=self.failed_job,
            on_progress=self.progressed,
            parent=self,
        )

    def _backup_work(self, path: Path, secret: str) -> Callable[[Progress], object]:
        def work(progress: Progress) -> object:
            return backup.make_backup(self.station, self.actor, path, secret, progress)

        return work

    def _restore_work(self, path: Path, secret: str) -> Callable[[Progress], object]:
        def work(progress: Progress) -> object:
            return restore.restore_over(self.station, self.actor, path, secret, progress)

        return work

    def progressed(self, done: int, total: int, message: str) -> None:
        self.bar.setRange(0, max(total, 0))
        self.bar.setValue(min(done, total) if total else 0)
        if message:
            self.outcome.setText(message)

    def finished_job(self, report: object) -> None:
        self.job = None
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        if isinstance(report, backup.BackupReport):
            self.outcome.setText(
                f"Backed up to {report.file} ({report.bytes / 1e6:.1f} MB): "
                f"{report.vault_files} vault files, {report.audit_entries} audit entries."
            )
            self.start_button.setEnabled(True)
            return
        assert isinstance(report, restore.RestoreReport)
        self.outcome.setText(
            f"Restored {report.archive.name} (made {report.made_at[:16]}): "
            f"{report.tables.get('children', 0)} children, {report.tables.get('photos', 0)} "
            f"photos, {report.audit_entries} audit entries; the audit chain verified."
        )
        box = inform(
            self, "Restored", "The backup is restored. The app will now close; start it again."
        )
        window = self.parent()
        if isinstance(window, QWidget):
            box.finished.connect(window.close)

    def failed_job(self, exc: BaseException) -> None:
        self.job = None
        self.start_button.setEnabled(True)
        self.outcome.setText("")
        show_error(self, exc, "restoring the backup" if self.restoring else "backing up")

    def cancel_or_close(self) -> None:
        if self.job is not None and self.job.running:
            self.job.cancel()
            return
        self.reject()


def remind_backup(parent: QWidget, station: Station, actor: Actor) -> QDialog | None:
    """At start, tell an admin when no backup was made for `backup.remind_days`."""
    if actor.role is not Role.ADMIN:
        return None
    try:
        text = backup.backup_reminder(station)
    except ServiceError:
        return None
    return None if text is None else inform(parent, "Backup", text)
