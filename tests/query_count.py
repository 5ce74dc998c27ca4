"""Counting the SQL statements a piece of code runs, for "one query per table" tests.

A service that answers for a whole school must not issue a query per photo or per child: the
count of statements stays the same whether the station holds three children or three hundred.
`count_statements` listens on the engine (SQLAlchemy's `before_cursor_execute` event), so it sees
every statement from every session and connection of that engine, ORM lazy loads included.

    with count_statements(station.engine) as counted:
        children.list_children(station)
    assert counted.total <= 6, counted.statements
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event


@dataclass
class Counted:
    """The statements seen, in order (SQL text, without parameters)."""

    statements: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.statements)

    def matching(self, word: str) -> list[str]:
        """The statements that mention `word` (a table name, say), case-insensitively."""
        return [s for s in self.statements if word.lower() in s.lower()]


@contextmanager
def count_statements(engine: Engine) -> Iterator[Counted]:
    """Count every statement `engine` runs inside the block (BEGIN/COMMIT are not statements
    the driver sees here, so they do not count)."""
    counted = Counted()

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counted.statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", seen)
