"""Offering only what the user's role may do.

A button or action the role cannot use is disabled (or hidden) with a tooltip saying who can,
in the same words the service would refuse with, so nobody is offered Clear and refused after.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from ijs_vetting.domain import Role
from ijs_vetting.services.core.permissions import allows, refusal
from ijs_vetting.services.core.station import Actor


def gate(
    control: QWidget | QAction,
    actor: Actor,
    action: str,
    roles: Iterable[Role],
    *,
    hide: bool = False,
) -> bool:
    """Leave `control` as it is when `actor` may do `action`; else disable (or hide) it, its
    tooltip saying who can. Returns whether the actor may."""
    roles = tuple(roles)
    if allows(actor.role, roles):
        return True
    control.setEnabled(False)
    control.setToolTip(refusal(action, roles))
    if hide:
        control.setVisible(False)
    return False
