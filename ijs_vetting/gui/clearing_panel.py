"""The Review page's clearing controls: account, caption, Clear and Reject for the photos chosen.

Apart from the page because they act on a batch (the selection, or the photo shown), not on a
face: the page tells them which photos, they say when photos left for the queue (`changed`).
Staff see them off, with who can use them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressDialog,
    QPushButton,
    QWidget,
)

from ijs_vetting.domain import ServiceError
from ijs_vetting.gui.caption_warning import confirm_names, show_report
from ijs_vetting.gui.errors import ask, inform, show_error
from ijs_vetting.gui.jobs import Job, LatestRead, start_job
from ijs_vetting.gui.uiload import child
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake.photos import PhotoInfo
from ijs_vetting.services.posting import accounts, clearing, rejecting
from ijs_vetting.services.posting.caption_check import CaptionReport
from ijs_vetting.services.posting.caption_preview import preview_for_photos
from ijs_vetting.services.posting.queue import QUEUE_ROLES

CLEAR_ROLES_WORDS = "Only SLT or an admin can clear or reject photos."
FROM_YEAR_GROUPS = "From the year groups shown"


class ClearingPanel(QObject):
    """Clear (in the background, cancellable) or reject `targets()`, with the account and
    caption chosen here; `changed` fires when photos left for the queue or were rejected."""

    changed = Signal()

    def __init__(
        self,
        page: QWidget,
        station: Station,
        actor: Actor,
        targets: Callable[[], list[PhotoInfo]],
    ) -> None:
        super().__init__(page)
        self.page, self.station, self.actor, self.targets = page, station, actor, targets
        self.account = child(page, QComboBox, "accountCombo")
        self.caption = child(page, QLineEdit, "captionEdit")
        self.caption_counter = child(page, QLabel, "captionCounter")
        self.caption.textChanged.connect(self._count_caption)
        # The photos the caption was typed for: it is emptied when the selection becomes
        # others, so a caption naming one photo's child never goes out with the next photo.
        self._captioned: frozenset[int] = frozenset()
        self.caption.textEdited.connect(
            lambda _text: setattr(self, "_captioned", frozenset(p.id for p in self.targets()))
        )
        self._count_caption("")
        child(page, QPushButton, "clearButton").clicked.connect(self.clear)
        child(page, QPushButton, "rejectButton").clicked.connect(self.reject)
        self.job: Job | None = None
        self.may_clear = actor.role in QUEUE_ROLES
        self.clear_button = child(page, QPushButton, "clearButton")
        for name in ("clearButton", "rejectButton"):
            button = child(page, QPushButton, name)
            button.setEnabled(self.may_clear)
            if not self.may_clear:
                button.setToolTip(CLEAR_ROLES_WORDS)
        # Where each chosen photo would go by itself (None: a person must choose), read off
        # the GUI thread: "Select ready" on a school's year of photos is a query of seconds'
        # worth of rows (120 ms for 11,000 photos, measured). Clear reads them again itself.
        self._routes: dict[int, str | None] = {}
        self._files: dict[int, str] = {}
        self._wanted: list[int] = []
        self._route_read = LatestRead(
            lambda: (wanted := list(self._wanted), accounts.routes(self.station, wanted)),
            self._show_routes,
            lambda exc: show_error(page, exc, "reading where the photos go"),
            self,
        )
        self.account.currentIndexChanged.connect(lambda _index: self._gate_clear())

    def set_accounts(self, handles: Sequence[str]) -> None:
        """The active accounts to offer; the one chosen stays chosen if it is still offered."""
        chosen = self.account.currentData()
        self.account.clear()
        self.account.addItem(FROM_YEAR_GROUPS, None)
        for handle in handles:
            self.account.addItem(handle, handle)
        self.account.setCurrentIndex(max(self.account.findData(chosen), 0))

    def targets_changed(self) -> None:
        """The photos chosen changed: name the account they would go to, count the caption.
        The photos are read from the grid once here (every ready photo of a year is 11,000)."""
        targets = self.targets()
        ids = [p.id for p in targets]
        if self.caption.text() and frozenset(ids) != self._captioned:
            self.caption.clear()
        self._files = _clearable(targets)
        self._wanted = list(self._files)
        self._route_read.request()
        show_report(self.caption_counter, self._caption_report(self.caption.text(), ids))

    @property
    def routing(self) -> bool:
        """Where the chosen photos go is being read (the Account box shows it once read)."""
        return self._route_read.running

    def _show_routes(self, read: tuple[list[int], dict[int, str | None]]) -> None:
        wanted, routes = read
        if wanted != self._wanted:  # the selection changed meanwhile: its own read follows
            return
        self._routes = routes
        self.account.setItemText(0, _from_year_groups(routes))
        self._gate_clear()

    def _gate_clear(self) -> None:
        """Clear is offered only when every chosen photo has somewhere to go: a photo no year
        group routes needs an account chosen first (before, it was masked, checked and then
        refused)."""
        if not self.may_clear:
            return
        unrouted = (
            _unrouted(self._routes, self._files) if self.account.currentData() is None else []
        )
        self.clear_button.setEnabled(not unrouted)
        self.clear_button.setToolTip(_choose_for(unrouted) if unrouted else "")

    def _caption_report(self, text: str, ids: list[int] | None = None) -> CaptionReport:
        chosen = [p.id for p in self.targets()] if ids is None else ids
        return preview_for_photos(self.station, text, chosen, self.account.currentData())

    def _count_caption(self, text: str) -> None:
        show_report(self.caption_counter, self._caption_report(text))

    def clear(self) -> None:
        """Clear the photos chosen as one batch, in the background."""
        targets = self.targets()
        if not targets or (self.job is not None and self.job.running):
            return
        ids = [p.id for p in targets]
        account, caption = self.account.currentData(), self.caption.text()
        files = _clearable(targets)
        routes = accounts.routes(self.station, list(files))  # as they are now
        if account is None and (unrouted := _unrouted(routes, files)):
            self._say(_choose_for(unrouted))
            self.account.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        elsewhere = sorted({p.file for p in targets if routes.get(p.id) not in (None, account)})
        if (
            account is not None
            and elsewhere
            and not ask(
                self.page,
                f"Clear to {account}?",
                f"{_files(elsewhere)} {'shows' if len(elsewhere) == 1 else 'show'} children whose "
                f"year group posts to another account. Clear {len(ids)} photo(s) to {account} "
                "all the same?",
            )
        ):
            return
        allow_names = confirm_names(self.page, self._caption_report(caption), self.actor)
        if allow_names is None:
            return
        dialog = QProgressDialog(
            f"Masking and checking {len(ids)} photo(s)…", "Cancel", 0, 0, self.page
        )
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)

        def done(result: Any) -> None:
            dialog.reset()
            self._cleared(result)

        def failed(exc: BaseException) -> None:
            dialog.reset()
            show_error(self.page, exc, "clearing photos")

        self.job = start_job(
            lambda progress: clearing.clear_photos(
                self.station,
                self.actor,
                ids,
                account=account,
                caption=caption,
                progress=progress,
                allow_names=allow_names,
            ),
            on_done=done,
            on_error=failed,
            parent=self.page,
        )
        dialog.canceled.connect(self.job.cancel)

    def _cleared(self, result: Any) -> None:
        assert isinstance(result, clearing.ClearResult)
        lines = [f"<p>{len(result.cleared)} photo(s) cleared to the posting queue.</p>"]
        if result.refused:
            rows = "".join(
                f"<li>{escape(r.words)}{' (in the Account box)' if r.needs_account else ''}</li>"
                for r in result.refused
            )
            lines.append(f"<p>Not cleared:</p><ul>{rows}</ul>")
        inform(self.page, "Clear for posting", "".join(lines))
        if result.cleared:  # a refused photo keeps the caption typed for it
            self.caption.clear()
        self.changed.emit()

    def _say(self, text: str) -> None:
        window = self.page.window()
        if isinstance(window, QMainWindow):
            window.statusBar().showMessage(text, 10_000)

    def reject(self) -> None:
        targets = self.targets()
        if not targets:
            return
        which = targets[0].file if len(targets) == 1 else f"these {len(targets)} photos"
        question = (
            f"Reject {which} for good? A rejected photo is never posted, and this cannot be "
            "undone.\n\nWhy is it rejected?"
        )
        reason = ""
        while not reason.strip():  # asked again, not refused after the dialog has gone
            reason, ok = QInputDialog.getText(self.page, "Reject", question)
            if not ok:
                return
            question = f"A reason is needed: it is kept in the audit log.\n\n{question}"
        try:
            result = rejecting.reject_photos(
                self.station, self.actor, [p.id for p in targets], reason
            )
        except ServiceError as exc:
            show_error(self.page, exc, "rejecting photos")
            return
        if result.refused:
            rows = "".join(f"<li>{escape(r.words)}</li>" for r in result.refused)
            inform(self.page, "Reject", f"<p>Not rejected:</p><ul>{rows}</ul>")
        if result.rejected:  # the photo leaves the grid
            files = [p.file for p in targets if p.id in result.rejected]
            done = files[0] if len(files) == 1 else f"{len(files)} photos"
            self._say(f"{done} rejected: never to be posted.")
        self.changed.emit()


def _clearable(targets: Sequence[PhotoInfo]) -> dict[int, str]:
    """The photos whose account matters now (id -> file name): one still to review is refused
    for that first."""
    return {p.id: p.file for p in targets if p.status in clearing.CLEARABLE}


def _unrouted(routes: dict[int, str | None], files: dict[int, str]) -> list[str]:
    """The photos that no year group sends anywhere, by file name."""
    return [files[i] for i, handle in routes.items() if handle is None and i in files]


def _files(names: Sequence[str]) -> str:
    shown = ", ".join(names[:3])
    return shown if len(names) <= 3 else f"{shown} and {len(names) - 3} more"


def _from_year_groups(routes: dict[int, str | None]) -> str:
    """The Account box's first entry: where the chosen photos go by their year groups."""
    handles = set(routes.values())
    if not handles:
        return FROM_YEAR_GROUPS
    if None in handles:
        return f"{FROM_YEAR_GROUPS} (choose one)"
    if len(handles) == 1:
        return f"{FROM_YEAR_GROUPS} ({handles.pop()})"
    return f"{FROM_YEAR_GROUPS} (each to its own account)"


def _choose_for(files: Sequence[str]) -> str:
    return (
        f"Choose the account for {_files(files)} in the Account box: no child shown in "
        f"{'it' if len(files) == 1 else 'them'} says which year group's account."
    )
