"""Refusals in the office's words, the same sentence the GUI's tooltips use."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import ijs_vetting.services as services
from ijs_vetting.domain import PermissionDenied, Role
from ijs_vetting.services.core.permissions import DOING, refusal, who
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.posting import clearing


def test_who_names_the_roles_in_plain_words() -> None:
    assert who((Role.SLT, Role.ADMIN)) == "SLT or an admin"
    assert who((Role.ADMIN,)) == "an admin"
    assert who(tuple(Role)) == "SLT, an admin or staff"
    assert refusal("queue.clear", (Role.ADMIN, Role.SLT)) == (
        "Only SLT or an admin can clear photos."
    )


def test_a_refused_clear_says_who_can_clear_and_is_audited(
    sqlite_station: Station, staff: Actor
) -> None:
    with pytest.raises(PermissionDenied) as refused:
        clearing.clear_photos(sqlite_station, staff, [1])
    assert str(refused.value) == "Only SLT or an admin can clear photos."
    assert "queue.clear" not in str(refused.value)


def test_every_audited_action_has_words() -> None:
    """An action without words would be refused as 'do this': each one the services check."""
    actions: set[str] = set()
    root = Path(services.__file__).parent
    for path in root.rglob("*.py"):
        dotted = ".".join(path.relative_to(root).with_suffix("").parts)
        module = importlib.import_module(f"ijs_vetting.services.{dotted}")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("write", "require")
                and len(node.args) >= 2
            ):
                action = node.args[1]
                if isinstance(action, ast.Constant) and isinstance(action.value, str):
                    actions.add(action.value)
                elif isinstance(action, ast.Name) and isinstance(
                    getattr(module, action.id, 0), str
                ):
                    actions.add(getattr(module, action.id))
    assert actions and actions <= set(DOING), actions - set(DOING)
