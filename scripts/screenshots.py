"""Screenshots of every screen on a demo station, as a person would see them.

Run `make screenshots` (it wraps this in xvfb-run twice: 1366x768 at 100% and at 150% scaling).
Images go to screenshots/<scale>/<screen>.png; look at them after changing a screen.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from ijs_vetting import demo
from ijs_vetting.domain import Role
from ijs_vetting.gui.admin_dialogs import SettingsDialog, UsersDialog
from ijs_vetting.gui.app import make_app
from ijs_vetting.gui.backup_dialogs import BackupDialog
from ijs_vetting.gui.child_dialog import ChildDialog
from ijs_vetting.gui.device_dialog import DevicesDialog
from ijs_vetting.gui.log_view import LogDialog
from ijs_vetting.gui.login import LoginDialog
from ijs_vetting.gui.main_window import SECTIONS, MainWindow
from ijs_vetting.gui.roster_dialog import RosterDialog
from ijs_vetting.gui.sheet_dialog import SheetDialog
from ijs_vetting.gui.text_post import TextPostDialog
from ijs_vetting.gui.who_is_this import WhoIsThisDialog
from ijs_vetting.services.core.station import Actor, Station, open_station
from ijs_vetting.services.intake import photos
from ijs_vetting.services.posting import clearing
from ijs_vetting.services.register import children


def dialog_shots(
    station: Station, actor: Actor, window: MainWindow
) -> list[tuple[str, Callable[[], QWidget]]]:
    """Every dialog, opened as the user opens it, over the main window."""
    first_child = children.list_children(station)[0].mis_id
    roster_file = station.paths.home / "demo" / "roster.csv"
    shots: list[tuple[str, Callable[[], QWidget]]] = [
        ("login", lambda: LoginDialog(station, window)),
        ("settings", lambda: SettingsDialog(station, actor, window)),
        ("users", lambda: UsersDialog(station, actor, window)),
        ("child", lambda: ChildDialog(station, actor, first_child, window)),
        ("devices", lambda: DevicesDialog(station, actor, window)),
        ("sheet", lambda: SheetDialog(station, actor, window)),
        ("log", lambda: LogDialog(station.paths, window)),
        ("backup", lambda: BackupDialog(station, actor, False, window)),
        ("restore", lambda: BackupDialog(station, actor, True, window)),
        ("text-post", lambda: TextPostDialog(station, actor, window)),
    ]
    if roster_file.exists():
        shots.append(
            ("roster", lambda: _previewed(RosterDialog(station, actor, roster_file, window)))
        )
    return shots


def _previewed(dialog: RosterDialog) -> RosterDialog:
    dialog.preview()
    return dialog


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")
    scale = os.environ.get("QT_SCALE_FACTOR", "1")
    folder = out / f"scale-{scale}"
    folder.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="ijs-shots-"))
    station = open_station(str(home), url=f"sqlite:///{home / 'station.db'}")
    actor = Actor("office-admin", Role.ADMIN)
    demo.load_demo(station, actor, home / "demo")
    ready = [p.id for p in photos.list_photos(station) if p.status.value == "ready"]
    clearing.clear_photos(station, actor, ready[:1], caption="Sports day in 5H")
    app = make_app()
    window = MainWindow(station, actor)
    window.resize(1366, 740)
    window.show()
    shots = list(SECTIONS)
    dialogs = dialog_shots(station, actor, window)

    def next_shot() -> None:
        if not shots:
            window.review_page.thumbs.wait()
            next_dialog()
            return
        section = shots.pop(0)
        if section == "review-views":
            review_views()
            return
        window.navigation.setCurrentRow(SECTIONS.index(section))
        if section == "review":
            review = window.review_page
            review.filters.status.setCurrentIndex(review.filters.status.count() - 1)
            review.select_photo(next(p.id for p in review.model._photos if len(p.faces) == 2))
        QTimer.singleShot(
            1500, lambda: (window.grab().save(str(folder / f"{section}.png")), next_shot())
        )

    def next_dialog() -> None:
        if not dialogs:
            app.quit()
            return
        name, make = dialogs.pop(0)
        dialog = make()
        dialog.show()

        def grab() -> None:
            dialog.grab().save(str(folder / f"dialog-{name}.png"))
            dialog.close()
            next_dialog()

        QTimer.singleShot(700, grab)

    def review_views() -> None:
        """The 8-face group with face 3 selected, then the "Who is this?" view."""
        window.navigation.setCurrentRow(SECTIONS.index("review"))
        review = window.review_page
        review.select_photo(next(p.id for p in review.model._photos if len(p.faces) == 8))
        review.faces.select_number(3)

        def who() -> None:
            window.grab().save(str(folder / "review-group.png"))
            dialog = WhoIsThisDialog(station, actor, parent=window)
            dialog.show()
            QTimer.singleShot(
                1500,
                lambda: (
                    dialog.grab().save(str(folder / "who-is-this.png")),
                    dialog.close(),
                    next_shot(),
                ),
            )

        QTimer.singleShot(1500, who)

    shots.insert(0, "review-views")
    QTimer.singleShot(500, next_shot)
    app.exec()
    print(f"screenshots in {folder}")
    return 0


if __name__ == "__main__":
    QApplication.setApplicationName("IJS vetting station")
    sys.exit(main())
