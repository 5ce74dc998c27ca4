"""The one JSON protocol of reports: what `--json` prints is derived from a report's fields."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import ClassVar

import pytest

from ijs_vetting.json_report import JsonFields, json_value


class Colour(enum.StrEnum):
    RED = "red"


@dataclass(frozen=True)
class Inner(JsonFields):
    when: date


@dataclass
class Outer(JsonFields):
    json_names: ClassVar[dict[str, str]] = {"mis_id": "id"}
    json_skip: ClassVar[frozenset[str]] = frozenset({"secret"})

    mis_id: str
    colour: Colour
    at: datetime
    file: Path
    inner: Inner
    shown: tuple[str, ...]
    secret: bytes = b"encoding"
    counts: dict[str, Inner] = field(default_factory=dict)


def test_fields_become_plain_json_in_order_renamed_and_skipped() -> None:
    report = Outer(
        mis_id="D100001",
        colour=Colour.RED,
        at=datetime(2026, 12, 4, 9, 30, tzinfo=UTC),
        file=Path("/school/out.json"),
        inner=Inner(date(2026, 9, 1)),
        shown=("A", "B"),
        counts={"6C": Inner(date(2027, 1, 2))},
    )
    out = report.as_json()
    assert list(out) == ["id", "colour", "at", "file", "inner", "shown", "counts"]
    assert out == {
        "id": "D100001",
        "colour": "red",
        "at": "2026-12-04T09:30:00+00:00",
        "file": "/school/out.json",
        "inner": {"when": "2026-09-01"},
        "shown": ["A", "B"],
        "counts": {"6C": {"when": "2027-01-02"}},
    }
    json.dumps(out)  # plain: no `default` needed


def test_json_value_leaves_plain_values_alone() -> None:
    assert json_value({"a": [1, None, True, "x", 0.5]}) == {"a": [1, None, True, "x", 0.5]}


def test_a_class_that_is_not_a_dataclass_is_refused() -> None:
    class Loose(JsonFields):
        pass

    with pytest.raises(AssertionError, match="not a dataclass"):
        Loose().as_json()
