"""One JSON protocol for what services report: `as_json()` gives the fields scripts read.

The command line prints a report's `as_json()` with `--json`; those fields are a contract for
scripts outside the project, so every report speaks the same way: a dict of plain values (dates
as ISO text, enums as their value, paths as text, nested reports as their own `as_json()`).
`JsonFields` derives that dict from a dataclass's fields, so a new field reaches scripts without
a second list to keep in step; a report whose JSON is shaped differently from its fields (a
renamed key, a count, a summary) overrides `as_json` and still converts through `json_value`.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import PurePath
from typing import Any, ClassVar, Protocol


class JsonReport(Protocol):
    """Anything a command can print with `--json`."""

    def as_json(self) -> dict[str, Any]: ...


def json_value(value: Any) -> Any:
    """`value` as plain JSON: what `json.dumps` takes without a `default`."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if hasattr(value, "as_json"):
        return value.as_json()
    if isinstance(value, Mapping):
        return {key: json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_value(item) for item in value]
    return value


class JsonFields:
    """A dataclass mixin: `as_json()` is its fields in order, converted by `json_value`.

    `json_names` renames a field for scripts (the register's `mis_id` has always been `id`);
    `json_skip` keeps a field out (one that holds what scripts must not see, or only the GUI
    uses)."""

    json_names: ClassVar[Mapping[str, str]] = {}
    json_skip: ClassVar[frozenset[str]] = frozenset()

    def as_json(self) -> dict[str, Any]:
        assert dataclasses.is_dataclass(self), f"{type(self).__name__} is not a dataclass"
        return {
            self.json_names.get(f.name, f.name): json_value(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.name not in self.json_skip
        }
