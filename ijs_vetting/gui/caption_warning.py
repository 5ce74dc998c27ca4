"""The caption check beside a caption box: the platform's count and the children it names.

Shown as the caption is typed (the services refuse such a caption when it is used); SLT confirm
a caption that names children with one question, which the service then audits.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from ijs_vetting.services.posting.caption_check import CaptionReport

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


def confirm_names(parent: QWidget, report: CaptionReport) -> bool | None:
    """Whether to send the caption with `allow_names`: False when nothing is named, True when
    the user confirms, None when they go back to change it."""
    if not report.found:
        return False
    warning = report.warning()
    answer = QMessageBox.question(
        parent,
        "Caption names children",
        f"{warning[:1].upper()}{warning[1:]}.\n\nOnly SLT or an admin may confirm such a "
        "caption, and it is recorded in the audit log. Use this caption anyway?",
    )
    return True if answer == QMessageBox.StandardButton.Yes else None
