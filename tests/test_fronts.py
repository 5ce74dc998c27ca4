"""The fronts (GUI, CLI, demo, scripts) reach data only through services.

`Station.engine`, `.sessions` and `.vault` are the services' own: a front that opened the vault
itself would skip the checks a service makes on every read (hashes, seals, roles). Python has no
package-private attributes, so this reads the fronts' source for any use of those names.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRONTS = [
    ROOT / "ijs_vetting" / "gui",
    ROOT / "ijs_vetting" / "cli",
    ROOT / "ijs_vetting" / "demo.py",
]
INTERNALS = {"engine", "sessions", "vault"}


def _sources() -> list[Path]:
    return [p for front in FRONTS for p in ([front] if front.is_file() else front.rglob("*.py"))]


def _on_a_station(node: ast.Attribute) -> bool:
    """`station.vault`, `self.station.engine`, `self._station.sessions` (not `args.vault`)."""
    base = node.value
    name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
    return "station" in name


def test_no_front_touches_the_stations_internals() -> None:
    uses = [
        f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}"
        for path in _sources()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr in INTERNALS and _on_a_station(node)
    ]
    assert len(_sources()) > 20  # the scan reads the fronts, not an empty list
    assert uses == []
