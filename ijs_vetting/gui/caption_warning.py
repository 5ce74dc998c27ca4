"""The caption check beside a caption box: the platform's count and the children it names.

Shown as the caption is typed (the services refuse such a caption when it is used); SLT confirm
a caption that names children with one question, which the service then audits.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from ijs_vetting.gui.errors import ask
from ijs_vetting.services.core.permissions import allows
from ijs_vetting.services.core.station import Actor
from ijs_vetting.services.posting.caption_check import OVERRIDE_ROLES, CaptionReport

WARNING_STYLE = "color: #a4262c; font-weight: bold;"


def show_report(label: QLabel, report: CaptionReport) -> None:
    """'37/140' beside the caption, with what is wrong in red and in full in the tooltip."""
    text = f"{report.length}/{report.limit}"
    if report.found:
        names = ", ".join(dict.fromkeys(f.words for f in report.found))
        text += f"  ⚠ names {names}"
    label.setText(text)
    label.setToolTip(report.warning())
    label.setStyleSheet(WARNING_STYLE if report.found or report.too_long else "")


def confirm_names(parent: QWidget, report: CaptionReport, actor: Actor) -> bool | None:
    """Whether to send the caption with `allow_names`: False when nothing is named, True when
    SLT or an admin confirm (No by default), None to go back and change it. Staff are told
    once that the words must change (asked, they were refused after saying yes)."""
    if not report.found:
        return False
    warning = report.warning()
    said = f"{warning[:1].upper()}{warning[1:]}."
    if not allows(actor.role, OVERRIDE_ROLES):
        QMessageBox.warning(
            parent,
            "Caption names children",
            f"{said}\n\nOnly SLT or an admin may confirm such a caption: change the words, or "
            "ask them.",
        )
        return None
    confirmed = ask(
        parent,
        "Caption names children",
        f"{said}\n\nOnly SLT or an admin may confirm such a caption, and it is recorded in the "
        "audit log. Use this caption anyway?",
    )
    return True if confirmed else None
