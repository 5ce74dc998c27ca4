"""Screenshots of every screen on a demo station, as a person would see them.

Run `make screenshots` (it wraps this in xvfb-run twice: 1366x768 at 100% and at 150% scaling).
Images go to screenshots/<scale>/<screen>.png; look at them after changing a screen.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from ijs_vetting import demo
from ijs_vetting.domain import Role
from ijs_vetting.gui.app import make_app
from ijs_vetting.gui.main_window import SECTIONS, MainWindow
from ijs_vetting.gui.who_is_this import WhoIsThisDialog
from ijs_vetting.services import clearing, photos
from ijs_vetting.services.station import Actor, open_station


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

    def next_shot() -> None:
        if not shots:
            window.review_page.thumbs.wait()
            app.quit()
            return
        section = shots.pop(0)
        if section == "review-views":
            review_views()
            return
        window.navigation.setCurrentRow(SECTIONS.index(section))
        if section == "review":
            review = window.review_page
            review.status_filter.setCurrentIndex(review.status_filter.count() - 1)
            review.select_photo(next(p.id for p in review.model._photos if len(p.faces) == 2))
        QTimer.singleShot(1500, lambda: (window.grab().save(str(folder / f"{section}.png")),
                                         next_shot()))

    def review_views() -> None:
        """The 8-face group with face 3 selected, then the "Who is this?" view."""
        window.navigation.setCurrentRow(SECTIONS.index("review"))
        review = window.review_page
        review.select_photo(next(p.id for p in review.model._photos if len(p.faces) == 8))
        review.select_face_number(3)

        def who() -> None:
            window.grab().save(str(folder / "review-group.png"))
            dialog = WhoIsThisDialog(station, actor, parent=window)
            dialog.show()
            QTimer.singleShot(1500, lambda: (dialog.grab().save(str(folder / "who-is-this.png")),
                                             dialog.close(), next_shot()))

        QTimer.singleShot(1500, who)

    shots.insert(0, "review-views")
    QTimer.singleShot(500, next_shot)
    app.exec()
    print(f"screenshots in {folder}")
    return 0


if __name__ == "__main__":
    QApplication.setApplicationName("IJS vetting station")
    sys.exit(main())
